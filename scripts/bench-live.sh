#!/usr/bin/env bash
# Benchmark of one `lockgraph live` snapshot on a busy server: 1,000 sessions in open
# transactions holding table locks (some waiting in blocking chains), the snapshot timed on the
# server (statement time) and on the client (round trip + decoding).
#
#   scripts/bench-live.sh                  # throwaway cluster, max_connections=1100
#   BENCH_URL='host=… user=…' scripts/bench-live.sh   # an existing server (as many sessions
#                                                      # as it allows)
#
# Environment: CONNECTIONS (1000), TABLES (200), LOCKS (5 per session), SAMPLES (30), PORT
# (54329 for the throwaway cluster), CARGO_TARGET_DIR (default target-bench).
# Needs: cargo; for the throwaway cluster, PostgreSQL's initdb/pg_ctl (pg_config --bindir or
# /usr/lib/postgresql/*/bin) and, as root, runuser (initdb refuses to run as root).
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${CONNECTIONS:-1000}
TABLES=${TABLES:-200}
LOCKS=${LOCKS:-5}
SAMPLES=${SAMPLES:-30}
PORT=${PORT:-54329}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target-bench}

echo "== building (release)"
cargo build --release --locked -q -p lockgraph_pg --example live_snapshot_bench
BIN=$CARGO_TARGET_DIR/release/examples/live_snapshot_bench

if [ -n "${BENCH_URL:-}" ]; then
    URL=$BENCH_URL
else
    BINDIR=$(pg_config --bindir 2>/dev/null || true)
    [ -x "$BINDIR/initdb" ] || BINDIR=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -x "$BINDIR/initdb" ] || { echo "bench-live: initdb not found (set BENCH_URL)" >&2; exit 1; }
    DIR=$(mktemp -d "${TMPDIR:-/tmp}/lockgraph-live-bench.XXXXXX")
    as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
    [ "$(id -u)" = 0 ] && chown postgres "$DIR"
    cleanup() { as_pg "$BINDIR/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$DIR"; }
    trap cleanup EXIT
    as_pg "$BINDIR/initdb" -D "$DIR/data" --auth=trust --no-sync -U postgres >/dev/null
    as_pg "$BINDIR/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w -o \
        "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=$((CONNECTIONS + 100)) -c max_locks_per_transaction=128 -c fsync=off" \
        start >/dev/null
    URL="host=127.0.0.1 port=$PORT user=postgres dbname=postgres"
fi

echo "== machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(date -u '+%Y-%m-%d %H:%M UTC'), $(psql --version 2>/dev/null || true)"
echo "== live_snapshot_bench $CONNECTIONS sessions × $LOCKS table locks over $TABLES tables, $SAMPLES samples"
"$BIN" "$URL" "$CONNECTIONS" "$TABLES" "$LOCKS" "$SAMPLES"
