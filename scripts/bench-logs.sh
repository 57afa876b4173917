#!/usr/bin/env bash
# End-to-end benchmark of `lockgraph logs`: generates big PostgreSQL 15 stderr logs at run time,
# measures wall time, throughput and peak memory of `lockgraph logs FILE --format json` on each,
# then runs pgBadger on the same log and prints the speed ratio.
#
#   scripts/bench-logs.sh                         # 1 GiB and 4 GiB logs, pgBadger on the 1 GiB one
#   SIZES=64 PGBADGER_MB=64 scripts/bench-logs.sh # dry run, under a minute once built
#
# Environment:
#   SIZES          log sizes in MiB, smallest first (default "1024 4096")
#   PGBADGER_MB    run pgBadger on only the first N MiB of the first log (default: all of it);
#                  lockgraph is then timed on the same prefix too, so the ratio compares
#                  MB/s on identical input
#   PGBADGER_JOBS  pgBadger -j values to time (default "1 2")
#   SEED           generator seed (default 42)
#   BENCH_TMPDIR   where the logs go (default: a new directory under ${TMPDIR:-/tmp}, removed at exit)
#   CARGO_TARGET_DIR  (default: target-bench)
#
# Needs: cargo, GNU time (/usr/bin/time; Debian package `time`), pgBadger (Debian package
# `pgbadger`; without it the comparison is skipped). The logs are plain text.
# MB below means MiB (1,048,576 bytes). The logs are read right after being written, so they
# come from the page cache: the figures are parse throughput, not disk throughput.
set -euo pipefail

cd "$(dirname "$0")/.."

SIZES=${SIZES:-"1024 4096"}
PGBADGER_JOBS=${PGBADGER_JOBS:-"1 2"}
SEED=${SEED:-42}
PREFIX='%m [%p] %q%u@%d '
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target-bench}

die() {
    echo "bench-logs: $*" >&2
    exit 1
}

# ---- prerequisites ---------------------------------------------------------------------------
command -v cargo >/dev/null || die "cargo not found: install Rust (https://rustup.rs) first"
if [ ! -x /usr/bin/time ] || ! /usr/bin/time --version 2>&1 | grep -q GNU; then
    die "GNU time (/usr/bin/time) not found: install it with 'sudo apt-get install -y time' (Debian/Ubuntu)"
fi
HAVE_PGBADGER=1
if ! command -v pgbadger >/dev/null; then
    HAVE_PGBADGER=0
    cat >&2 <<'EOF'
bench-logs: pgBadger not found, the comparison will be skipped.
  Install it with 'sudo apt-get install -y pgbadger' (Debian/Ubuntu package `pgbadger`),
  or from https://github.com/darold/pgbadger (a Perl script: `perl Makefile.PL && make install`).
EOF
fi
read -r -a SIZE_LIST <<<"$SIZES"
[ "${#SIZE_LIST[@]}" -ge 1 ] || die "SIZES is empty"
for s in "${SIZE_LIST[@]}"; do
    [[ $s =~ ^[0-9]+$ && $s -gt 0 ]] || die "SIZES: '$s' is not a size in MiB"
done
FIRST=${SIZE_LIST[0]}
PGBADGER_MB=${PGBADGER_MB:-$FIRST}
[[ $PGBADGER_MB =~ ^[0-9]+$ && $PGBADGER_MB -gt 0 ]] || die "PGBADGER_MB: '$PGBADGER_MB' is not a size in MiB"
if [ "$PGBADGER_MB" -gt "$FIRST" ]; then
    PGBADGER_MB=$FIRST
fi

if [ -n "${BENCH_TMPDIR:-}" ]; then
    mkdir -p "$BENCH_TMPDIR"
    TMP=$(mktemp -d "$BENCH_TMPDIR/lockgraph-bench.XXXXXX")
else
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/lockgraph-bench.XXXXXX")
fi
cleanup() { rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# The first log is kept for pgBadger while the largest is measured.
largest=0
for s in "${SIZE_LIST[@]}"; do [ "$s" -gt "$largest" ] && largest=$s; done
need_mb=$(((FIRST + largest + PGBADGER_MB) * 11 / 10 + 64))
avail_mb=$(df -Pm "$TMP" | awk 'NR == 2 { print $4 }')
[ "$avail_mb" -ge "$need_mb" ] || die "$TMP has ${avail_mb} MiB free, needs about ${need_mb} MiB (set BENCH_TMPDIR)"

# ---- build -------------------------------------------------------------------------------------
echo "== building (release, CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
cargo build --release --quiet -p lockgraph_cli
cargo build --release --quiet -p lockgraph_logs --example gen_log
LOCKGRAPH=$CARGO_TARGET_DIR/release/lockgraph
GEN=$CARGO_TARGET_DIR/release/examples/gen_log
"$LOCKGRAPH" logs --help >/dev/null 2>&1 || die "'lockgraph logs' is not available in this build"

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
echo "== machine: $(nproc) cores${cpu:+ ($cpu)}, $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(rustc --version), lockgraph $("$LOCKGRAPH" --version 2>/dev/null | awk '{ print $NF }')"
echo "== log: PostgreSQL 15 stderr, log_line_prefix '$PREFIX', seed $SEED (crates/lockgraph_logs/examples/gen_log.rs)"

# ---- helpers -----------------------------------------------------------------------------------
# Wall seconds from GNU time -v output.
wall_s() { awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); if (n == 3) print p[1] * 3600 + p[2] * 60 + p[3]; else print p[1] * 60 + p[2] }' "$1"; }
rss_mb() { awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$1"; }
cpu_pct() { awk -F': ' '/Percent of CPU/ { print $2 }' "$1"; }
div() { awk -v a="$1" -v b="$2" -v f="${3:-%.1f}" 'BEGIN { if (b > 0) printf f, a / b; else printf "n/a" }'; }

# run_lockgraph FILE TAG: times `lockgraph logs`, sets LG_RC LG_WALL LG_RSS LG_CPU LG_FOUND.
run_lockgraph() {
    local file=$1 tag=$2 rc=0
    /usr/bin/time -v -o "$TMP/time-$tag.txt" \
        "$LOCKGRAPH" logs "$file" --prefix "$PREFIX" --format json >"$TMP/out-$tag.json" 2>"$TMP/err-$tag.txt" || rc=$?
    # 0: no findings, 1: findings (this log has deadlocks, so 1 is expected); 2: tool error.
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
        echo "lockgraph logs exited with $rc:" >&2
        tail -n 20 "$TMP/err-$tag.txt" >&2
        exit 1
    fi
    LG_RC=$rc
    LG_WALL=$(wall_s "$TMP/time-$tag.txt")
    LG_RSS=$(rss_mb "$TMP/time-$tag.txt")
    LG_CPU=$(cpu_pct "$TMP/time-$tag.txt")
    LG_FOUND=$(grep -o '"LG401"' "$TMP/out-$tag.json" | wc -l | tr -d ' ')
    rm -f "$TMP/out-$tag.json"
}

# ---- lockgraph ---------------------------------------------------------------------------------
echo
echo "== lockgraph logs FILE --prefix '$PREFIX' --format json   (JSON to a temp file; LG401 = deadlocks reported)"
printf '%-9s %13s %9s %9s %8s %13s %6s %20s %10s\n' "size" "bytes" "wall s" "MB/s" "CPU" "peak RSS MB" "exit" "deadlocks gen/LG401" "gen MB/s"
declare -A RSS MBS
FIRST_LOG=""
for s in "${SIZE_LIST[@]}"; do
    log=$TMP/pg-$s.log
    "$GEN" --size-mb "$s" --seed "$SEED" --out "$log" 2>"$TMP/gen-$s.txt" || {
        cat "$TMP/gen-$s.txt" >&2
        die "generator failed"
    }
    gen_dl=$(grep -o 'deadlocks=[0-9]*' "$TMP/gen-$s.txt" | cut -d= -f2)
    gen_mbs=$(grep -o 'mb_per_s=[0-9]*' "$TMP/gen-$s.txt" | cut -d= -f2)
    bytes=$(stat -c %s "$log")
    run_lockgraph "$log" "$s"
    mb=$(div "$bytes" 1048576 "%.1f")
    MBS[$s]=$(div "$mb" "$LG_WALL")
    RSS[$s]=$LG_RSS
    printf '%-9s %13s %9s %9s %8s %13s %6s %20s %10s\n' "$s MB" "$bytes" "$LG_WALL" "${MBS[$s]}" "$LG_CPU" "$LG_RSS" "$LG_RC" "$gen_dl/$LG_FOUND" "$gen_mbs"
    if [ "$s" = "$FIRST" ] && [ -z "$FIRST_LOG" ]; then
        FIRST_LOG=$log
        FIRST_BYTES=$bytes
        FIRST_WALL=$LG_WALL
    else
        rm -f "$log"
    fi
done
if [ "${#SIZE_LIST[@]}" -ge 2 ]; then
    last=${SIZE_LIST[${#SIZE_LIST[@]} - 1]}
    ratio=$(div "${RSS[$last]}" "${RSS[$FIRST]}" "%.3f")
    verdict=$(awk -v r="$ratio" 'BEGIN { print (r != "n/a" && r <= 1.10 && r >= 0.90) ? "within 10%: memory independent of log size" : "NOT within 10%" }')
    echo "peak RSS ratio ${last} MB / ${FIRST} MB: $ratio ($verdict)"
fi

# ---- pgBadger ----------------------------------------------------------------------------------
echo
if [ "$HAVE_PGBADGER" = 0 ]; then
    echo "== pgBadger: not installed, comparison skipped (sudo apt-get install -y pgbadger)"
    exit 0
fi
pg_log=$FIRST_LOG
pg_bytes=$FIRST_BYTES
lg_wall=$FIRST_WALL
note="the same ${FIRST} MB log"
if [ "$PGBADGER_MB" -lt "$FIRST" ]; then
    # A prefix of the first log, cut at a line boundary; lockgraph is timed on it too.
    pg_log=$TMP/pg-prefix-$PGBADGER_MB.log
    head -c "$((PGBADGER_MB * 1048576))" "$FIRST_LOG" >"$pg_log"
    sed -i '$ d' "$pg_log"
    pg_bytes=$(stat -c %s "$pg_log")
    run_lockgraph "$pg_log" "prefix"
    lg_wall=$LG_WALL
    note="the first ${PGBADGER_MB} MB of the ${FIRST} MB log (PGBADGER_MB=$PGBADGER_MB); lockgraph re-timed on the same prefix: ${LG_WALL} s — ratios compare MB/s to MB/s on identical input"
fi
pg_mb=$(div "$pg_bytes" 1048576 "%.1f")
lg_mbs=$(div "$pg_mb" "$lg_wall")
echo "== $(pgbadger --version 2>/dev/null | head -n 1) on $note"
echo "   pgbadger --prefix '$PREFIX' -f stderr -j N -q -o OUT.html FILE"
printf '%-6s %9s %9s %8s %13s %10s %22s\n' "jobs" "wall s" "MB/s" "CPU" "peak RSS MB" "deadlocks" "lockgraph/pgBadger"
for j in $PGBADGER_JOBS; do
    rc=0
    /usr/bin/time -v -o "$TMP/time-pgb-$j.txt" \
        pgbadger --prefix "$PREFIX" -f stderr -j "$j" -q -o "$TMP/pgbadger-$j.html" "$pg_log" \
        >"$TMP/pgb-out-$j.txt" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "pgbadger -j $j exited with $rc:" >&2
        tail -n 20 "$TMP/pgb-out-$j.txt" >&2
        continue
    fi
    w=$(wall_s "$TMP/time-pgb-$j.txt")
    mbs=$(div "$pg_mb" "$w")
    # pgBadger's report lists each distinct event; count the deadlock examples it kept.
    found=$(grep -c 'deadlock detected' "$TMP/pgbadger-$j.html" || true)
    printf '%-6s %9s %9s %8s %13s %10s %21s×\n' "-j $j" "$w" "$mbs" "$(cpu_pct "$TMP/time-pgb-$j.txt")" \
        "$(rss_mb "$TMP/time-pgb-$j.txt")" "$([ "$found" -gt 0 ] && echo found || echo none)" "$(div "$lg_mbs" "$mbs")"
    if [ -s "$TMP/pgb-out-$j.txt" ]; then
        echo "   pgBadger -j $j printed:"
        head -n 5 "$TMP/pgb-out-$j.txt" | sed 's/^/     /'
    fi
    rm -f "$TMP/pgbadger-$j.html"
done
echo "lockgraph on that input: ${lg_mbs} MB/s (single process)"
