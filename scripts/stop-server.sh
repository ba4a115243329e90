#!/bin/bash
# Stops a server started by one of the scripts/start-*.sh scripts.
#
#   scripts/stop-server.sh DIR
#
# Signals the process named in DIR/pid, waits until it is gone (at most
# WXPAY_TEST_STOP_TIMEOUT seconds, default 30), then SIGKILLs it. PostgreSQL
# gets SIGINT (fast shutdown: SIGTERM would wait for every client to leave);
# everything else SIGTERM. Removes DIR/pid; keeps the data, DIR/env and
# DIR/port, so the start script can bring the server back on the same port.
# Idempotent: a missing pid file or a dead process is not an error.
set -euo pipefail

die() { echo "stop-server: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 DIR"
[ -d "$1" ] || exit 0
DIR=$(cd "$1" && pwd -P)
DEADLINE_S=${WXPAY_TEST_STOP_TIMEOUT:-30}

[ -s "$DIR/pid" ] || exit 0
PID=$(cat "$DIR/pid")
[[ "$PID" =~ ^[0-9]+$ ]] || die "$DIR/pid does not hold a process id"

if ! kill -0 "$PID" 2>/dev/null; then
    rm -f "$DIR/pid"
    exit 0
fi

case "$(cat "/proc/$PID/comm" 2>/dev/null || true)" in
    postgres | postmaster) SIG=INT ;;
    *) SIG=TERM ;;
esac
kill -s "$SIG" "$PID" 2>/dev/null || true

gone() { ! kill -0 "$PID" 2>/dev/null || [ "$(ps -o stat= -p "$PID" 2>/dev/null | cut -c1)" = Z ]; }
for ((i = 0; i < DEADLINE_S * 10; i++)); do
    gone && break
    sleep 0.1
done
if ! gone; then
    echo "stop-server: pid $PID did not stop within ${DEADLINE_S}s: sending SIGKILL" >&2
    kill -s KILL "$PID" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        gone && break
        sleep 0.1
    done
    gone || die "pid $PID survived SIGKILL"
fi
rm -f "$DIR/pid"
