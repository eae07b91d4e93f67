#!/usr/bin/env bash
# Archive extraction on real archives from Debian packages (issue "Archives at line speed and full
# fidelity"): each SparseScope figure next to its baseline in the same run, medians of RUNS, and
# whether contents, permission bits and mtimes of regular files equal what tar / unzip make.
#   bash tests/bench/archives.sh [RUNS=3]
# Downloads linux-source-6.1 and openjdk-17-source with `apt-get download` into
# build/bench-archives/ the first time (about 190 MB; nothing is committed). Never fails on a number.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-3}
bash scripts/build.sh >/dev/null
CLI=$PWD/${BUILD_DIR:-build}/app/cli/sparsescope-cli
data=$PWD/${BUILD_DIR:-build}/bench-archives
mkdir -p "$data/www"
if [ ! -f "$data/www/linux.tar" ] || [ ! -f "$data/www/src.zip" ]; then
    (cd "$data" && apt-get download linux-source-6.1 openjdk-17-source >/dev/null 2>&1 &&
        for d in ./*.deb; do dpkg-deb -x "$d" x; done)
    cp "$data"/x/usr/src/linux-source-6.1.tar.xz "$data/www/linux.tar.xz"
    xz -dc "$data/www/linux.tar.xz" > "$data/www/linux.tar"
    cp "$(find "$data/x" -name src.zip | head -1)" "$data/www/src.zip"
    rm -rf "$data/x" "$data"/*.deb
fi
# Extracted trees are not deleted between runs: ext4 makes file creation slow for about a minute
# after tens of thousands of files were deleted (recently_deleted() in its inode allocator), which
# would slow whichever command runs next. Every run gets fresh directories; all go at the end.
work=$(mktemp -d /tmp/sparsescope-archives.XXXXXX)
trap 'scripts/nginx-serve.sh stop "$work/nginx" >/dev/null 2>&1; rm -rf "$work"' EXIT
port=$(scripts/nginx-serve.sh free-port)
scripts/nginx-serve.sh start "$data/www" "$port" "$work/nginx"
url="http://127.0.0.1:$port"
. tests/bench/lib.sh # median
# time_it DIR CMD...: seconds of one run of CMD in the fresh directory DIR, stdout discarded.
time_it() {
    local dir=$1; shift
    mkdir -p "$dir"; cd "$dir"
    local t0 t1; t0=$(date +%s.%N)
    "$@" >/dev/null 2>"$work/err" || { echo "failed: $* ($(tail -1 "$work/err"))" >&2; }
    t1=$(date +%s.%N); cd - >/dev/null
    echo "$t0 $t1" | awk '{printf "%.2f\n", $2 - $1}'
}
# pair LABEL "OURS..." "BASELINE...": runs ours and the baseline by turns ($runs times each, so that
# a slow spell of the machine or the file system hits both alike) in $work/LABEL-ss.N and
# $work/LABEL-base.N (the last ones stay for comparing); prints "median_ours median_baseline".
pair() {
    local label=$1 ours=$2 base=$3 i
    for i in $(seq "$runs"); do
        # shellcheck disable=SC2086
        echo "$(time_it "$work/$label-ss.$i" $ours) $(time_it "$work/$label-base.$i" $base)"
    done > "$work/pair"
    echo "$(cut -d' ' -f1 < "$work/pair" | median) $(cut -d' ' -f2 < "$work/pair" | median)"
}
ratio() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.2fx", $1 / $2; else print "-" }'; }
line() { printf '%-58s %10s %10s %8s %10s\n' "$@"; }

ss_extract() { "$CLI" --cache-dir cache "$@" -o out; }
curl_tar() { mkdir out && curl -s "$1" | tar "$2" -C out; }
curl_unzip() { curl -s -o a.zip "$1" && unzip -q a.zip -d out; }

printf '\nArchive extraction, real Debian archives, median of %s runs, %s cores\n\n' "$runs" "$(nproc)"
line "scenario (seconds)" "SparseScope" "baseline" "ratio" "target"
read -r s b < <(pair tar "ss_extract extract $url/linux.tar" "curl_tar $url/linux.tar x")
line "linux-source-6.1 tar (83,731 entries), cold, vs curl|tar x" "$s" "$b" "$(ratio "$s" "$b")" "<= 1.5x"
read -r s b < <(pair zip "ss_extract extract $url/src.zip" "curl_unzip $url/src.zip")
line "openjdk-17 src.zip (15,143 entries), cold, vs curl -o+unzip" "$s" "$b" "$(ratio "$s" "$b")" "<= 1.5x"
read -r s b < <(pair txz "ss_extract --sequential extract $url/linux.tar.xz" "curl_tar $url/linux.tar.xz xJ")
line "linux-source-6.1 .tar.xz, cold, vs curl|tar xJ" "$s" "$b" "$(ratio "$s" "$b")" "<= 1.2x"

# A new process after one listing and an evict of every chunk: one entry near the end.
"$CLI" --cache-dir "$work/idx" list "$url/linux.tar" >/dev/null
entry=linux-source-6.1/tools/testing/selftests/net/fcnal-test.sh
size=$(tar tvf "$data/www/linux.tar" "$entry" | awk '{print $3}')
for _ in $(seq "$runs"); do
    "$CLI" --cache-dir "$work/idx" evict "$url/linux.tar"
    "$CLI" --cache-dir "$work/idx" --stats extract "$url/linux.tar" "$entry" -o - 2>&1 >/dev/null | tail -1
done > "$work/one.json"
ms=$(grep -o '"elapsed_ms":[0-9]*' "$work/one.json" | cut -d: -f2 | median)
up=$(grep -o '"upstream_bytes":[0-9]*' "$work/one.json" | cut -d: -f2 | median)
line "indexed entry near the end, new process, evicted (ms)" "$ms" "-" "-" "<= 50+xfer"
line "... its upstream bytes vs entry size + 2 chunks" "$up" "$((size + 2 * 262144))" "$(ratio "$up" "$((size + 2 * 262144))")" "<= 1.0x"

# Fidelity: the last runs' trees side by side.
compare() { # DIR_OURS DIR_THEIRS NAME
    local same=yes
    diff -r --no-dereference "$1" "$2" >/dev/null 2>&1 || same=no
    (cd "$1" && find . -type f -printf '%m %T@ %p\n' | sort -k3) > "$work/a.meta"
    (cd "$2" && find . -type f -printf '%m %T@ %p\n' | sort -k3) > "$work/b.meta"
    local meta; meta=$(diff "$work/a.meta" "$work/b.meta" | grep -c '^<' || true)
    printf '%-58s contents identical: %s; files whose mode or mtime differ: %s of %s\n' "$3" "$same" "$meta" "$(wc -l < "$work/b.meta")"
}
echo
compare "$work/tar-ss.$runs/out" "$work/tar-base.$runs/out" "linux tar vs tar x"
compare "$work/zip-ss.$runs/out" "$work/zip-base.$runs/out" "src.zip vs unzip"
compare "$work/txz-ss.$runs/out" "$work/txz-base.$runs/out" "tar.xz vs tar xJ"
