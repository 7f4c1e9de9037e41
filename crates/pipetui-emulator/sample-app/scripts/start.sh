#!/bin/sh
set -e
cat opt/orders/VERSION > running 2>/dev/null || echo dev > running
echo "Started orders $(cat running) on ${HOST_NAME:-this host}"
