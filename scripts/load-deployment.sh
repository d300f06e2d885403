#!/bin/sh
# A whole deployment on loopback under load, for the figures in issue notes (not a test):
#
#   scripts/load-deployment.sh sqlite   [loadtest.py options]   one coffer-server on SQLite
#   scripts/load-deployment.sh postgres [loadtest.py options]   two coffer-servers on one PostgreSQL
#                                                               behind HAProxy
#
# Uses the release build (make install's; COFFER_SERVER_BINARY to choose another). Everything it
# starts (PostgreSQL in a temporary directory, servers, HAProxy) is stopped when it ends.
set -eu
cd "$(dirname "$0")/.."
SETUP="${1:?give sqlite or postgres}"
shift
SERVER="${COFFER_SERVER_BINARY:-.build-release/release/coffer-server}"
[ -x "$SERVER" ] || { echo "error: $SERVER is missing; run make install (or set COFFER_SERVER_BINARY)" >&2; exit 1; }
WORK=$(mktemp -d)
chmod 755 "$WORK"
PIDS=""
PGBIN=""
cleanup() {
    for pid in $PIDS; do kill "$pid" 2>/dev/null || true; done
    if [ -n "$PGBIN" ]; then as_postgres "$PGBIN/pg_ctl" -D "$WORK/pg/data" -m fast -w stop >/dev/null 2>&1 || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# Every device signs in from its own (forwarded) address; the limits stay the defaults.
COMMON="--host 127.0.0.1 --trusted-proxy 127.0.0.1/32 --log-level notice"
start_server() { # NAME PORT [environment...]
    name=$1 port=$2
    shift 2
    env "$@" "$SERVER" $COMMON --port "$port" --data-dir "$WORK/$name" >"$WORK/$name.log" 2>&1 &
    PIDS="$PIDS $!"
    LAST_PID=$!
    for _ in $(seq 1 100); do grep -q "listening on" "$WORK/$name.log" 2>/dev/null && return 0; sleep 0.1; done
    echo "error: $name did not start:" >&2
    cat "$WORK/$name.log" >&2
    exit 1
}
case "$SETUP" in
sqlite)
    port=$(free_port)
    start_server sqlite "$port"
    python3 scripts/loadtest.py --server "http://127.0.0.1:$port" --forwarded --server-pid "$LAST_PID" "$@"
    ;;
postgres)
    ./scripts/ensure-packages.sh postgresql haproxy
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    mkdir -p "$WORK/pg"
    [ "$(id -u)" -eq 0 ] && chown postgres "$WORK/pg"
    pgport=$(free_port)
    as_postgres "$PGBIN/initdb" -D "$WORK/pg/data" -U coffer --auth=trust -E UTF8 --locale=C >/dev/null
    as_postgres "$PGBIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/log" -w start \
        -o "-c listen_addresses=127.0.0.1 -p $pgport -k $WORK/pg -c max_connections=100 -c shared_buffers=256MB" >/dev/null
    as_postgres "$PGBIN/createdb" -h 127.0.0.1 -p "$pgport" -U coffer coffer
    url="postgres://coffer@127.0.0.1:$pgport/coffer"
    "$SERVER" migrate --database-url "$url" >/dev/null
    one=$(free_port)
    two=$(free_port)
    start_server one "$one" COFFER_SERVER_DATABASE_URL="$url" COFFER_SERVER_SECRET_FILE="$WORK/secret"
    first=$LAST_PID
    start_server two "$two" COFFER_SERVER_DATABASE_URL="$url" COFFER_SERVER_SECRET_FILE="$WORK/secret"
    second=$LAST_PID
    front=$(free_port)
    cat >"$WORK/haproxy.cfg" <<CONFIG
global
    maxconn 8000
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    option http-keep-alive
frontend coffer
    bind 127.0.0.1:$front
    default_backend servers
backend servers
    balance roundrobin
    option httpchk GET /health/ready
    server one 127.0.0.1:$one check inter 2s
    server two 127.0.0.1:$two check inter 2s
CONFIG
    haproxy -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 &
    PIDS="$PIDS $!"
    for _ in $(seq 1 50); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1', $front), 1)" 2>/dev/null && break
        sleep 0.1
    done
    python3 scripts/loadtest.py --server "http://127.0.0.1:$front" --forwarded \
        --server-pid "$first" --server-pid "$second" \
        --metrics "http://127.0.0.1:$one" --metrics "http://127.0.0.1:$two" "$@"
    ;;
*)
    echo "error: give sqlite or postgres, not $SETUP" >&2
    exit 2
    ;;
esac
