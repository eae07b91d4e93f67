#!/usr/bin/env bash
# The run command: sets up a fresh Debian 12 machine, builds, and starts the desktop app on its
# built-in demo archive (`sparsescope --demo`). Without a display it runs under xvfb-run, takes a
# screenshot after a few seconds (build/demo-screenshot.png, if ImageMagick's `import` is there)
# and closes again. Extra arguments go to sparsescope (e.g. a file or URL to open).
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
xvfb-run -a -s "-screen 0 1440x900x24" bash -c '
    "$1" --demo "${@:4}" & pid=$!
    sleep "$2"
    if command -v import >/dev/null; then import -window root "$3" && echo "screenshot: $3" >&2; fi
    kill $pid; wait $pid 2>/dev/null; exit 0' _ "$app" "$seconds" "$shot" "$@"
