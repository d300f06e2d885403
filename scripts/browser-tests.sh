#!/bin/sh
# The portal's browser tests: Debian's chromium + chromedriver driven by selenium (from PyPI),
# against the debug build of coffer-server and coffer. Installs what is missing; fails loudly
# (never skips) when the browser or selenium cannot be had.
set -eu

here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/scripts/ensure-packages.sh" chromium chromium-driver python3-venv

venv="$here/.build/browser-venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" || {
        echo "error: cannot create a Python virtual environment for selenium (apt-get install python3-venv)" >&2
        exit 1
    }
fi
if ! "$venv/bin/python" -c "import selenium" 2>/dev/null; then
    "$venv/bin/pip" install --quiet -r "$here/Tests/Browser/requirements.txt" || {
        echo "error: cannot install selenium from PyPI; check the network, then run make test again" >&2
        exit 1
    }
fi

COFFER_BIN_DIR="${COFFER_BIN_DIR:-$(cd "$here" && swift build --show-bin-path)}"
export COFFER_BIN_DIR
exec "$venv/bin/python" -m unittest discover -v -s "$here/Tests/Browser" -p "test_*.py"
