#!/usr/bin/env bash
# End-to-end benchmark of `lockgraph check` on application code, per language: generates a tree
# of realistic service code with that language's generator (crates/lockgraph_source/examples/
# gen_<lang>.rs: models, repositories called across files from services inside transactions,
# branches, loops, plain code), then times `lockgraph check DIR --format json` and prints lines
# per second (wall, and per CPU second: files are parsed on every core, the rest runs on one) and
# peak memory.
#
#   scripts/bench-source.sh                          # every language, 200k lines each
#   LANGS="python go" LINES=500000 scripts/bench-source.sh
#
# Environment: LANGS (default "python go java js ruby rust"), LINES (default 200000),
# CARGO_TARGET_DIR (default target-bench), BENCH_TMPDIR (default: a new directory under
# ${TMPDIR:-/tmp}, removed at exit). Needs cargo and GNU time (/usr/bin/time; Debian `time`).
set -euo pipefail
cd "$(dirname "$0")/.."

LANGS=${LANGS:-"python go java js ruby rust"}
LINES=${LINES:-200000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target-bench}
[[ $LINES =~ ^[0-9]+$ && $LINES -gt 0 ]] || { echo "bench-source: LINES must be a number" >&2; exit 1; }
if [ ! -x /usr/bin/time ] || ! /usr/bin/time --version 2>&1 | grep -q GNU; then
    echo "bench-source: GNU time (/usr/bin/time) not found: sudo apt-get install -y time" >&2
    exit 1
fi
TMP=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/lockgraph-src.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

echo "== building (release, CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
cargo build --release --quiet -p lockgraph_cli
for lang in $LANGS; do
    [ -f "crates/lockgraph_source/examples/gen_$lang.rs" ] || { echo "bench-source: no generator for '$lang'" >&2; exit 1; }
    cargo build --release --quiet -p lockgraph_source --example "gen_$lang"
done
LOCKGRAPH=$CARGO_TARGET_DIR/release/lockgraph
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
echo "== machine: $(nproc) cores${cpu:+ ($cpu)}, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(rustc --version)"
printf '%-8s %7s %10s %8s %8s %7s %13s %15s %11s %12s %9s\n' lang files lines "wall s" "user s" "sys s" "lines/s wall" "lines/s per CPU" "peak RSS MB" transactions findings

for lang in $LANGS; do
    tree=$TMP/$lang
    "$CARGO_TARGET_DIR/release/examples/gen_$lang" "$tree" "$LINES" >/dev/null
    src=(-name '*.py' -o -name '*.go' -o -name '*.java' -o -name '*.kt' -o -name '*.js' -o -name '*.ts' -o -name '*.tsx' -o -name '*.rb' -o -name '*.rs')
    files=$(find "$tree" -type f \( "${src[@]}" \) | wc -l | tr -d ' ')
    lines=$(find "$tree" -type f \( "${src[@]}" \) -exec cat {} + | wc -l | tr -d ' ')
    rc=0
    /usr/bin/time -v -o "$TMP/time.txt" "$LOCKGRAPH" check "$tree" --format json >"$TMP/out.json" 2>"$TMP/err.txt" || rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
        echo "lockgraph check ($lang) exited with $rc:" >&2
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
    awk -v g="$lang" -v f="$files" -v l="$lines" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v t="$txns" -v n="$findings" 'BEGIN {
        printf "%-8s %7d %10d %8.2f %8.2f %7.2f %13.0f %15.0f %11s %12s %9s\n", g, f, l, w, u, s, l / w, l / (u + s), r, t, n }'
    rm -rf "$tree"
done
