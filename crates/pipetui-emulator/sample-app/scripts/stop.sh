#!/bin/sh
# ApplicationStop: runs from the previous revision; nothing to stop on a fresh host.
if [ -f running ]; then
    echo "Stopping orders $(cat running)"
    rm -f running
else
    echo "orders is not running"
fi
