#!/usr/bin/env bash
# End-to-end benchmark of `lockgraph check` on application code: generates a tree of realistic
# Python service code (crates/lockgraph_source/examples/gen_python.rs: Django models and views,
# asyncpg repositories called across files from services, psycopg2 batch code, SQLAlchemy
# sessions), then times `lockgraph check DIR --format json` and prints lines per second (wall,
# and per CPU second: files are parsed on every core, the rest runs on one) and peak memory.
#
#   scripts/bench-python.sh                 # 500k lines
#   LINES=2000000 scripts/bench-python.sh   # bigger tree
#
# Environment: LINES (default 500000), CARGO_TARGET_DIR (default target-bench),
# BENCH_TMPDIR (default: a new directory under ${TMPDIR:-/tmp}, removed at exit).
# Needs cargo and GNU time (/usr/bin/time; Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."

LINES=${LINES:-500000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target-bench}
[[ $LINES =~ ^[0-9]+$ && $LINES -gt 0 ]] || { echo "bench-python: LINES must be a number" >&2; exit 1; }
if [ ! -x /usr/bin/time ] || ! /usr/bin/time --version 2>&1 | grep -q GNU; then
    echo "bench-python: GNU time (/usr/bin/time) not found: sudo apt-get install -y time" >&2
    exit 1
fi
TMP=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/lockgraph-py.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

echo "== building (release, CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
cargo build --release --quiet -p lockgraph_cli
cargo build --release --quiet -p lockgraph_source --example gen_python
LOCKGRAPH=$CARGO_TARGET_DIR/release/lockgraph

"$CARGO_TARGET_DIR/release/examples/gen_python" "$TMP/tree" "$LINES"
files=$(find "$TMP/tree" -name '*.py' | wc -l | tr -d ' ')
lines=$(find "$TMP/tree" -name '*.py' -exec cat {} + | wc -l | tr -d ' ')
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
echo "== machine: $(nproc) cores${cpu:+ ($cpu)}, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(rustc --version)"
echo "== tree: $files files, $lines lines of Python"

rc=0
/usr/bin/time -v -o "$TMP/time.txt" "$LOCKGRAPH" check "$TMP/tree" --format json >"$TMP/out.json" 2>"$TMP/err.txt" || rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
    echo "lockgraph check exited with $rc:" >&2
    tail -n 20 "$TMP/err.txt" >&2
    exit 1
fi
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); if (n == 3) print p[1] * 3600 + p[2] * 60 + p[3]; else print p[1] * 60 + p[2] }' "$TMP/time.txt")
user=$(awk -F': ' '/User time/ { print $2 }' "$TMP/time.txt")
sys=$(awk -F': ' '/System time/ { print $2 }' "$TMP/time.txt")
rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$TMP/time.txt")
# The summary comes first in the JSON report.
txns=$(awk -F': ' '/"transactions":/ { gsub(/[^0-9]/, "", $2); print $2; exit }' "$TMP/out.json")
findings=$(awk -F': ' '/"findings":/ { gsub(/[^0-9]/, "", $2); print $2; exit }' "$TMP/out.json")
printf '%-10s %10s %9s %9s %14s %16s %13s %14s\n' lines "wall s" "user s" "sys s" "lines/s wall" "lines/s per CPU" "peak RSS MB" "transactions"
awk -v l="$lines" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v t="$txns" 'BEGIN {
    printf "%-10d %10.2f %9.2f %9.2f %14.0f %16.0f %13s %14s\n", l, w, u, s, l / w, l / (u + s), r, t }'
echo "findings: $findings (exit $rc)"
