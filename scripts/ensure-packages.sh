#!/bin/sh
# Installs the Debian packages named on the command line when they are missing.
# Used by `make run` and `make test`; prints what it does and how to fix it when it cannot.
set -eu

missing=""
for package in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $package"
    fi
done
[ -z "$missing" ] && exit 0

echo "Installing missing system packages:$missing"
if [ "$(id -u)" -eq 0 ]; then
    runner=""
elif command -v sudo >/dev/null 2>&1; then
    runner="sudo"
else
    echo "error: these packages are missing:$missing" >&2
    echo "       install them as root: apt-get install$missing" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: apt-get is not available; install these packages with your system's package manager:$missing" >&2
    exit 1
fi
# shellcheck disable=SC2086
if ! $runner apt-get install -y --no-install-recommends $missing; then
    $runner apt-get update
    # shellcheck disable=SC2086
    $runner apt-get install -y --no-install-recommends $missing || {
        echo "error: could not install$missing; check your network and apt sources, then run: apt-get install$missing" >&2
        exit 1
    }
fi
