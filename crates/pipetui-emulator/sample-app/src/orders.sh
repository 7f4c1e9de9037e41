#!/bin/sh
# orders: prices an order given as "sku quantity" lines on stdin.
#   orders.sh price     < order.txt   -> total in cents
#   orders.sh version                 -> the release this host runs
set -eu

price_of() {
    case "$1" in
        apple) echo 50 ;;
        bread) echo 320 ;;
        cheese) echo 890 ;;
        *) echo "unknown sku: $1" >&2; return 1 ;;
    esac
}

case "${1:-}" in
    price)
        total=0
        while read -r sku qty; do
            [ -z "$sku" ] && continue
            unit=$(price_of "$sku")
            total=$((total + unit * qty))
        done
        # 10 % off orders over 50.00
        if [ "$total" -gt 5000 ]; then
            total=$((total - total / 10))
        fi
        echo "$total"
        ;;
    version)
        cat "$(dirname "$0")/VERSION" 2>/dev/null || echo dev
        ;;
    *)
        echo "usage: orders.sh price|version" >&2
        exit 64
        ;;
esac
