#!/usr/bin/env bash
# The mount (issue 18) against nginx on loopback, beside its baselines in the same run:
#   M1 sequential read of a SIZE MiB object through the mount (cold cache) vs `curl -o`
#      (target ≥ 0.7× curl's speed);
#   M2 warm random 4 KiB reads through the mount vs the same fio job on the cache's data file
#      (target ≥ 0.5× fio's IOPS);
#   M3 an indexed point query of a 256 MiB SQLite database through the mount: the share of the
#      file fetched (target ≤ 2 %).
# Medians of RUNS runs; never fails on a number. Skips if FUSE cannot be mounted here.
#   bash tests/bench/mount.sh [SIZE_MIB=256] [RUNS=3]
set -euo pipefail
cd "$(dirname "$0")/../.."
size_mib=${1:-256}
runs=${2:-3}
bash scripts/build.sh >/dev/null
B=$PWD/${BUILD_DIR:-build}
CLI=$B/app/cli/sparsescope-cli
work=$(mktemp -d /tmp/sparsescope-mount.XXXXXX)
mnt=$work/mnt
mount_pid=
cleanup() {
    [ -n "$mount_pid" ] && kill "$mount_pid" 2>/dev/null && wait "$mount_pid" 2>/dev/null
    mountpoint -q "$mnt" 2>/dev/null && fusermount3 -u "$mnt"
    bash scripts/nginx-serve.sh stop "$work/nginx" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/www" "$mnt"
[ -w /dev/fuse ] || { echo "mount.sh: no usable /dev/fuse here; skipped"; exit 0; }
head -c $((size_mib << 20)) /dev/urandom > "$work/www/big.bin"
python3 - "$work/www/db.sqlite" <<'PY'
import sqlite3, sys, os
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA page_size = 4096")
db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT, v BLOB)")
rows = 193000  # about 256 MiB with the index
db.executemany("INSERT INTO t (k, v) VALUES (?, ?)", ((f"key-{i:09d}", os.urandom(1000)) for i in range(rows)))
db.execute("CREATE INDEX tk ON t (k)")
db.commit()
PY
port=$(bash scripts/nginx-serve.sh free-port)
bash scripts/nginx-serve.sh start "$work/www" "$port" "$work/nginx"
url=http://127.0.0.1:$port
. tests/bench/lib.sh # median
ratio() { echo "$1 $2" | awk '{ if ($1 > 0 && $2 > 0) printf "%.2fx", $2 / $1; else print "-" }'; }
line() { printf '%-62s %12s %12s %9s %10s\n' "$@"; }
start_mount() { # CACHE SOURCE...: mounts in the background, waits for the first file
    local cache=$1; shift
    "$CLI" --cache-dir "$cache" mount "$mnt" "$@" 2>"$work/mount.err" &
    mount_pid=$!
    for _ in $(seq 100); do [ -n "$(ls "$mnt" 2>/dev/null)" ] && return 0; sleep 0.05; done
    echo "mount.sh: the mount did not come up: $(cat "$work/mount.err")" >&2; exit 1
}
stop_mount() { kill "$mount_pid"; wait "$mount_pid" || true; mount_pid=; }
seconds() { /usr/bin/time -f %e -o "$work/t" "$@" >/dev/null 2>&1; cat "$work/t"; }

printf '\nThe mount — nginx on loopback, %s MiB, median of %s runs\n\n' "$size_mib" "$runs"
line "scenario" "SparseScope" "baseline" "ratio" "target"

# M1: cold sequential read vs curl -o.
ours=() base=()
for _ in $(seq "$runs"); do
    rm -rf "$work/cache"; sync
    start_mount "$work/cache" "$url/big.bin"
    ours+=("$(seconds cat "$mnt/big.bin")")
    stop_mount
    base+=("$(seconds curl -sf -o "$work/curl.out" "$url/big.bin")")
    rm -f "$work/curl.out"
done
o=$(printf '%s\n' "${ours[@]}" | median); b=$(printf '%s\n' "${base[@]}" | median)
line "M1 cold sequential read, seconds (cat vs curl -o)" "$o" "$b" "$(ratio "$o" "$b")" ">= 0.7x"

# M2: warm random 4 KiB reads: through the mount vs the cache's data file.
"$CLI" --cache-dir "$work/cache" prefetch "$url/big.bin" >/dev/null 2>&1
data=$("$CLI" --cache-dir "$work/cache" info "$url/big.bin" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["cache_path"])')/data
start_mount "$work/cache" "$url/big.bin"
fio_iops() { fio --name=r --filename="$1" --rw=randread --bs=4k --size="${size_mib}M" --ioengine=psync --runtime=5 --time_based \
                 --invalidate=0 --output-format=json 2>/dev/null | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["jobs"][0]["read"]["iops"]))'; }
ours=() base=()
for _ in $(seq "$runs"); do
    ours+=("$(fio_iops "$mnt/big.bin")")
    base+=("$(fio_iops "$data")")
done
stop_mount
o=$(printf '%s\n' "${ours[@]}" | median); b=$(printf '%s\n' "${base[@]}" | median)
line "M2 warm random 4 KiB reads, IOPS (mount vs fio on data file)" "$o" "$b" "$(ratio "$b" "$o")" ">= 0.5x"

# M3: an indexed point query of a SQLite database through the mount (cold).
rm -rf "$work/cache2"
: > "$work/nginx/access.log"
start_mount "$work/cache2" "$url/db.sqlite"
answer=$(python3 -c 'import sqlite3,sys; db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro&immutable=1", uri=True); print(db.execute("SELECT id FROM t WHERE k = ?", ("key-000123456",)).fetchone()[0])' "$mnt/db.sqlite")
stop_mount
fetched=$(awk '$2 == "/db.sqlite" && $1 == "GET" { b += $4 } END { print b + 0 }' "$work/nginx/access.log")
total=$(stat -c %s "$work/www/db.sqlite")
line "M3 SQLite point query (row $answer): bytes fetched of $((total >> 20)) MiB" "$fetched" "$total" \
     "$(echo "$fetched $total" | awk '{ printf "%.2f%%", 100 * $1 / $2 }')" "<= 2%"
