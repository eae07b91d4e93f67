#!/usr/bin/env bash
# A walk-through of sparsescope-cli: builds it, serves a generated 64 MiB sample object from a
# private nginx on a free loopback port, and shows what SparseScope does, counting upstream
# requests in nginx's access log as it goes. Everything lives in a temporary directory that is
# removed at the end. (The run command for the desktop app is scripts/run.sh.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
bash scripts/build.sh >/dev/null
CLI=$PWD/${BUILD_DIR:-build}/app/cli/sparsescope-cli
work=$(mktemp -d /tmp/sparsescope-demo.XXXXXX)
trap 'scripts/nginx-serve.sh stop "$work/nginx"; rm -rf "$work"' EXIT
mkdir -p "$work/www"
head -c $((64 << 20)) /dev/urandom > "$work/www/sample.bin"
port=$(scripts/nginx-serve.sh free-port)
scripts/nginx-serve.sh start "$work/www" "$port" "$work/nginx"
url="http://127.0.0.1:$port/sample.bin"
export SPARSESCOPE_CACHE_DIR="$work/cache"
log="$work/nginx/access.log"
step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }
gets() { echo "   (nginx saw $(grep -c ' ' "$log" 2>/dev/null || echo 0) requests so far)"; }

step "Read 16 bytes from the middle: only one chunk is fetched" \
     bash -c "$CLI read $url -r 33554432-33554447 --stats | od -An -tx1"
gets
step "Read them again: served from the cache, no GET" "$CLI" read "$url" -r 33554432-33554447 --stats -o /dev/null
gets
step "What the cache holds" "$CLI" info "$url"
step "Prefetch the first 8 MiB" "$CLI" prefetch "$url" -r 0-8388607 --stats
step "Export it sparsely: missing ranges stay holes" "$CLI" export "$url" -o "$work/sparse.bin" --sparse
du -h --apparent-size "$work/sparse.bin" | sed 's/^/   apparent size: /'; du -h "$work/sparse.bin" | sed 's/^/   on disk:       /'
step "Evict the first 4 MiB: their disk blocks are freed" "$CLI" evict "$url" -r 0-4194303
step "Materialize everything and export it" "$CLI" export "$url" -o "$work/full.bin" --stats
cmp "$work/full.bin" "$work/www/sample.bin" && echo "   export is identical to the source"
step "Verify every present chunk" "$CLI" verify "$url"
step "Everything in the cache" "$CLI" status
echo; echo "nginx access log (method uri status bytes range):"; sed 's/^/   /' "$log"
