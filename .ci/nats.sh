#!/usr/bin/env bash
# NATS servers for the replication tests, on loopback only, each run in its own fresh state
# directory (mktemp) on ports found free for that run:
#   a single node      -> TRUTHDB_NATS_URL
#   a 3-node cluster   -> TRUTHDB_NATS_CLUSTER_URLS (comma-separated)
#
#   .ci/nats.sh start [--sync always]
#                                installs nats-server >= 2.10 when missing or older (see install),
#                                starts the servers, waits until each is alive, is the server it
#                                started (name and port checked) and reports healthy JetStream, and
#                                prints the state directory on stdout (nothing else). The directory
#                                holds `env` (export lines for the two variables), the logs and pids.
#                                Any server not alive and answering: its log on stderr, everything this
#                                run started is stopped, exit 1. With --sync always every server runs
#                                with `jetstream { sync_interval: always }` (fsync of every write before
#                                it is acknowledged; nats-server 2.10+), from a configuration file in DIR,
#                                and `env` also exports TRUTHDB_NATS_SYNC=always; without it, JetStream's
#                                default (an fsync every 2 minutes) and TRUTHDB_NATS_SYNC=default.
#   .ci/nats.sh stop DIR         stops exactly the servers that `start` recorded in DIR (a pid is
#                                signalled only while it still is that nats-server: its command line
#                                names DIR), then deletes DIR. Exit 3 when one had already died (its
#                                log is shown).
#   .ci/nats.sh status DIR       says for each server of DIR whether it is alive and answering.
#   .ci/nats.sh install          only the installation step.
#
# A port is taken only after checking that nothing listens on it; another process may still take
# it before the server binds, so a server that dies of "address already in use" makes `start` try
# again on other ports (3 attempts), never report success. Nothing outside DIR is ever signalled.
# TRUTHDB_NATS_PORTS="11 ports" (single client, monitor; then client, monitor, route of each node)
# takes those ports without checking them: .ci/nats-selftest.sh uses it to make a bind fail.
# .ci/nats-selftest.sh tries this script against real failures (a held port, a server killed at
# start, two runs at once, a foreign pid in the state directory).
set -euo pipefail

names=(single node1 node2 node3)

die() {
    echo "nats.sh: $*" >&2
    exit 1
}

version_at_least() { # have want: true when have >= want (dotted numbers)
    [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]
}

installed_version() {
    command -v nats-server >/dev/null 2>&1 || return 0
    nats-server --version 2>/dev/null | sed -n 's/^nats-server: v\{0,1\}\([0-9][0-9.]*\).*/\1/p'
}

# The Debian mirror this machine already uses: the first URI of an entry (one-line sources.list
# format or deb822 .sources) whose suite is the release codename itself (not -security/-updates).
# Prints "URI KEYRING" (KEYRING is empty when the entry names no keyring file).
debian_mirror() { # apt-etc-dir codename
    local etc="$1" codename="$2" file
    for file in "$etc/sources.list" "$etc"/sources.list.d/*.list; do
        [ -f "$file" ] || continue
        awk -v want="$codename" '
            $1 == "deb" {
                keyring = ""; i = 2
                if ($2 ~ /^\[/) {
                    for (; i <= NF; i++) {
                        if (match($i, /signed-by=[^] ]+/)) keyring = substr($i, RSTART + 10, RLENGTH - 10)
                        if ($i ~ /\]$/) { i++; break }
                    }
                }
                if ($(i + 1) == want) { print $i, keyring; found = 1; exit }
            }
            END { exit found ? 0 : 1 }' "$file" && return 0
    done
    for file in "$etc"/sources.list.d/*.sources; do
        [ -f "$file" ] || continue
        awk -v want="$codename" '
            function flush() {
                if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " want " ") && uri != "" && !found) {
                    print uri, keyring; found = 1
                }
                types = ""; suites = ""; uri = ""; keyring = ""
            }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); next }
            tolower($1) == "types:" { $1 = ""; types = $0 }
            tolower($1) == "uris:" { uri = $2 }
            tolower($1) == "suites:" { $1 = ""; suites = $0; gsub(/^ +| +$/, "", suites) }
            tolower($1) == "signed-by:" && $2 ~ /^\// { keyring = $2 }
            END { flush(); exit found ? 0 : 1 }' "$file" && return 0
    done
    return 1
}

# Writes the trixie source (its own list file) and the low pin (priority 100: nothing is ever
# upgraded from trixie unless asked for with -t trixie) under the apt configuration directory.
write_trixie_source() { # apt-etc-dir codename
    local etc="$1" mirror uri keyring options=""
    mirror="$(debian_mirror "$etc" "$2")" ||
        die "no Debian source for '$2' in $etc/sources.list or $etc/sources.list.d: cannot derive a mirror for trixie's nats-server"
    read -r uri keyring <<<"$mirror"
    [ -z "$keyring" ] || options="[signed-by=$keyring] "
    mkdir -p "$etc/sources.list.d" "$etc/preferences.d"
    printf 'deb %s%s trixie main\n' "$options" "$uri" >"$etc/sources.list.d/trixie-nats.list"
    printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' >"$etc/preferences.d/trixie-low"
}

# nats-server >= 2.10 (sync_interval, the JetStream behaviour docs/replication.md describes). When
# it is missing or older: Debian's package if the machine's own release has >= 2.10, otherwise
# trixie's, from a trixie source pinned low so that nothing else comes from it.
# TRUTHDB_APT_ETC (default /etc/apt) with TRUTHDB_NATS_WRITE_SOURCE_ONLY=1 only writes the source
# and pin files there (a dry run of the generation, for a test directory).
install() {
    local etc="${TRUTHDB_APT_ETC:-/etc/apt}" have codename candidate
    if [ "${TRUTHDB_NATS_WRITE_SOURCE_ONLY:-}" = 1 ]; then
        codename="${TRUTHDB_DEBIAN_CODENAME:-$(. /etc/os-release && echo "${VERSION_CODENAME:-}")}"
        write_trixie_source "$etc" "$codename"
        return
    fi
    have="$(installed_version)"
    if [ -n "$have" ] && version_at_least "$have" 2.10; then
        return
    fi
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        die "the tests need nats-server 2.10 or newer (found: ${have:-none}); install it (Debian: apt-get install -t trixie nats-server, from a trixie source) and run this again"
    fi
    echo "nats-server ${have:-is missing}${have:+ is older than 2.10}: installing Debian's package" >&2
    apt-get update -qq
    candidate="$(apt-cache policy nats-server | sed -n 's/^ *Candidate: *\([0-9][0-9.]*\).*/\1/p')"
    if [ -n "$candidate" ] && version_at_least "$candidate" 2.10; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >/dev/null
    else
        codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
        [ -n "$codename" ] || die "cannot tell this machine's Debian release (no VERSION_CODENAME in /etc/os-release)"
        write_trixie_source "$etc" "$codename"
        echo "added $etc/sources.list.d/trixie-nats.list, pinned low by $etc/preferences.d/trixie-low" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t trixie nats-server >/dev/null
    fi
    have="$(installed_version)"
    [ -n "$have" ] && version_at_least "$have" 2.10 || die "installed nats-server is ${have:-missing}, not 2.10 or newer"
}

listening() { # port: true when something accepts connections on 127.0.0.1:port
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pick_port() { # sets picked: a port nothing listens on, outside the ephemeral range, not chosen yet
    local low=20000 high=32000 port chosen taken
    if [ -n "${TRUTHDB_NATS_PORTS:-}" ]; then # fixed ports, taken unchecked (.ci/nats-selftest.sh)
        read -r -a fixed <<<"$TRUTHDB_NATS_PORTS"
        picked="${fixed[${#chosen_ports[@]}]:?TRUTHDB_NATS_PORTS needs 11 ports}"
        chosen_ports+=("$picked")
        return
    fi
    for _ in $(seq 1 200); do
        port=$((low + RANDOM % (high - low)))
        taken=0
        for chosen in "${chosen_ports[@]}"; do [ "$chosen" != "$port" ] || taken=1; done
        [ "$taken" = 0 ] || continue
        if listening "$port"; then continue; fi
        if command -v ss >/dev/null 2>&1 && [ -n "$(ss -Htln "sport = :$port" 2>/dev/null)" ]; then continue; fi
        chosen_ports+=("$port")
        picked="$port"
        return
    done
    die "found no free port between $low and $high"
}

http_get() { # port path: prints the body of GET http://127.0.0.1:port/path when the status is 200
    (
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
        read -r status <&3 || exit 1
        [[ "$status" == *" 200 "* ]] || exit 1
        while IFS= read -r line <&3; do [ "${line%$'\r'}" != "" ] || break; done
        cat <&3
    ) 2>/dev/null
}

ours() { # state name: the pid recorded for name, when that process still is our nats-server
    local pid cmdline
    [ -s "$1/$2.pid" ] || return 1
    pid="$(cat "$1/$2.pid")"
    [ -r "/proc/$pid/cmdline" ] || return 1
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
    [[ "$cmdline" == *nats-server* && "$cmdline" == *" -sd $1/$2 "* ]] || return 1
    echo "$pid"
}

answering() { # state name: alive, ours, the server on its ports is this one (name, client and
    # route port), JetStream healthy (in the cluster: a meta leader, reached over the routes)
    local state="$1" name="$2" client monitor route varz
    read -r client monitor route <"$state/$name.ports"
    ours "$state" "$name" >/dev/null || return 1
    varz="$(http_get "$monitor" /varz)" || return 1
    [[ "$varz" == *"\"server_name\": \"$(cat "$state/id")-$name\""* ]] || return 1
    [[ "$varz" == *"\"port\": $client,"* ]] || return 1
    [ "$route" = - ] || [[ "$varz" == *"\"cluster_port\": $route,"* ]] || return 1
    http_get "$monitor" /healthz >/dev/null
}

launch() { # state name client-port monitor-port route-port|- [cluster args...]
    local state="$1" name="$2" client="$3" monitor="$4" route="$5"
    shift 5
    rm -rf "${state:?}/$name" # storage of an earlier attempt of this run
    mkdir -p "$state/$name"
    echo "$client $monitor $route" >"$state/$name.ports"
    local config=()
    [ ! -f "$state/jetstream.conf" ] || config=(-c "$state/jetstream.conf")
    nats-server "${config[@]}" -a 127.0.0.1 -p "$client" -m "$monitor" -n "$(cat "$state/id")-$name" -js -sd "$state/$name" "$@" \
        >"$state/$name.log" 2>&1 </dev/null &
    local pid=$!
    echo "$pid" >"$state/$name.pid"
    # Until the child has exec'd, its command line is this shell's: wait for it (or for its end).
    for _ in $(seq 1 500); do
        ours "$state" "$name" >/dev/null || [ ! -d "/proc/$pid" ] || { sleep 0.01; continue; }
        break
    done
}

show_log() { # state name
    echo "---- $1/$2.log (last 30 lines) ----" >&2
    tail -n 30 "$1/$2.log" >&2 2>/dev/null || echo "(no log)" >&2
}

stop_servers() { # state: signal only our own, recorded servers; 3 when one had already died
    local state="$1" name pid status=0
    for name in "${names[@]}"; do
        [ -e "$state/$name.pid" ] || continue
        if pid="$(ours "$state" "$name")"; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 1 100); do
                ours "$state" "$name" >/dev/null || break
                sleep 0.1
            done
            if pid="$(ours "$state" "$name")"; then kill -KILL "$pid" 2>/dev/null || true; fi
        else
            echo "nats.sh: $name (pid $(cat "$state/$name.pid")) was no longer running" >&2
            show_log "$state" "$name"
            status=3
        fi
        rm -f "$state/$name.pid"
    done
    return "$status"
}

attempt() { # state: start all four servers on fresh ports; true when every one is answering
    local state="$1" routes="" i name ok
    chosen_ports=()
    local c m cp=() mp=() rp=()
    pick_port; c="$picked"
    pick_port; m="$picked"
    launch "$state" single "$c" "$m" -
    for i in 1 2 3; do
        pick_port; cp+=("$picked")
        pick_port; mp+=("$picked")
        pick_port; rp+=("$picked")
        routes+="${routes:+,}nats://127.0.0.1:${rp[-1]}"
    done
    for i in 1 2 3; do
        launch "$state" "node$i" "${cp[i - 1]}" "${mp[i - 1]}" "${rp[i - 1]}" \
            --cluster_name "$(cat "$state/id")" --cluster "nats://127.0.0.1:${rp[i - 1]}" --routes "$routes"
    done
    for name in "${names[@]}"; do
        ok=0
        for _ in $(seq 1 300); do
            if answering "$state" "$name"; then ok=1; break; fi
            ours "$state" "$name" >/dev/null || break # died: no use waiting
            sleep 0.1
        done
        [ "$ok" = 1 ] || { failed="$name"; return 1; }
    done
    # Once more right before reporting success: every server still alive and answering.
    for name in "${names[@]}"; do
        answering "$state" "$name" || { failed="$name"; return 1; }
    done
    local cluster=()
    for i in 1 2 3; do cluster+=("nats://127.0.0.1:${cp[i - 1]}"); done
    printf 'export TRUTHDB_NATS_URL=nats://127.0.0.1:%s\nexport TRUTHDB_NATS_CLUSTER_URLS=%s\nexport TRUTHDB_NATS_SYNC=%s\n' \
        "$c" "$(IFS=,; echo "${cluster[*]}")" "$sync" >"$state/env"
}

start() { # [--sync always]
    sync=default
    case "${1:-}" in
        "") ;;
        --sync)
            [ "${2:-}" = always ] || die "--sync takes 'always' (fsync every write before acknowledging it); without --sync the servers keep JetStream's default"
            sync=always
            ;;
        *) die "unknown option '$1' for start (it takes --sync always)" ;;
    esac
    install >&2 # stdout carries only the state directory
    local attemptno
    state="$(mktemp -d "${TMPDIR:-/tmp}/truthdb-ci-nats.XXXXXX")"
    # Interrupted or failed before reporting success: stop what this run started, keep nothing.
    trap 'stop_servers "$state" 2>/dev/null || true; rm -rf "$state"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    basename "$state" | tr -c 'A-Za-z0-9\n' '-' >"$state/id"
    if [ "$sync" = always ]; then
        printf 'jetstream {\n  sync_interval: always\n}\n' >"$state/jetstream.conf"
    fi
    for attemptno in 1 2 3; do
        failed=""
        if attempt "$state"; then
            echo "NATS: $(sed -n 's/^export //p' "$state/env" | tr '\n' ' ')(state $state)" >&2
            trap - EXIT INT TERM
            echo "$state"
            return
        fi
        if grep -q "address already in use" "$state/$failed.log" 2>/dev/null && [ "$attemptno" -lt 3 ]; then
            echo "nats.sh: $failed lost a port to another process (address already in use); trying other ports" >&2
            stop_servers "$state" 2>/dev/null || true
            continue
        fi
        echo "nats.sh: $failed did not come up alive and answering (attempt $attemptno)" >&2
        show_log "$state" "$failed"
        exit 1 # the EXIT trap stops the others and deletes the state directory
    done
}

checked_state() { # DIR given to stop/status: one that start made
    [ -n "${1:-}" ] || die "usage: $0 ${command} STATE-DIR (the directory 'start' printed)"
    [ -f "$1/id" ] && [ -f "$1/single.pid" ] || die "$1 is not a state directory made by '$0 start'"
    (cd "$1" && pwd)
}

command="${1:-}"
case "$command" in
    start) shift; start "$@" ;;
    stop)
        state="$(checked_state "${2:-}")"
        status=0
        stop_servers "$state" || status=$?
        rm -rf "$state"
        echo "NATS servers of $state stopped" >&2
        exit "$status"
        ;;
    status)
        state="$(checked_state "${2:-}")"
        status=0
        for name in "${names[@]}"; do
            if answering "$state" "$name"; then echo "$name: alive and answering"; else echo "$name: DOWN"; status=1; fi
        done
        exit "$status"
        ;;
    install) install ;;
    *) echo "usage: $0 start [--sync always] | stop STATE-DIR | status STATE-DIR | install" >&2; exit 2 ;;
esac
