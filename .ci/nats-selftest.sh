#!/usr/bin/env bash
# Tries .ci/nats.sh against real failures, with real nats-server processes on loopback:
#   1. a port it uses is held by another nats-server (the bind fails, while the other server would
#      answer health checks on that port): start fails, shows the log, leaves nothing running, and
#      the other server lives on;
#   2. a server of the run is SIGKILLed right after it started: start fails, leaves nothing running;
#   3. two runs at once: both start, on different ports; stopping one leaves the other answering;
#   4. stop never signals a pid that is not its own server (a foreign pid written into its state).
# Prints one line per case and exits 0 only when all pass. Usage: .ci/nats-selftest.sh
set -euo pipefail
cd "$(dirname "$0")/.."
nats=.ci/nats.sh
work="$(mktemp -d "${TMPDIR:-/tmp}/nats-selftest.XXXXXX")"
foreign_pid=""
cleanup() {
    local state
    for state in "$work"/case*/truthdb-ci-nats.*; do
        [ ! -d "$state" ] || bash "$nats" stop "$state" 2>/dev/null || true
    done
    if [ -n "$foreign_pid" ]; then kill "$foreign_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
failures=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

leftovers() { # processes whose command line names this case's TMPDIR
    pgrep -f -- "$1/truthdb-ci-nats" || true
}

port_base=$((20000 + RANDOM % 10000))
ports() { # eleven consecutive ports from $1
    seq "$1" $(($1 + 10)) | tr '\n' ' '
}

# 1. A port taken by another server.
mkdir -p "$work/foreign" "$work/case1"
nats-server -a 127.0.0.1 -p "$port_base" -m $((port_base + 1)) -js -sd "$work/foreign/js" >"$work/foreign/log" 2>&1 </dev/null &
foreign_pid=$!
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$((port_base + 1))") 2>/dev/null && break; sleep 0.1; done
status=0
TMPDIR="$work/case1" TRUTHDB_NATS_PORTS="$(ports "$port_base")" bash "$nats" start >"$work/out1" 2>"$work/err1" || status=$?
if [ "$status" != 0 ] && [ ! -s "$work/out1" ] && grep -q "address already in use" "$work/err1" &&
    [ -z "$(leftovers "$work/case1")" ] && kill -0 "$foreign_pid" 2>/dev/null && [ -z "$(ls -A "$work/case1")" ]; then
    pass "port held by another server: start exits $status, shows 'address already in use', nothing left running, the other server untouched"
else
    fail "port held by another server: exit $status, stdout '$(cat "$work/out1")', leftovers '$(leftovers "$work/case1")'"
    cat "$work/err1"
fi

# 2. A server killed right after it started.
mkdir -p "$work/case2"
status=0
TMPDIR="$work/case2" bash "$nats" start >"$work/out2" 2>"$work/err2" &
starter=$!
killed=""
for _ in $(seq 1 500); do
    for pidfile in "$work"/case2/truthdb-ci-nats.*/node2.pid; do
        # Only a process this case started: its command line names this case's directory (once
        # the child has exec'd nats-server).
        if [ -s "$pidfile" ] && tr '\0' ' ' <"/proc/$(cat "$pidfile")/cmdline" 2>/dev/null | grep -q -- "$work/case2/"; then
            killed="$(cat "$pidfile")"
            kill -KILL "$killed"
            break 2
        fi
    done
    sleep 0.01
done
wait "$starter" || status=$?
if [ -n "$killed" ] && [ "$status" != 0 ] && [ ! -s "$work/out2" ] && grep -q "node2 did not come up alive" "$work/err2" &&
    [ -z "$(leftovers "$work/case2")" ]; then
    pass "server SIGKILLed right after start: start exits $status naming node2, nothing left running"
else
    fail "server SIGKILLed right after start (pid '$killed'): exit $status, stdout '$(cat "$work/out2")', leftovers '$(leftovers "$work/case2")'"
    cat "$work/err2"
fi

# 3. Two runs at once.
mkdir -p "$work/case3"
TMPDIR="$work/case3" bash "$nats" start >"$work/case3/a" 2>"$work/case3/a.err" &
a=$!
TMPDIR="$work/case3" bash "$nats" start >"$work/case3/b" 2>"$work/case3/b.err" &
b=$!
sa=0 sb=0
wait "$a" || sa=$?
wait "$b" || sb=$?
state_a="$(cat "$work/case3/a")" state_b="$(cat "$work/case3/b")"
if [ "$sa" = 0 ] && [ "$sb" = 0 ] && [ "$state_a" != "$state_b" ] && ! cmp -s "$state_a/env" "$state_b/env"; then
    bash "$nats" stop "$state_a" 2>/dev/null
    if bash "$nats" status "$state_b" >"$work/case3/status" && [ ! -e "$state_a" ]; then
        pass "two runs at once: both started on different ports; stopping one left the other answering"
    else
        fail "two runs at once: after stopping the first, the second: $(cat "$work/case3/status")"
    fi
    bash "$nats" stop "$state_b" 2>/dev/null || fail "two runs at once: stopping the second reported a dead server"
else
    fail "two runs at once: exits $sa and $sb"
    cat "$work/case3/a.err" "$work/case3/b.err"
    for state in $state_a $state_b; do bash "$nats" stop "$state" 2>/dev/null || true; done
fi
[ -z "$(leftovers "$work/case3")" ] || fail "two runs at once: servers left running"

# 4. stop never signals a foreign pid recorded in its state.
mkdir -p "$work/case4"
state="$(TMPDIR="$work/case4" bash "$nats" start 2>/dev/null)"
own="$(cat "$state/node1.pid")"
echo "$foreign_pid" >"$state/node1.pid"
status=0
bash "$nats" stop "$state" 2>"$work/case4/err" || status=$?
if kill -0 "$foreign_pid" 2>/dev/null && [ "$status" = 3 ] && grep -q "node1 (pid $foreign_pid) was no longer running" "$work/case4/err"; then
    pass "stop with a foreign pid in its state: left it alone, exit 3"
else
    fail "stop with a foreign pid in its state: exit $status, foreign server alive: $(kill -0 "$foreign_pid" 2>/dev/null && echo yes || echo no)"
fi
# node1 of case 4 was started by this script (through nats.sh): end it.
if tr '\0' ' ' <"/proc/$own/cmdline" 2>/dev/null | grep -q -- "$work/case4/"; then kill "$own"; fi

[ "$failures" = 0 ] && echo "all cases passed" || { echo "$failures case(s) failed"; exit 1; }
