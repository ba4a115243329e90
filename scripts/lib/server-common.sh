# What the scripts/start-*.sh scripts share; sourced, never run. Each start
# script keeps DIR (its one argument) for data, logs, DIR/pid and DIR/env,
# listens on free loopback ports, and does nothing when DIR/pid names a live
# server of DIR.
#
#   source "$(dirname "$0")/lib/server-common.sh"
#
# Sets SCRIPTS (the scripts/ directory) and SERVER_SCRIPT (the calling
# script's name without .sh, e.g. start-mariadb: the prefix of its messages).
# shellcheck shell=bash

SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
SERVER_SCRIPT=$(basename "$0" .sh)

die() { echo "$SERVER_SCRIPT: $*" >&2; exit 1; }

# server_dir DIR: creates DIR if needed; sets DIR to its absolute physical path.
server_dir() {
    mkdir -p "$1"
    DIR=$(cd "$1" && pwd -P)
}

# exit_if_running: exits 0 when DIR/pid names a live server of DIR: a process
# whose command line holds DIR as an argument or a path below DIR (not a pid
# reused by something else). Forgets a stale DIR/pid.
exit_if_running() {
    [ -s "$DIR/pid" ] || return 0
    local old args
    old=$(cat "$DIR/pid")
    if kill -0 "$old" 2>/dev/null; then
        args=" $(tr '\0' ' ' <"/proc/$old/cmdline" 2>/dev/null || true) "
        case "$args" in
            *"$DIR/"* | *" $DIR "*)
                [ -s "$DIR/env" ] || die "server $old is running but $DIR/env is missing: stop it with scripts/stop-server.sh $DIR"
                exit 0
                ;;
        esac
    fi
    rm -f "$DIR/pid"
}

# choose_ports FILE COUNT: sets PORTS to the COUNT space-separated loopback
# ports in FILE when they are all still free (PORTS_REUSED=1: a restart on the
# same ports), else to COUNT new free ports, held together so they differ
# (PORTS_REUSED=0). Free means bindable with SO_REUSEADDR, as the servers
# bind: a port whose old connections linger in TIME_WAIT after a stop is free
# for a restart, one with a listener is not. Does not write FILE.
# shellcheck disable=SC2034  # PORTS and PORTS_REUSED are for the caller
choose_ports() {
    local file=$1 count=$2
    # shellcheck disable=SC2046  # one word per port
    if [ -s "$file" ] && /usr/bin/python3 -c 'import socket,sys
try:
    for p in sys.argv[1:]:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", int(p)))
        s.close()
except (OSError, ValueError):
    sys.exit(1)' $(cat "$file"); then
        PORTS=$(cat "$file")
        PORTS_REUSED=1
    else
        PORTS=$(/usr/bin/python3 -c 'import socket,sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$count")
        PORTS_REUSED=0
    fi
}

# port_accepts PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_accepts() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# await_ready DEADLINE_S INTERVAL PID PROBE...: runs PROBE (quietly) every
# INTERVAL seconds until it succeeds (returns 0), PID has exited (returns 1)
# or DEADLINE_S seconds have passed (returns 2).
await_ready() {
    local deadline=$((SECONDS + $1)) interval=$2 pid=$3
    shift 3
    until "$@" >/dev/null 2>&1; do
        kill -0 "$pid" 2>/dev/null || return 1
        [ "$SECONDS" -lt "$deadline" ] || return 2
        sleep "$interval"
    done
}

# restart_command: the shell command that stops the server of DIR and starts
# it again with the calling script (same ports and data), for DIR/env.
restart_command() {
    echo "'$SCRIPTS/stop-server.sh' '$DIR' && '$SCRIPTS/$SERVER_SCRIPT.sh' '$DIR'"
}

# publish_server PID: writes DIR/env from stdin (atomically), then DIR/pid:
# a DIR/pid always comes with a complete DIR/env.
publish_server() {
    cat >"$DIR/env.tmp"
    mv "$DIR/env.tmp" "$DIR/env"
    echo "$1" >"$DIR/pid"
}
