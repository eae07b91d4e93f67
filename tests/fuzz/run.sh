#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in ./build-fuzz and runs each for SECONDS
# (default 60) on a working copy of its committed seed corpus (tests/fuzz/corpus/TARGET), then
# prints how many inputs it executed. Exit 1 on a finding (the crashing input is saved in
# build-fuzz/, the log shown).
#   bash tests/fuzz/run.sh [SECONDS] [TARGET...]     targets: fuzz_http fuzz_multipart fuzz_coverage_metadata fuzz_rangeparse fuzz_indexblock
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_http fuzz_multipart fuzz_coverage_metadata fuzz_rangeparse fuzz_indexblock)
B=build-fuzz
if [ ! -f "$B/build.ninja" ]; then
    CC=clang CXX=clang++ cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSPARSESCOPE_FUZZ=ON \
        -DSPARSESCOPE_SANITIZE=address,undefined,fuzzer-no-link >/dev/null
fi
cmake --build "$B" --target "${targets[@]}" >/dev/null
for t in "${targets[@]}"; do
    work=$B/corpus/$t
    mkdir -p "$work"
    cp -n tests/fuzz/corpus/"$t"/* "$work"/ 2>/dev/null || true
    if ! (cd "$B" && "./tests/fuzz/$t" -max_total_time="$secs" -print_final_stats=1 -timeout=10 "corpus/$t") >"$B/$t.log" 2>&1; then
        echo "$t: FINDING after $(grep -c . "$B/$t.log") log lines; see $B/$t.log" >&2
        tail -40 "$B/$t.log" >&2
        exit 1
    fi
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$B/$t.log" | grep -o '[0-9]*$')
    echo "$t: $execs executions in $secs s, no finding"
done
