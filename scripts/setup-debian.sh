#!/usr/bin/env bash
# Installs what SparseScope needs to build, test and run on Debian 12, and nothing that is
# already there. Idempotent. Needs root (or sudo).
set -euo pipefail
packages=(g++ cmake ninja-build ccache pkg-config git
          qt6-base-dev qt6-base-dev-tools qt6-charts-dev libqt6opengl6-dev libqt6svg6 libxxhash-dev libzip-dev libarchive-dev liburing-dev libsqlite3-dev zlib1g-dev liblzma-dev libzstd-dev libssl-dev zstd libfuse3-dev fuse3
          fonts-dejavu-core xvfb xauth desktop-file-utils appstream
          nginx-light curl time bc aria2 rclone fio python3 python3-botocore
          clang libclang-rt-14-dev openssl)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "setup: installing ${missing[*]}" >&2
# Keep Debian's nginx service from starting on port 80: tests run their own nginx.
policy_added=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    policy_added=1
fi
trap '[ $policy_added = 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d' EXIT
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
