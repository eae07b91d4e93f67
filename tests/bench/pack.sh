#!/usr/bin/env bash
# Packed storage's figures (issue "Packed storage"), never failing on a number; every ratio is
# against a baseline measured in the same run:
#  1. the same 256 MiB (random) at two URLs, both prefetched, then `pack`: du of the cache
#     directory against 256 MiB (target <= 1.02 x); both export byte-identical;
#  2. 128 MiB of log-like text prefetched and packed: pack files against `zstd -3` of the file
#     (target <= 1.15 x);
#  3. `pack` throughput: a 256 MiB random object (target >= 300 MB/s; the sample skips
#     compression) and the text (target >= 100 MB/s);
#  4. warm random 4 KiB reads, 2 threads (bench_packreads): packed against loose, text (zstd)
#     and random (raw) (targets >= 0.3 x and >= 0.8 x);
#  5. an object of 1 Mi packed chunks (4 KiB chunks) reopened until its first read is served
#     (target <= 200 ms; process start included).
#   bash tests/bench/pack.sh [RUNS=3]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-3}
bash scripts/build.sh >/dev/null
CLI=$PWD/${BUILD_DIR:-build}/app/cli/sparsescope-cli
READS=$PWD/${BUILD_DIR:-build}/tests/bench_packreads
work=$(mktemp -d /tmp/sparsescope-pack.XXXXXX)
trap 'scripts/nginx-serve.sh stop "$work/nginx"; rm -rf "$work"' EXIT
mkdir -p "$work/www"
head -c $((256 << 20)) /dev/urandom > "$work/www/a.bin"
ln "$work/www/a.bin" "$work/www/mirror-of-a.bin"
python3 - "$work/www/text.log" $((128 << 20)) <<'PY'
import random, sys, time
r = random.Random(7); out = open(sys.argv[1], "w"); size = int(sys.argv[2]); n = 0; t = 1.7e9
levels = ["INFO"] * 3 + ["DEBUG", "WARN", "ERROR"]
paths = ["/api/v1/users", "/api/v1/orders", "/static/app.js", "/healthz", "/api/v2/search", "/login"]
while n < size:
    t += r.expovariate(50)
    s = "%s.%03d %-5s [worker-%d] 10.%d.%d.%d %s %s status=%d bytes=%d dur_ms=%.2f req=%016x\n" % (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)), int(t % 1 * 1000), r.choice(levels), r.randrange(16),
        r.randrange(4), r.randrange(256), r.randrange(256), r.choice(["GET", "POST"]), r.choice(paths),
        r.choice([200, 200, 304, 404, 500]), r.randrange(100000), r.expovariate(0.05), r.getrandbits(64))
    out.write(s); n += len(s)
out.close()
PY
truncate -s $((128 << 20)) "$work/www/text.log"
port=$(scripts/nginx-serve.sh free-port)
scripts/nginx-serve.sh start "$work/www" "$port" "$work/nginx"
base="http://127.0.0.1:$port"
. tests/bench/lib.sh # median
elapsed() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$s $e" | awk '{printf "%.3f\n", $2 - $1}'; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
mib() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }

# 1. Deduplication.
c=$work/c1
"$CLI" --cache-dir "$c" prefetch "$base/a.bin"; "$CLI" --cache-dir "$c" prefetch "$base/mirror-of-a.bin"
"$CLI" --cache-dir "$c" pack >/dev/null
du1=$(du -sB1 "$c" | cut -f1)
same=yes
for n in a mirror-of-a; do
    "$CLI" --cache-dir "$c" export "$base/$n.bin" -o "$work/$n.out"; cmp -s "$work/$n.out" "$work/www/a.bin" || same=no; rm -f "$work/$n.out"
done
printf '1. 256 MiB at two URLs, packed: cache %s MiB = %s x 256 MiB (target <= 1.02); both export identical: %s\n' \
    "$(mib "$du1")" "$(awk -v d="$du1" 'BEGIN {printf "%.3f", d / 268435456}')" "$same"
rm -rf "$c"

# 2 and 3. Compression and pack throughput, medians of $runs.
z=$(zstd -3 -q -c "$work/www/text.log" | wc -c)
pt=() pr=() sz=()
for _ in $(seq "$runs"); do
    rm -rf "$work/ct" "$work/cr"; sync
    "$CLI" --cache-dir "$work/ct" prefetch "$base/text.log"; sync
    pt+=("$(elapsed "$CLI" --cache-dir "$work/ct" pack)")
    sz+=("$("$CLI" --cache-dir "$work/ct" status --json | json pack_file_bytes)")
    "$CLI" --cache-dir "$work/cr" prefetch "$base/a.bin"; sync
    pr+=("$(elapsed "$CLI" --cache-dir "$work/cr" pack)")
done
s=$(printf '%s\n' "${sz[@]}" | median)
printf '2. 128 MiB text: packs %s MiB, zstd -3 %s MiB: %s x (target <= 1.15)\n' "$(mib "$s")" "$(mib "$z")" \
    "$(awk -v a="$s" -v b="$z" 'BEGIN {printf "%.3f", a / b}')"
t=$(printf '%s\n' "${pt[@]}" | median); r=$(printf '%s\n' "${pr[@]}" | median)
printf '3. pack throughput: random %s MB/s (target >= 300), text %s MB/s (target >= 100)\n' \
    "$(awk -v t="$r" 'BEGIN {printf "%.0f", 268.435456 / t}')" "$(awk -v t="$t" 'BEGIN {printf "%.0f", 134.217728 / t}')"

# 4. Warm random 4 KiB reads: loose, then packed, on the same entries (interleaved runs). The
#    text twice: with the default size of the decompressed frames' cache (1/32 of physical
#    memory, 64 MiB to 1 GiB: all of its 128 MiB on a machine of 4 GiB or more, as the page cache
#    holds all of the loose copy), and with 64 MiB (half of it: every other read decompresses).
for kind in text:ct:text.log:default text:ct:text.log:64 random:cr:a.bin:default; do
    IFS=: read -r name dir file mb <<<"$kind"
    [ -d "$work/$dir.loose" ] || "$CLI" --cache-dir "$work/$dir.loose" prefetch "$base/$file"
    loose=() packed=()
    for _ in $(seq "$runs"); do
        loose+=("$("$READS" "$work/$dir.loose"/objects/*/ 3 2 | awk '{print $2}')")
        packed+=("$(SPARSESCOPE_PACK_CACHE_MB=${mb/default/0} "$READS" "$work/$dir"/objects/*/ 3 2 | awk '{print $2}')")
    done
    l=$(printf '%s\n' "${loose[@]}" | median); p=$(printf '%s\n' "${packed[@]}" | median)
    printf '4. warm random 4 KiB reads, %s (frames kept: %s): loose %s IOPS, packed %s IOPS: %s x (target >= %s)\n' "$name" "${mb/64/64 MiB}" "$l" "$p" \
        "$(awk -v a="$p" -v b="$l" 'BEGIN {printf "%.2f", a / b}')" "$([ "$name" = text ] && echo 0.3 || echo 0.8)"
done
rm -rf "$work"/*.loose
rm -rf "$work/ct" "$work/cr"

# 5. 1 Mi packed chunks.
truncate -s 4G "$work/sparse.bin"
c=$work/c5
"$CLI" --cache-dir "$c" --chunk-size 4K prefetch "$work/sparse.bin"
p=$(elapsed "$CLI" --cache-dir "$c" pack)
t=()
for _ in $(seq "$runs"); do t+=("$(elapsed "$CLI" --cache-dir "$c" read "$work/sparse.bin" -r 1000-1999 -o /dev/null)"); done
printf '5. 1 Mi packed chunks (pack took %s s): reopen until the first read is served %s s median (target <= 0.200 s)\n' \
    "$p" "$(printf '%s\n' "${t[@]}" | median)"
