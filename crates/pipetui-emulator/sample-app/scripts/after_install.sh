#!/bin/sh
set -e
chmod +x opt/orders/orders.sh 2>/dev/null || true
echo "Installed orders $(cat opt/orders/VERSION 2>/dev/null || echo dev)"
