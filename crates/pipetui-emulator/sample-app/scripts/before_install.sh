#!/bin/sh
set -e
echo "Preparing $(pwd) for the new revision"
mkdir -p logs
