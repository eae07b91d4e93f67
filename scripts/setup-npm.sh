#!/usr/bin/env bash
# The npm packages the tests use, under tests/.npm (not tracked): @20minutes/s3rver 4.0.4, an S3
# implementation that checks SigV4 (tst_s3's interoperability run). Idempotent: touches the
# network only when the package is missing; installs Debian's nodejs and npm when npm is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=tests/.npm
want=4.0.4
have=$(node -p "require('./$dir/node_modules/@20minutes/s3rver/package.json').version" 2>/dev/null || true)
[ "$have" = "$want" ] && exit 0
if ! command -v npm >/dev/null; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "setup: installing nodejs npm" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
echo "setup: npm install @20minutes/s3rver@$want into $dir" >&2
mkdir -p "$dir"
npm install --prefix "$dir" --no-audit --no-fund --silent "@20minutes/s3rver@$want" >/dev/null
