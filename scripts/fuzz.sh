#!/usr/bin/env bash
# Runs every fuzz target (crates/lockgraph_fuzz, registry `Target`) for a given time with
# libFuzzer (cargo-fuzz) and prints a table of the figures recorded in docs/reliability.md.
#
#   scripts/fuzz.sh                      # every target, 600 s each, one after the other
#   SECONDS_PER_TARGET=60 scripts/fuzz.sh sql python
#   JOBS=2 scripts/fuzz.sh               # two targets at a time (one core each)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). cargo-fuzz asks rustc for sanitizer flags that
# only nightly accepts; on the stable toolchain RUSTC_BOOTSTRAP=1 lets it (set here).
# Crashes, inputs slower than 1 s (-timeout=1) and inputs using more than 2 GiB (-rss_limit_mb)
# are written to crates/lockgraph_fuzz/fuzz/artifacts/<target>/; each found is a bug: fix it and
# copy the input to crates/lockgraph_fuzz/regressions/<target>/, which the normal tests run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
fuzz=crates/lockgraph_fuzz/fuzz
secs=${SECONDS_PER_TARGET:-600}
jobs=${JOBS:-1}
max_len=${MAX_LEN:-8192}
export RUSTC_BOOTSTRAP=1
all=(log_stderr log_csv log_json innodb deadlock sql python go java js ruby rust)
targets=("${@:-${all[@]}}")
[ $# -eq 0 ] && targets=("${all[@]}")

command -v cargo-fuzz >/dev/null || { echo "fuzz.sh: cargo-fuzz is not installed (cargo install cargo-fuzz)" >&2; exit 2; }
# Build all at once (cargo fuzz build without a name builds every target).
(cd "$fuzz" && cargo fuzz build --fuzz-dir .)

logs=$(mktemp -d)
run_one() {
    local t=$1
    mkdir -p "$fuzz/corpus/$t" "$fuzz/artifacts/$t"
    cargo run -q -p lockgraph_fuzz --example seed -- "$t" "$fuzz/corpus/$t/" >/dev/null
    for f in crates/lockgraph_fuzz/regressions/"$t"/*; do
        [ -f "$f" ] && cp "$f" "$fuzz/corpus/$t/"
    done
    (cd "$fuzz" && cargo fuzz run --fuzz-dir . "$t" -- \
        -max_total_time="$secs" -timeout=1 -rss_limit_mb=2048 -max_len="$max_len" \
        -print_final_stats=1 -close_fd_mask=3) >"$logs/$t.log" 2>&1 || true
}

running=0
for t in "${targets[@]}"; do
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
done
wait

printf '%-11s %8s %12s %9s %7s %7s %8s %s\n' target seconds executions exec/s cov ft corpus crashes
for t in "${targets[@]}"; do
    l=$logs/$t.log
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$l" | grep -o '[0-9]*$' || echo 0)
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$l" | grep -o '[0-9]*$' || echo 0)
    last=$(grep -E '^#[0-9]+' "$l" | grep -E 'cov: ' | tail -1)
    cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.*corp: \([0-9]*\).*/\1/p' <<<"$last")
    crashes=$(find "$fuzz/artifacts/$t" -type f | wc -l)
    printf '%-11s %8s %12s %9s %7s %7s %8s %s\n' "$t" "$secs" "${execs:-0}" "${rate:-0}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes"
    if grep -qE '^==[0-9]+==ERROR|panicked|SUMMARY: libFuzzer' "$l"; then
        echo "  $t: see $l"; grep -E 'panicked at|SUMMARY|ERROR: libFuzzer|Test unit written' "$l" | head -5 | sed 's/^/    /'
    fi
done
echo "libFuzzer logs: $logs"
