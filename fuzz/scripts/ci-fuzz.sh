#!/usr/bin/env bash
# Runs each fuzz target briefly (FUZZ_SECONDS each, default 45) on the stable toolchain.
# Called by .ci/run. Skips, and says so, when cargo-fuzz cannot be installed (or the
# build runs out of time); fails when the fuzz targets do not compile under CI=true (a
# change to the library broke them) and when a target finds a crash (the crasher is left
# in fuzz/artifacts/<target>/).
set -uo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-45}"
skip() {
    echo "fuzz: SKIPPED — $1 (fuzz regressions are still replayed by cargo test)"
    exit 0
}
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz from crates.io (cargo install --locked cargo-fuzz)"
    start=$(date +%s)
    if ! timeout 900 cargo install --locked cargo-fuzz >/tmp/tenure-cargo-fuzz-install.log 2>&1; then
        tail -n 20 /tmp/tenure-cargo-fuzz-install.log
        skip "cargo-fuzz could not be installed"
    fi
    echo "fuzz: cargo-fuzz installed in $(( $(date +%s) - start )) s"
fi
# libFuzzer through cargo-fuzz on stable: RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its
# -Z flags; `-s none` needs no sanitizer runtime (the crate forbids unsafe code).
export RUSTC_BOOTSTRAP=1
start=$(date +%s)
timeout 1200 cargo fuzz build -O -s none >/tmp/tenure-fuzz-build.log 2>&1
rc=$?
if [ "$rc" -ne 0 ]; then
    tail -n 30 /tmp/tenure-fuzz-build.log
    if [ "$rc" -eq 124 ]; then
        skip "the fuzz targets took over 20 minutes to build"
    fi
    if [ "${CI:-}" = "true" ]; then
        echo "fuzz: FAILED — the fuzz targets do not build (exit $rc)"
        exit 1
    fi
    skip "the fuzz targets could not be built (exit $rc)"
fi
echo "fuzz: targets built in $(( $(date +%s) - start )) s"
status=0
for target in parse roundtrip fmt lint authorize_differential builder_differential json_inputs; do
    case "$target" in
        json_inputs) dict=(-dict=dict/json.dict) ;;
        authorize_differential | builder_differential) dict=() ;;
        *) dict=(-dict=dict/tenure.dict) ;;
    esac
    mkdir -p "corpus/$target" "artifacts/$target"
    log="/tmp/tenure-fuzz-$target.log"
    timeout $((seconds + 120)) cargo fuzz run -O -s none "$target" \
        "corpus/$target" "seeds/$target" "regressions/$target" -- \
        -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "${dict[@]}" >"$log" 2>&1
    rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1)
    if [ "$rc" -eq 0 ]; then
        echo "fuzz: $target: ok, ${execs:-?} executions in ${seconds} s (${rate:-?}/s), ${cov:-cov: ?}"
    else
        echo "fuzz: $target: FAILED (exit $rc) after ${execs:-?} executions; log tail:"
        tail -n 40 "$log"
        status=1
    fi
done
exit "$status"
