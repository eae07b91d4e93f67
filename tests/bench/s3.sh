#!/usr/bin/env bash
# S3 (issue 14): a full prefetch of one object vs `aws s3 cp` and `rclone copyto` against the same
# S3 server on loopback (tests/support/s3server.py, which checks every signature), and what
# `ls --recursive` of 10,000 keys costs in requests (its log). Medians of RUNS runs; never fails on
# a number; a baseline tool that is not installed is skipped. Runs alone or from run.sh:
#   bash tests/bench/s3.sh [SIZE_MIB=1024] [RUNS=3]
set -euo pipefail
cd "$(dirname "$0")/../.."
size_mib=${1:-1024}
runs=${2:-3}
bash scripts/build.sh >/dev/null
B=$PWD/${BUILD_DIR:-build}
CLI=$B/app/cli/sparsescope-cli
work=$(mktemp -d /tmp/sparsescope-s3.XXXXXX)
server_pid=
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/root/bkt" "$work/root/many"
head -c $((size_mib << 20)) /dev/urandom > "$work/root/bkt/big.bin"
python3 - "$work/root/many" <<'PY'
import os, sys
for i in range(10000):
    d = os.path.join(sys.argv[1], "k%02d" % (i % 10))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "obj-%05d" % i), "w") as f:
        f.write(str(i))
PY
key=AKIDBENCH secret=bench/secret
python3 tests/support/s3server.py --root "$work/root" --access-key "$key" --secret-key "$secret" --log "$work/log" > "$work/server.out" &
server_pid=$!
for _ in $(seq 50); do grep -q listening "$work/server.out" 2>/dev/null && break; sleep 0.1; done
endpoint="http://127.0.0.1:$(awk '{print $2}' "$work/server.out")"
export AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret AWS_ENDPOINT_URL_S3=$endpoint AWS_REGION=us-east-1
: > "$work/aws-config"; : > "$work/aws-credentials"
export AWS_CONFIG_FILE=$work/aws-config AWS_SHARED_CREDENTIALS_FILE=$work/aws-credentials
unset AWS_CA_BUNDLE # rclone's S3 backend cannot load a custom CA bundle for plain HTTP (and none is needed)
. tests/bench/lib.sh # median, measure
ratio() { echo "$1 $2" | awk '{ if ($1 > 0 && $2 != "nan") printf "%.2fx", $2 / $1; else print "-" }'; }
line() { printf '%-58s %12s %12s %9s %10s\n' "$@"; }
# The server computes the object's ETag (MD5) once, on this first HEAD, not inside a measurement.
"$CLI" --cache-dir "$work/warm" info s3://bkt/big.bin >/dev/null

printf '\nS3 — a private S3 server on loopback (tests/support/s3server.py), %s MiB, median of %s runs\n\n' "$size_mib" "$runs"
line "scenario (seconds)" "SparseScope" "baseline" "ratio" "target"
read -r ours _ < <(measure "$CLI" --cache-dir "$work/cache" prefetch s3://bkt/big.bin)
if command -v aws >/dev/null; then
    read -r base _ < <(measure aws s3 cp --only-show-errors s3://bkt/big.bin "$work/out/big.bin")
    line "S1 full prefetch vs aws s3 cp" "$ours" "$base" "$(ratio "$ours" "$base")" ">= 1.0x"
else
    line "S1 full prefetch vs aws s3 cp (aws not installed)" "$ours" "-" "-" ">= 1.0x"
fi
if command -v rclone >/dev/null; then
    export RCLONE_CONFIG_BENCH_TYPE=s3 RCLONE_CONFIG_BENCH_PROVIDER=Other RCLONE_CONFIG_BENCH_ENDPOINT=$endpoint \
        RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=$key RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=$secret RCLONE_CONFIG_BENCH_REGION=us-east-1
    read -r base _ < <(measure rclone copyto --config /dev/null bench:bkt/big.bin "$work/out/big.bin")
    line "S1 full prefetch vs rclone copyto" "$ours" "$base" "$(ratio "$ours" "$base")" ">= 1.0x"
fi
: > "$work/log"
read -r listing _ < <(measure "$CLI" --cache-dir "$work/cache" ls s3://many --recursive --json)
requests=$(( $(wc -l < "$work/log") / runs ))
line "S2 ls --recursive of 10,000 keys: requests" "$requests" "11" "-" "<= 11"
line "S2 ... seconds" "$listing" "-" "-" "-"
