#!/usr/bin/env bash
# NATS servers for the replication tests, on loopback only, with JetStream file storage in a
# temporary directory:
#   a single node          client port 14222                 (TRUTHDB_NATS_URL)
#   a 3-node cluster       client ports 14231, 14232, 14233  (TRUTHDB_NATS_CLUSTER_URLS)
#                          route ports 16231-16233, monitoring 18231-18233
# The node-restart test starts its own 3-node cluster (ports 14241-14243), so it never disturbs
# these. Usage: .ci/nats.sh start | stop | status. `start` installs Debian's nats-server when it is
# missing and waits until every node reports healthy JetStream; `stop` ends the servers it started
# and deletes their storage.
set -euo pipefail

state="${TRUTHDB_NATS_STATE:-${TMPDIR:-/tmp}/truthdb-ci-nats}"

install() {
    if command -v nats-server >/dev/null 2>&1; then
        return
    fi
    echo "nats-server is missing: installing Debian's package" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >/dev/null
}

launch() { # name client-port [cluster args...]
    local name="$1" port="$2"
    shift 2
    mkdir -p "$state/$name"
    nats-server -a 127.0.0.1 -p "$port" -n "$name" -js -sd "$state/$name" "$@" >"$state/$name.log" 2>&1 &
    echo $! >"$state/$name.pid"
}

healthy() { # monitoring port: GET /healthz answers 200 (plain bash, no curl needed)
    (
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf 'GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
        read -r status <&3 || exit 1
        [[ "$status" == *" 200 "* ]]
    ) 2>/dev/null
}

start() {
    install
    stop quiet
    mkdir -p "$state"
    launch single 14222 -m 18222
    local routes="nats://127.0.0.1:16231,nats://127.0.0.1:16232,nats://127.0.0.1:16233"
    for i in 1 2 3; do
        launch "node$i" "1423$i" -m "1823$i" --cluster_name truthdb-ci --cluster "nats://127.0.0.1:1623$i" --routes "$routes"
    done
    for port in 18222 18231 18232 18233; do
        for _ in $(seq 1 300); do
            healthy "$port" && break
            sleep 0.1
        done
        if ! healthy "$port"; then
            echo "NATS node with monitoring port $port did not become healthy; its log:" >&2
            tail -n 30 "$state"/*.log >&2 || true
            exit 1
        fi
    done
    echo "NATS: single node on 127.0.0.1:14222, 3-node cluster on 127.0.0.1:14231-14233 (storage in $state)"
}

stop() {
    local pidfile
    for pidfile in "$state"/*.pid; do
        [ -e "$pidfile" ] || continue
        local pid
        pid="$(cat "$pidfile")"
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 1 100); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            kill -9 "$pid" 2>/dev/null || true
        fi
        rm -f "$pidfile"
    done
    rm -rf "$state"
    [ "${1:-}" = quiet ] || echo "NATS servers stopped"
}

status() {
    local port
    for port in 18222 18231 18232 18233; do
        if healthy "$port"; then echo "monitoring port $port: healthy"; else echo "monitoring port $port: down"; fi
    done
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
