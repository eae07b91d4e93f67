#!/usr/bin/env bash
# The test command: sets up a fresh Debian 12 machine, builds, and runs every test except the
# long `slow` campaign (run that with: ctest --test-dir build -L slow).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
bash scripts/build.sh
ctest --test-dir "${BUILD_DIR:-build}" -LE slow --output-on-failure -j2
