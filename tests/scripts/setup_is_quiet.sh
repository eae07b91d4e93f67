#!/usr/bin/env bash
# On a machine that is already set up, the README's commands install nothing and touch no
# network: scripts/setup-debian.sh and scripts/setup-npm.sh run with apt-get, sudo, npm, curl
# and wget replaced by stubs that record any call and fail. Both must exit 0 with no call made.
#   bash tests/scripts/setup_is_quiet.sh SOURCE_DIR
set -uo pipefail
src=${1:?usage: setup_is_quiet.sh SOURCE_DIR}
stubs=$(mktemp -d)
trap 'rm -rf "$stubs"' EXIT
for tool in apt-get apt sudo npm curl wget; do
    printf '#!/bin/sh\necho "%s $*" >> "%s/calls"\nexit 1\n' "$tool" "$stubs" > "$stubs/$tool"
    chmod +x "$stubs/$tool"
done
status=0
for script in setup-debian.sh setup-npm.sh; do
    if ! PATH="$stubs:$PATH" bash "$src/scripts/$script" > "$stubs/out" 2>&1; then
        echo "FAIL: scripts/$script exited non-zero on a machine that is set up:"; cat "$stubs/out"; status=1
    fi
done
if [ -s "$stubs/calls" ]; then
    echo "FAIL: the setup scripts called, on a machine that is set up:"; cat "$stubs/calls"; status=1
fi
[ $status = 0 ] && echo "PASS: setup-debian.sh and setup-npm.sh installed nothing and called no network tool"
exit $status
