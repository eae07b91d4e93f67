#!/usr/bin/env bash
# Round trips (issue 15): what a cold read, an archive listing and scattered reads cost through the
# latency proxy of tests/support (100 ms RTT added to a private nginx), each figure in seconds and
# in RTTs next to curl or the minimum; and a tar listing against `curl | tar tf` without the proxy
# and through it.
# Medians of RUNS runs; never fails on a number. Called by run.sh; runs alone too:
#   bash tests/bench/roundtrips.sh [RUNS=3]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-3}
bash scripts/build.sh >/dev/null
B=$PWD/${BUILD_DIR:-build}
CLI=$B/app/cli/sparsescope-cli
rtt_ms=100
work=$(mktemp -d /tmp/sparsescope-rtt.XXXXXX)
proxy_pid=
trap '[ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null; scripts/nginx-serve.sh stop "$work/nginx"; rm -rf "$work"' EXIT
mkdir -p "$work/www" "$work/tar"
head -c $((64 << 20)) /dev/urandom > "$work/www/object.bin"
python3 - "$work" <<'PY'
import os, sys, tarfile, zipfile, io
work = sys.argv[1]
with zipfile.ZipFile(os.path.join(work, "www/many.zip"), "w") as z:
    for i in range(10001):
        z.writestr("d/f%05d.txt" % i, ("entry %d\n" % i) * 8)
with tarfile.open(os.path.join(work, "www/many.tar"), "w") as t:
    for i in range(30000):
        data = os.urandom(i % 1500)
        info = tarfile.TarInfo("d%02d/f%05d" % (i // 1000, i))
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
PY
port=$(scripts/nginx-serve.sh free-port)
scripts/nginx-serve.sh start "$work/www" "$port" "$work/nginx"
python3 tests/support/latencyproxy.py --target "127.0.0.1:$port" --rtt-ms "$rtt_ms" > "$work/proxy.out" 2>/dev/null &
proxy_pid=$!
for _ in $(seq 50); do grep -q listening "$work/proxy.out" 2>/dev/null && break; sleep 0.1; done
slow="http://127.0.0.1:$(awk '{print $2}' "$work/proxy.out")"
fast="http://127.0.0.1:$port"

. tests/bench/lib.sh # median, measure
ratio() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.2fx", $1 / $2; else print "-" }'; }
rtts() { echo "$1" | awk -v r="$rtt_ms" '{ printf "%.1f", $1 * 1000 / r }'; }
line() { printf '%-60s %12s %12s %9s %12s\n' "$@"; }
# warm CMD...: like measure, but the cache is kept from one cold run before (a new process each run).
warm() {
    rm -rf "$work/cache"; "$@" >/dev/null 2>&1
    local t=() s
    for _ in $(seq "$runs"); do
        /usr/bin/time -f "%e" -o "$work/time" "$@" >/dev/null 2>&1; read -r s < "$work/time"; t+=("$s")
    done
    printf '%s\n' "${t[@]}" | median
}

printf '\nRound trips — %s ms RTT through tests/support/latencyproxy.py, median of %s runs\n\n' "$rtt_ms" "$runs"
line "scenario (seconds; RTTs in brackets)" "SparseScope" "baseline" "ratio" "target"
read -r ours _ < <(measure "$CLI" --cache-dir "$work/cache" read "$slow/object.bin" -r 1000000-1004095)
read -r curl_s _ < <(measure curl -sS -o /dev/null -r 1000000-1004095 "$slow/object.bin")
line "R1 cold 4 KiB read vs curl -r" "$ours [$(rtts "$ours")]" "$curl_s [$(rtts "$curl_s")]" "$(ratio "$ours" "$curl_s")" "<= curl+0.05"
fresh=$(warm "$CLI" --cache-dir "$work/cache" --max-age 600 read "$slow/object.bin" -r 1000000-1004095)
line "R1 the same read again, --max-age 600 vs 0 RTT" "$fresh [$(rtts "$fresh")]" "0 [0]" "-" "< 0.05"
read -r ours _ < <(measure "$CLI" --cache-dir "$work/cache" list "$slow/many.zip")
line "R2 cold list, 10,001-entry ZIP vs 3 RTT" "$ours [$(rtts "$ours")]" "0.3 [3]" "$(ratio "$ours" 0.3)" "<= 3 RTT+0.1"
again=$(warm "$CLI" --cache-dir "$work/cache" list "$slow/many.zip")
line "R2 the same listing in a new process vs 2 RTT" "$again [$(rtts "$again")]" "0.2 [2]" "$(ratio "$again" 0.2)" "<= 2 RTT+0.1"
scattered=()
for i in $(seq 0 63); do scattered+=(-r "$((i * 1000000 + 777))-$((i * 1000000 + 777 + 4095))"); done
read -r ours _ < <(measure "$CLI" --cache-dir "$work/cache" read "$slow/object.bin" "${scattered[@]}")
line "R3 64 scattered 4 KiB reads in one call vs 3 RTT" "$ours [$(rtts "$ours")]" "0.3 [3]" "$(ratio "$ours" 0.3)" "<= 3 RTT+0.15"
read -r ours _ < <(measure "$CLI" --cache-dir "$work/cache" list "$fast/many.tar")
read -r tar_s _ < <(measure sh -c 'curl -s "$1" | tar tf - >/dev/null' sh "$fast/many.tar")
line "R4 cold list of a 30,000-entry tar vs curl | tar tf (no proxy)" "$ours" "$tar_s" "$(ratio "$ours" "$tar_s")" "<= 1.3x"
# The same listing over the slow link: the read-ahead has to grow to the link's bandwidth-delay
# product (no target in issue 15; the project aims at a round trip of the minimum).
read -r ours _ < <(measure "$CLI" --cache-dir "$work/cache" list "$slow/many.tar")
read -r tar_s _ < <(measure sh -c 'curl -s "$1" | tar tf - >/dev/null' sh "$slow/many.tar")
line "R5 the same tar listing through the proxy vs curl | tar tf" "$ours [$(rtts "$ours")]" "$tar_s [$(rtts "$tar_s")]" "$(ratio "$ours" "$tar_s")" "-"
