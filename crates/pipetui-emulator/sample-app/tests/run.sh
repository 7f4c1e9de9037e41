#!/bin/sh
# The test suite: every case prints ok/FAIL; any failure makes the run exit 1.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
app="$here/src/orders.sh"
failed=0
check() {
    name=$1 expected=$2 got=$3
    if [ "$expected" = "$got" ]; then
        echo "ok   $name"
    else
        echo "FAIL $name: expected $expected, got $got"
        failed=1
    fi
}

check "single item" 100 "$(printf 'apple 2\n' | sh "$app" price)"
check "mixed basket" 1060 "$(printf 'apple 2\nbread 1\nbread 2\n' | sh "$app" price)"
check "discount over 50.00" 8010 "$(printf 'cheese 10\n' | sh "$app" price)"
if printf 'caviar 1\n' | sh "$app" price >/dev/null 2>&1; then
    check "unknown sku refused" refused accepted
else
    check "unknown sku refused" refused refused
fi
if [ -f "$here/switches/fail-tests" ]; then
    check "switch: switches/fail-tests is present" absent present
fi

if [ "$failed" -ne 0 ]; then
    echo "tests failed"
    exit 1
fi
echo "all tests passed"
