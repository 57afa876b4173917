#!/usr/bin/env bash
# Memory under a session flood: logs where N sessions each BEGIN and UPDATE and never end,
# for N = 1× and 4× (default 250,000 and 1,000,000); prints the log size, wall time and peak
# RSS of `lockgraph logs FILE --format json` on each, and how many open transactions it evicted
# (the cap is `max_open_transactions`, 100,000). Bounded means the 4× peak stays near the 1×.
#
#   scripts/bench-sessions.sh
#   SESSIONS="100000 400000" scripts/bench-sessions.sh
#
# Needs GNU time (/usr/bin/time, Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."
SESSIONS=${SESSIONS:-"250000 1000000"}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target-bench}
[ -x /usr/bin/time ] || { echo "bench-sessions: install GNU time (apt-get install -y time)" >&2; exit 1; }
cargo build -q --release -p lockgraph_cli
bin=$CARGO_TARGET_DIR/release/lockgraph
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf '%-10s %9s %8s %12s %10s\n' sessions log_MB wall_s peak_RSS_MB evicted
for n in $SESSIONS; do
    log=$dir/flood-$n.log
    awk -v n="$n" 'BEGIN {
        for (i = 0; i < n; i++) {
            pid = 100000 + i; s = int(i / 1000) % 60; ms = i % 1000
            printf "2024-05-01 10:00:%02d.%03d UTC [%d] app@shop LOG:  statement: BEGIN\n", s, ms, pid
            printf "2024-05-01 10:00:%02d.%03d UTC [%d] app@shop LOG:  statement: UPDATE accounts SET balance = balance - 1 WHERE id = %d\n", s, ms, pid, pid
        } }' >"$log"
    /usr/bin/time -f '%e %M' -o "$dir/time" "$bin" logs "$log" --format json >"$dir/out.json" 2>"$dir/err" || true
    read -r wall kib <"$dir/time"
    # Every warning of this log is an eviction: those printed plus "N more warnings not shown".
    shown=$(grep -c 'dropped: more than' "$dir/err" || true)
    more=$(sed -n 's/.* \([0-9]*\) more warnings not shown.*/\1/p' "$dir/err" | tail -1)
    printf '%-10s %9s %8s %12s %10s\n' "$n" "$(( $(stat -c %s "$log") / 1048576 ))" "$wall" "$(( kib / 1024 ))" "$(( shown + ${more:-0} ))"
done
