#!/usr/bin/env bash
# The test command: sets up a fresh Debian 12 machine, builds, and runs every test except the
# long `slow` campaign (run that with: ctest --test-dir build -L slow); then builds the unit and
# integration tests again with AddressSanitizer + UndefinedBehaviorSanitizer (./build-asan) and
# runs them there, and the concurrency tests with ThreadSanitizer (./build-tsan).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
bash scripts/setup-npm.sh
bash scripts/build.sh
ctest --test-dir "${BUILD_DIR:-build}" -LE slow --output-on-failure -j2

export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
if [ ! -f build-asan/build.ninja ]; then
    cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSPARSESCOPE_SANITIZE=address,undefined >/dev/null
fi
cmake --build build-asan --target engine_tests --parallel "$(nproc)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    LSAN_OPTIONS=suppressions=$PWD/tests/sanitizers/lsan.supp:print_suppressions=0 \
    ctest --test-dir build-asan -L 'unit|integration' -LE 'slow|gui' --output-on-failure -j2

# ThreadSanitizer: Debian's Qt is not instrumented, so TSan is told to ignore what happens inside
# it (ignore_noninstrumented_modules); our hand-offs through Qt's queues carry annotations
# (core/handoff.h); tests/sanitizers/tsan.supp names the one teardown inside Qt it cannot order.
# die_after_fork=0: tst_engine_http starts nginx, which execs at once.
if [ ! -f build-tsan/build.ninja ]; then
    cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSPARSESCOPE_SANITIZE=thread >/dev/null
fi
cmake --build build-tsan --target concurrency_tests --parallel "$(nproc)"
TSAN_OPTIONS=halt_on_error=1:ignore_noninstrumented_modules=1:die_after_fork=0:suppressions=$PWD/tests/sanitizers/tsan.supp \
    ctest --test-dir build-tsan -L concurrency --output-on-failure -j2
