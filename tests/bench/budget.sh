#!/usr/bin/env bash
# The budget's figures (issue "A cache that stays within its budget"), never failing on a number:
#  1. bookkeeping cost: 1 GiB HTTP prefetch with max-size 2G (stamps, accounting, checks; nothing
#     to evict) vs no budget, interleaved runs, medians (target <= 5 %);
#  2. eviction under way: max-size 256M, three 192 MiB prefetches one after another, then a 10 MiB
#     read of the first; du of the cache sampled every 100 ms (target: never above 256 + 64 MiB);
#  3. reopening an object of 1 Mi chunks (4 KiB chunks, 4 GiB sparse file) whose access ticks are
#     all stamped, until its first read is served (target <= 100 ms; process start included).
#   bash tests/bench/budget.sh [RUNS=5]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
bash scripts/build.sh >/dev/null
CLI=$PWD/${BUILD_DIR:-build}/app/cli/sparsescope-cli
work=$(mktemp -d /tmp/sparsescope-budget.XXXXXX)
trap 'scripts/nginx-serve.sh stop "$work/nginx"; rm -rf "$work"' EXIT
mkdir -p "$work/www"
head -c $((1024 << 20)) /dev/urandom > "$work/www/object.bin"
for n in a b c; do head -c $((192 << 20)) /dev/urandom > "$work/www/$n.bin"; done
port=$(scripts/nginx-serve.sh free-port)
scripts/nginx-serve.sh start "$work/www" "$port" "$work/nginx"
base="http://127.0.0.1:$port"
. tests/bench/lib.sh # median
elapsed() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$s $e" | awk '{printf "%.3f\n", $2 - $1}'; }

# 1. Interleaved: without, with, without, with, ...
without=() with=()
for _ in $(seq "$runs"); do
    rm -rf "$work/c0" "$work/c1"; sync
    without+=("$(elapsed "$CLI" --cache-dir "$work/c0" prefetch "$base/object.bin")")
    "$CLI" --cache-dir "$work/c1" config max-size 2G
    sync
    with+=("$(elapsed "$CLI" --cache-dir "$work/c1" prefetch "$base/object.bin")")
done
w0=$(printf '%s\n' "${without[@]}" | median); w1=$(printf '%s\n' "${with[@]}" | median)
printf '1 GiB prefetch: no budget %s s, max-size 2G %s s: bookkeeping costs %s (target <= 5 %%)\n' "$w0" "$w1" \
    "$(echo "$w0 $w1" | awk '{printf "%+.1f %%", 100 * ($2 - $1) / $1}')"

# 2. Eviction under way.
cache=$work/c2; rm -rf "$cache" "$work/c0" "$work/c1"
"$CLI" --cache-dir "$cache" config max-size 256M
( while [ ! -f "$work/stop" ]; do du -sB1 "$cache" 2>/dev/null | cut -f1; sleep 0.1; done > "$work/samples" ) &
sampler=$!
for n in a b c; do "$CLI" --cache-dir "$cache" prefetch "$base/$n.bin"; done
"$CLI" --cache-dir "$cache" read "$base/a.bin" -r 0-10485759 -o /dev/null
touch "$work/stop"; wait "$sampler"
printf 'max-size 256M, 3 x 192 MiB then 10 MiB: peak %s MiB in %s samples (target <= 320 MiB)\n' \
    "$(sort -n "$work/samples" | tail -1 | awk '{printf "%.1f", $1 / 1048576}')" "$(wc -l < "$work/samples")"
"$CLI" --cache-dir "$cache" status

# 3. Reopen with 1 Mi chunks of access ticks.
truncate -s 4G "$work/sparse.bin"
cache=$work/c3
"$CLI" --cache-dir "$cache" --chunk-size 4K prefetch "$work/sparse.bin"
"$CLI" --cache-dir "$cache" info "$work/sparse.bin" | head -3
t=()
for _ in $(seq "$runs"); do t+=("$(elapsed "$CLI" --cache-dir "$cache" read "$work/sparse.bin" -r 1000-1999 -o /dev/null)"); done
printf 'reopen with 1 Mi chunks stamped, first read served: %s s median (target <= 0.100 s)\n' "$(printf '%s\n' "${t[@]}" | median)"

# 4. Two processes fill two 192 MiB objects at once in max-size 256M; one is SIGKILLed mid-way;
#    then gc. du sampled every 100 ms (target: never above 320 MiB), and every present byte right.
cache=$work/c4; rm -rf "$cache" "$work/c3" "$work/stop"
"$CLI" --cache-dir "$cache" config max-size 256M
( while [ ! -f "$work/stop" ]; do du -sB1 "$cache" 2>/dev/null | cut -f1; sleep 0.1; done > "$work/samples" ) &
sampler=$!
"$CLI" --cache-dir "$cache" prefetch "$base/a.bin" & p1=$!
"$CLI" --cache-dir "$cache" prefetch "$base/b.bin" & p2=$!
sleep 0.3; kill -9 $p2 2>/dev/null || true
wait $p1; wait $p2 || true
gc=$("$CLI" --cache-dir "$cache" gc)
touch "$work/stop"; wait "$sampler"
ok=yes
for n in a b; do
    "$CLI" --cache-dir "$cache" export "$base/$n.bin" --sparse -o "$work/$n.sparse"
    # Every nonzero byte of the sparse export (present chunks) equals the source.
    { cmp -l "$work/$n.sparse" "$work/www/$n.bin" || true; } | awk '$2 != 0 { bad = 1; exit } END { exit bad }' || ok=no
done
printf 'two processes, one SIGKILLed, then gc (%s): peak %s MiB in %s samples (target <= 320 MiB); present bytes right: %s\n' \
    "$gc" "$(sort -n "$work/samples" | tail -1 | awk '{printf "%.1f", $1 / 1048576}')" "$(wc -l < "$work/samples")" "$ok"
