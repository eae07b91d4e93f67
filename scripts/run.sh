#!/usr/bin/env bash
# The run command: sets up a fresh Debian 12 machine, builds, and starts the desktop app on its
# built-in demo archive (`sparsescope --demo`). Without a display it runs under xvfb-run, saves a
# picture of its window after a few seconds (build/demo-screenshot.png, the app's own
# --screenshot) and closes again. Extra arguments go to sparsescope (e.g. a file or URL to open).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
bash scripts/build.sh >/dev/null
app=$PWD/${BUILD_DIR:-build}/app/gui/sparsescope
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    exec "$app" --demo "$@"
fi
shot=$PWD/${BUILD_DIR:-build}/demo-screenshot.png
seconds=${SPARSESCOPE_DEMO_SECONDS:-8}
echo "No display: running the app under xvfb-run for ${seconds} s." >&2
xvfb-run -a -s "-screen 0 1440x900x24" "$app" --demo --screenshot "$shot" --screenshot-after "$seconds" "$@"
