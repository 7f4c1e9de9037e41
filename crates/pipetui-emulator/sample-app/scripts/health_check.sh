#!/bin/sh
# Health of this host as "ErrorRate=<percent> Latency=<ms>"; the emulator publishes both to
# CloudWatch (namespace pipetui) where the deployment's alarms watch them.
if [ -f opt/orders/switches/fail-health ]; then
    echo "ErrorRate=50 Latency=2500"
else
    echo "ErrorRate=0 Latency=$((40 + $(date +%s) % 20))"
fi
