#!/usr/bin/env bash
# Benchmark: full materialization of one object over HTTP from a loopback nginx,
# `sparsescope-cli prefetch` into an empty cache vs `curl -o` of the same file, in the same run.
# Prints medians of RUNS runs, the ratio to curl (throughput, >1 is faster), and peak RSS.
# Sweeps chunk sizes to justify the default. Never fails on a number.
#   usage: tests/bench/prefetch_vs_curl.sh [SIZE_MIB=1024] [RUNS=3] [CHUNK_SIZES="64K 256K 1M"]
set -euo pipefail
cd "$(dirname "$0")/../.."
size_mib=${1:-1024}; runs=${2:-3}; chunks=${3:-"64K 256K 1M"}
CLI=$PWD/${BUILD_DIR:-build}/app/cli/sparsescope-cli
[ -x "$CLI" ] || { echo "build first: bash scripts/build.sh" >&2; exit 1; }
work=$(mktemp -d /tmp/sparsescope-bench.XXXXXX)
trap 'scripts/nginx-serve.sh stop "$work/nginx"; rm -rf "$work"' EXIT
mkdir -p "$work/www"
head -c $((size_mib << 20)) /dev/urandom > "$work/www/object.bin"
port=$(scripts/nginx-serve.sh free-port)
scripts/nginx-serve.sh start "$work/www" "$port" "$work/nginx"
url="http://127.0.0.1:$port/object.bin"
bytes=$((size_mib << 20))

. tests/bench/lib.sh # median, measure
read -r curl_s curl_rss _ < <(measure curl -sS -o "$work/curl.out" "$url")
printf '\n%-34s %9s %10s %9s %10s\n' "scenario ($size_mib MiB, median of $runs)" "seconds" "MiB/s" "vs curl" "peak RSS"
printf '%-34s %9s %10.0f %9s %7.1f MiB\n' "curl -o" "$curl_s" "$(echo "$bytes / $curl_s / 1048576" | bc -l)" "1.00x" "$(echo "$curl_rss / 1024" | bc -l)"
for c in $chunks; do
    read -r s rss _ < <(measure "$CLI" --cache-dir "$work/cache" --chunk-size "$c" prefetch "$url")
    printf '%-34s %9s %10.0f %8.2fx %7.1f MiB\n' "sparsescope-cli prefetch, chunk $c" "$s" \
        "$(echo "$bytes / $s / 1048576" | bc -l)" "$(echo "$curl_s / $s" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
done
