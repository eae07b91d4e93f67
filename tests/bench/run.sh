#!/usr/bin/env bash
# The benchmark suite of issue 4: one table, every figure next to its baseline measured in the
# same run, medians of RUNS runs. Generates its data (not committed), starts a private nginx on a
# loopback port, and never fails on a number.
#   bash tests/bench/run.sh [SIZE_MIB=1024] [RUNS=3]
set -euo pipefail
cd "$(dirname "$0")/../.."
size_mib=${1:-1024}; runs=${2:-3}
bash scripts/build.sh >/dev/null
B=$PWD/${BUILD_DIR:-build}
CLI=$B/app/cli/sparsescope-cli
work=$(mktemp -d /tmp/sparsescope-bench.XXXXXX)
trap 'scripts/nginx-serve.sh stop "$work/nginx"; rm -rf "$work"' EXIT
mkdir -p "$work/www"
head -c $((size_mib << 20)) /dev/urandom > "$work/www/object.bin"
head -c $((256 << 20)) /dev/urandom > "$work/www/small.bin"
port=$(scripts/nginx-serve.sh free-port)
scripts/nginx-serve.sh start "$work/www" "$port" "$work/nginx"
url="http://127.0.0.1:$port/object.bin"
bytes=$((size_mib << 20))

. tests/bench/lib.sh # median, measure
ratio() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.2fx", $1 / $2; else print "-" }'; }
cost() { echo "$1 $2" | awk '{ if ($1 > 0) printf "%.0f%%", 100 * ($1 - $2) / $1; else print "-" }'; }
line() { printf '%-60s %12s %12s %9s %12s\n' "$@"; }

printf '\nSparseScope benchmark suite — %s MiB, median of %s runs, %s cores\n\n' "$size_mib" "$runs" "$(nproc)"
line "scenario" "SparseScope" "baseline" "ratio" "target"

# 1. Full materialization over HTTP vs curl, aria2c, rclone (ratio: baseline time / ours, >1 = faster).
read -r ours ours_rss _ < <(measure "$CLI" --cache-dir "$work/cache" prefetch "$url")
read -r curl_s _ < <(measure curl -sS -o "$work/out/o" "$url")
read -r aria_s _ < <(measure aria2c -q -x8 -s8 -k1M --file-allocation=none -d "$work/out" -o o "$url")
read -r rclone_s _ < <(measure rclone copyurl -q "$url" "$work/out/o")
line "1 HTTP full fetch (s) vs curl -o" "$ours" "$curl_s" "$(ratio "$curl_s" "$ours")" ">= 1.0x"
line "1 HTTP full fetch (s) vs aria2c -x8 -s8 -k1M" "$ours" "$aria_s" "$(ratio "$aria_s" "$ours")" ">= 2x"
line "1 HTTP full fetch (s) vs rclone copyurl" "$ours" "$rclone_s" "$(ratio "$rclone_s" "$ours")" "-"
# What durability costs: the same prefetch with every fdatasync skipped (unsafe; measuring only).
read -r nosync_s _ < <(SPARSESCOPE_UNSAFE_NO_FSYNC=1 measure "$CLI" --cache-dir "$work/cache" prefetch "$url")
line "1 durability cost: with fsync vs without (s)" "$ours" "$nosync_s" "$(cost "$ours" "$nosync_s")" "< 5%"

# 2. Local file, chunks materialized in random order, vs cp; io_uring vs the pread pool.
local_src="$work/www/object.bin"
chunk=$((256 << 10)); n=$((bytes / chunk))
ranges=$(seq 0 $((n - 1)) | shuf --random-source=<(yes) | awk -v c=$chunk '{printf "-r %d-%d ", $1*c, $1*c+c-1}')
# shellcheck disable=SC2086
read -r uring_s _ < <(measure "$CLI" --cache-dir "$work/cache" prefetch "$local_src" $ranges)
# shellcheck disable=SC2086
read -r pread_s _ < <(SPARSESCOPE_IO=pread measure "$CLI" --cache-dir "$work/cache" prefetch "$local_src" $ranges)
read -r cp_s _ < <(measure cp "$local_src" "$work/out/o")
read -r cpsync_s _ < <(measure sh -c 'cp "$1" "$2" && sync "$2"' cp "$local_src" "$work/out/o")
# shellcheck disable=SC2086
read -r nosync2_s _ < <(SPARSESCOPE_UNSAFE_NO_FSYNC=1 measure "$CLI" --cache-dir "$work/cache" prefetch "$local_src" $ranges)
line "2 local file, random chunk order, io_uring (s) vs cp" "$uring_s" "$cp_s" "$(ratio "$cp_s" "$uring_s")" ">= 0.9x"
line "2 ... vs cp + sync of the copy (s)" "$uring_s" "$cpsync_s" "$(ratio "$cpsync_s" "$uring_s")" "-"
line "2 ... without fsync (unsafe) vs cp (s)" "$nosync2_s" "$cp_s" "$(ratio "$cp_s" "$nosync2_s")" "-"
line "2 local file, random chunk order, io_uring vs pread pool (s)" "$uring_s" "$pread_s" "$(ratio "$pread_s" "$uring_s")" ">= 1.0x"
# Store writes: pwrite (default) vs io_uring (SPARSESCOPE_STORE_IO=uring): wall and CPU seconds.
# shellcheck disable=SC2086
read -r pw_s _ pw_cpu < <(measure "$CLI" --cache-dir "$work/cache" prefetch "$local_src" $ranges)
# shellcheck disable=SC2086
read -r uw_s _ uw_cpu < <(SPARSESCOPE_STORE_IO=uring measure "$CLI" --cache-dir "$work/cache" prefetch "$local_src" $ranges)
line "2 store writes io_uring vs pwrite, wall (s)" "$uw_s" "$pw_s" "$(ratio "$pw_s" "$uw_s")" "-"
line "2 store writes io_uring vs pwrite, CPU (s)" "$uw_cpu" "$pw_cpu" "$(ratio "$pw_cpu" "$uw_cpu")" "-"

# 6. Peak RSS of scenario 1, and flat as the object grows.
read -r _ small_rss _ < <(measure "$CLI" --cache-dir "$work/cache" prefetch "http://127.0.0.1:$port/small.bin")
line "6 peak RSS of scenario 1 (MiB) vs 80 MiB" "$((ours_rss / 1024))" "80" "$(ratio "$((ours_rss / 1024))" 80)" "<= 1.0x"
line "6 peak RSS, ${size_mib} MiB vs 256 MiB object (MiB)" "$((ours_rss / 1024))" "$((small_rss / 1024))" "$(ratio "$ours_rss" "$small_rss")" "flat"

# 3, 4, 5, 7: inside the engine.
"$B/tests/bench_engine" "$size_mib" 2 | tail -n +3

# Planner tuning: chunk size, coalescing cap, split size and connections, one full prefetch each.
"$B/tests/bench_planner" "$size_mib" "$runs"
bash tests/bench/roundtrips.sh "$runs"
bash tests/bench/s3.sh "$size_mib" "$runs"
bash tests/bench/mount.sh 256 "$runs"
