#!/usr/bin/env bash
# Renders the HTML report of a real run on samples/ and screenshots it with headless Chromium
# (Debian package `chromium`). Usage: scripts/report-screenshot.sh [check|logs] [OUT.png]
# Default: the `lockgraph check samples/shop` report into docs/report.png.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-check}"
out="${2:-docs/report.png}"
cargo build -q -p lockgraph_cli
bin="${CARGO_TARGET_DIR:-target}/debug/lockgraph"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
case "$mode" in
  check) "$bin" check samples/shop --no-config --format html > "$tmp/report.html" || [ $? -eq 1 ] ;;
  logs) "$bin" logs samples/logs/postgresql.log --no-progress --no-config --format html > "$tmp/report.html" || [ $? -eq 1 ] ;;
  *) echo "usage: $0 [check|logs] [OUT.png]" >&2; exit 2 ;;
esac
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$tmp/profile" \
  --window-size=1280,1500 --screenshot="$PWD/$out" "file://$tmp/report.html" 2>/dev/null
echo "wrote $out"
