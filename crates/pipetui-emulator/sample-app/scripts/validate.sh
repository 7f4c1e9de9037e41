#!/bin/sh
# ValidateService: prices a known order with the installed release.
set -e
total=$(printf 'apple 2\n' | sh opt/orders/orders.sh price)
if [ "$total" != "100" ]; then
    echo "validation failed: expected 100, got $total"
    exit 1
fi
if [ -f opt/orders/switches/fail-hook ] && [ "${HOST_INDEX:-0}" = "0" ]; then
    echo "validation failed: switches/fail-hook is present"
    exit 1
fi
echo "orders answers correctly"
