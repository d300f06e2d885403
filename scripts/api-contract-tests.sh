#!/bin/sh
# The OpenAPI document is the contract: Schemathesis (from PyPI) sends generated requests to the real
# coffer-server and fails on any server error, any undocumented status, content type or body, any
# schema-valid request refused and any invalid one accepted. Bounded: a few minutes on two cores.
set -eu
cd "$(dirname "$0")/.."
./scripts/ensure-packages.sh python3-venv
SERVER="${COFFER_SERVER_BINARY:-$(swift build --show-bin-path)/coffer-server}"
EXAMPLES="${CONTRACT_EXAMPLES:-25}"
VENV=.build/contract-venv
if [ ! -x "$VENV/bin/st" ]; then
    python3 -m venv "$VENV" || {
        echo "error: cannot create a Python virtual environment for schemathesis (apt-get install python3-venv)" >&2
        exit 1
    }
    "$VENV/bin/pip" install --quiet "schemathesis==4.32.5" || {
        echo "error: cannot install schemathesis from PyPI; check the network, then run make test again" >&2
        exit 1
    }
fi
DATA=$(mktemp -d)
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$DATA"' EXIT
"$SERVER" --host 127.0.0.1 --port 0 --data-dir "$DATA/data" >"$DATA/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do
    URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$DATA/server.log" | head -n 1 || true)
    [ -n "$URL" ] && break
    sleep 0.1
done
[ -n "$URL" ] || { echo "error: coffer-server did not start:" >&2; cat "$DATA/server.log" >&2; exit 1; }
# A registered account, so authenticated routes are reached with a real token.
TOKEN=$("$VENV/bin/python" - "$URL" <<'PYTHON'
import base64, json, os, sys, urllib.request, uuid
url = sys.argv[1]
box = lambda: base64.b64encode(b"\x01" + os.urandom(80)).decode()
body = {"email": "contract@example.org", "accountID": str(uuid.uuid4()),
        "kdf": {"memoryKiB": 65536, "iterations": 3, "parallelism": 4},
        "salt": base64.b64encode(os.urandom(16)).decode(), "authKey": base64.b64encode(os.urandom(32)).decode(),
        "recoveryAuthKey": base64.b64encode(os.urandom(32)).decode(), "passwordWrappedKey": box(),
        "recoveryWrappedKey": box(), "device": {"id": str(uuid.uuid4()), "name": "contract"}}
request = urllib.request.Request(url + "/api/v1/register", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
print(json.loads(urllib.request.urlopen(request).read())["accessToken"])
PYTHON
)
# /api/v2/changes is an event stream that stays open by design (a generated request would wait for
# its end); the end-to-end tests cover it (LiveSyncTests).
"$VENV/bin/st" --config-file Tests/Contract/schemathesis.toml run "$URL/openapi.yaml" --url "$URL" \
    --checks all --exclude-deprecated --exclude-path /api/v2/changes --max-examples "$EXAMPLES" --workers 1 --seed "${CONTRACT_SEED:-4711}" \
    -H "Authorization: Bearer $TOKEN"
kill "$PID" 2>/dev/null || true
wait "$PID" 2>/dev/null || true
if grep -q "Fatal error\|Program crashed" "$DATA/server.log"; then
    echo "error: coffer-server crashed during the contract run:" >&2
    cat "$DATA/server.log" >&2
    exit 1
fi
