#!/usr/bin/env bash
# Installs the Debian packages the tests and the demo run (redis-server, PostgreSQL; Chromium for the
# worker app's browser tests) when missing.
# Run by `make setup` (so `make test` and `make demo` work on a fresh machine) and by .ci/run.
# The packages' services are not started: the tests start their own servers on loopback.
set -euo pipefail

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then
        exec sudo --preserve-env=DEBIAN_FRONTEND "$0" "$@"
    fi
    echo "missing system packages: ${missing[*]}; install them as root: apt-get install ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if [ ! -e /usr/sbin/policy-rc.d ]; then  # keep the packages' postinst from starting their services
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
echo "installing ${missing[*]} (apt-get)"
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
