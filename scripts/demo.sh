#!/bin/bash
# `make demo`: wxpay-reconciler doing its job end to end on this machine.
#
# Builds the daemon, starts a throwaway RabbitMQ node, the WeChat Pay
# simulator over HTTPS and a SQLite shop database with one order per
# interesting case (scripts/demo/), publishes the orders the way the shop
# would (through the shop's delay queue), runs the daemon in the foreground
# so each decision shows as it happens, and ends with a table of every order:
# expected and actual end state, and the calls WeChat Pay received.
#
# Exit 0 only if every order ended as expected and the daemon stopped
# cleanly (SIGTERM -> exit 0). Everything it started is stopped by PID on the
# way out, also on Ctrl-C. Logs and data stay in the work directory.
#
#   WXPAY_DEMO_DIR  work directory (default build/demo)
#   JOBS            parallel compile jobs (default 2)
#
# Needs root (RabbitMQ runs as the caller, with its files under the work
# directory) and the packages of scripts/install-deps.sh (`make demo` installs
# them first).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
DATA=$ROOT/scripts/demo
WORK=${WXPAY_DEMO_DIR:-$ROOT/build/demo}
JOBS=${JOBS:-2}
BIN=$ROOT/build/wxpay-reconciler
CONFIG=$DATA/config.yaml
DELAY=5s          # rabbitmq.shop_delay.ttl in scripts/demo/config.yaml
DEADLINE_S=60     # for every order to reach its end state
LATE_PAYER=100008 # USERPAYING at first; the buyer pays during the demo

if [ -t 1 ]; then
    B=$'\e[1m' D=$'\e[2m' G=$'\e[32m' R=$'\e[31m' Y=$'\e[33m' N=$'\e[0m'
else
    B='' D='' G='' R='' Y='' N=''
fi
step() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
say() { printf '   %s\n' "$*"; }
die() {
    printf '%sdemo: %s%s\n' "$R" "$*" "$N" >&2
    exit 1
}
show_log() {  # show_log FILE: the last lines of a log, indented
    tail -n "${2:-20}" "$1" 2>/dev/null | sed 's/^/   | /' >&2
}

[ "$(id -u)" -eq 0 ] || die "run as root (it starts a throwaway RabbitMQ node): sudo make demo"
case "$WORK" in *[[:space:]]*) die "the work directory must not contain spaces: $WORK" ;; esac
mkdir -p "$WORK" || die "cannot create $WORK"
exec 9>"$WORK/.lock"
flock -n 9 || die "another demo is running in $WORK"

# ----------------------------------------------------------------- cleanup
DAEMON_PID='' SIM_PID='' NOTIFY_PID='' PRETTY_FD='' PRETTY_PID='' RABBIT_STARTED=0

# stop_pid PID SECONDS: SIGTERM, wait up to SECONDS, then SIGKILL. Only for
# children of this shell.
stop_pid() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

# stop_leftover PIDFILE CMDLINE_PART: a process from an earlier demo that was
# killed before it could clean up; signalled only if its command line still
# is what the pid file says it was.
stop_leftover() {
    local file=$1 pid i
    [ -s "$file" ] || return 0
    pid=$(cat "$file")
    if [[ "$pid" =~ ^[0-9]+$ ]] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$2"; then
        kill -TERM "$pid" 2>/dev/null
        for ((i = 0; i < 100; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null
    fi
    rm -f "$file"
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [ -n "$DAEMON_PID" ] && stop_pid "$DAEMON_PID" 15
    [ -n "$PRETTY_FD" ] && exec {PRETTY_FD}>&-
    [ -n "$PRETTY_PID" ] && wait "$PRETTY_PID" 2>/dev/null
    [ -n "$SIM_PID" ] && stop_pid "$SIM_PID" 5
    [ -n "$NOTIFY_PID" ] && stop_pid "$NOTIFY_PID" 5
    if [ "$RABBIT_STARTED" = 1 ]; then
        scripts/stop-server.sh "$WORK/rabbitmq" >>"$WORK/rabbitmq.log" 2>&1 || say "could not stop RabbitMQ: see $WORK/rabbitmq.log"
        # Its data is of no use to the next demo, which starts a fresh node.
        rm -rf "$WORK/rabbitmq"
    fi
    rm -f "$WORK/daemon.pid" "$WORK/simulator.pid" "$WORK/notify.pid"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

printf '%swxpay-reconciler demo%s  %s(logs and data: %s)%s\n' "$B" "$N" "$D" "${WORK#"$ROOT"/}" "$N"

# ------------------------------------------------------------ an earlier run
# A demo killed with SIGKILL leaves its processes behind: stop them, and
# start RabbitMQ afresh rather than inherit queues that may hold messages.
stop_leftover "$WORK/daemon.pid" "wxpay-reconciler"
stop_leftover "$WORK/simulator.pid" "wxpay_sim.py"
stop_leftover "$WORK/notify.pid" "notify_listener.py"
if [ -s "$WORK/rabbitmq/pid" ]; then
    say "stopping the RabbitMQ node an earlier demo left running"
    scripts/stop-server.sh "$WORK/rabbitmq" >/dev/null 2>&1 || die "cannot stop the old node in $WORK/rabbitmq"
fi
rm -rf "$WORK/rabbitmq" "$WORK/state" "$WORK"/shop.db* "$WORK"/*.log "$WORK/notify.sock" \
    "$WORK/notify.out" "$WORK/metrics.prom" "$WORK/simulator.port"

# ------------------------------------------------------------------- build
step "build"
if ! env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -j"$JOBS" all >"$WORK/build.log" 2>&1; then
    show_log "$WORK/build.log" 30
    die "the build failed (full log: $WORK/build.log)"
fi
say "$("$BIN" --version)  (${BIN#"$ROOT"/})"

# -------------------------------------------------------------- test PKI
step "test PKI (merchant key, WeChat Pay keys, TLS for the simulator)"
scripts/gen-test-pki.sh "$WORK/pki" >"$WORK/pki.log" 2>&1 || { show_log "$WORK/pki.log"; die "gen-test-pki.sh failed"; }
say "${WORK#"$ROOT"/}/pki  (test-only keys)"

# ---------------------------------------------------------------- RabbitMQ
step "RabbitMQ (a throwaway node)"
RABBIT_STARTED=1
scripts/start-rabbitmq.sh "$WORK/rabbitmq" >"$WORK/rabbitmq.log" 2>&1 9>&- || { show_log "$WORK/rabbitmq.log"; die "RabbitMQ did not start"; }
# shellcheck disable=SC1091
source "$WORK/rabbitmq/env"
say "amqp://127.0.0.1:$WXPAY_TEST_AMQP_PORT"

# -------------------------------------------------------------- simulator
step "WeChat Pay simulator (HTTPS, strict signatures)"
/usr/bin/python3 tests/sim/wxpay_sim.py --pki "$WORK/pki" --state "$DATA/wechatpay.json" \
    --port-file "$WORK/simulator.port" 2>"$WORK/simulator.log" 9>&- &
SIM_PID=$!
echo "$SIM_PID" >"$WORK/simulator.pid"
for ((i = 0; i < 200; i++)); do
    [ -s "$WORK/simulator.port" ] && break
    kill -0 "$SIM_PID" 2>/dev/null || { show_log "$WORK/simulator.log"; die "the simulator exited"; }
    sleep 0.1
done
[ -s "$WORK/simulator.port" ] || die "the simulator did not listen within 20 s (log: $WORK/simulator.log)"
SIM_URL="https://127.0.0.1:$(cat "$WORK/simulator.port")"
sim() {  # sim METHOD PATH [JSON]: the simulator's control API
    curl -sS --max-time 5 --cacert "$WORK/pki/ca.pem" -X "$1" "$SIM_URL$2" ${3:+-d "$3"}
}
say "$SIM_URL  (knows $(grep -c '"trade_state"' "$DATA/wechatpay.json") of the shop's orders)"

# ------------------------------------------------------------ the orders
ORDERS=()
declare -A EXPECTED SCENARIO
while IFS=$'\t' read -r no expected scenario; do
    case "$no" in '#'* | order | '') continue ;; esac
    [[ "$no" =~ ^[0-9A-Za-z_-]{6,32}$ ]] || die "scripts/demo/orders.tsv: bad order number '$no'"
    ORDERS+=("$no")
    EXPECTED[$no]=$expected
    SCENARIO[$no]=$scenario
done <"$DATA/orders.tsv"

step "shop database (SQLite, a typical Java shop's orders table)"
sqlite3 "$WORK/shop.db" <"$DATA/shop.sql" || die "cannot create $WORK/shop.db"
say "${WORK#"$ROOT"/}/shop.db  ($(sqlite3 "$WORK/shop.db" 'SELECT count(*) FROM orders') orders, created just now)"

# ------------------------------------------------------------ configuration
export WXPAY_DEMO_DIR=$WORK
export WXPAY_DEMO_AMQP_URL=$WXPAY_TEST_AMQP_URL
export WXPAY_DEMO_SIM_URL=$SIM_URL
export WXPAY_DEMO_PKI=$WORK/pki
WXPAY_DEMO_MERCHANT_SERIAL=$(cat "$WORK/pki/merchant_serial")
WXPAY_DEMO_PUB_KEY_ID=$(cat "$WORK/pki/pub_key_id")
export WXPAY_DEMO_MERCHANT_SERIAL WXPAY_DEMO_PUB_KEY_ID
unset WXPAY_RECONCILER_CONFIG JOURNAL_STREAM NOTIFY_SOCKET WATCHDOG_USEC WATCHDOG_PID
cli() { "$BIN" -c "$CONFIG" "$@"; }

step "topology (wxpay-reconciler setup-topology)"
cli setup-topology >"$WORK/topology.log" 2>&1 || { show_log "$WORK/topology.log"; die "setup-topology failed"; }
say "$(tail -n 1 "$WORK/topology.log")"

# ---------------------------------------------------------------- daemon
step "daemon (foreground: one line per decision)"
# systemd's part: a notify socket, so READY=1 and STATUS= can be watched.
/usr/bin/python3 "$DATA/notify_listener.py" "$WORK/notify.sock" "$WORK/notify.out" 2>"$WORK/notify.log" 9>&- &
NOTIFY_PID=$!
echo "$NOTIFY_PID" >"$WORK/notify.pid"
for ((i = 0; i < 100; i++)); do [ -S "$WORK/notify.sock" ] && break; sleep 0.1; done
[ -S "$WORK/notify.sock" ] || die "the notify listener did not start (log: $WORK/notify.log)"

# The daemon's stderr: kept whole in daemon.log, shown without the priority
# prefix and the date, decisions highlighted.
pretty() {
    sed -u -E \
        -e 's/^<[0-7]>[0-9]{4}-[0-9]{2}-[0-9]{2}T([0-9:]{8})\.[0-9]+ /\1  /' \
        -e 's/^<[0-7]>//' \
        -e "s/ (result=(paid|cancelled))/ $G\\1$N/" \
        -e "s/ (result=dead_letter)/ $Y\\1$N/" \
        -e "s/ (result=(nothing_to_do|reschedule))/ $B\\1$N/" \
        -e 's/^/   /'
}
# Ends the demo (failed) when the daemon is no longer running.
require_daemon() {
    local rc
    kill -0 "$DAEMON_PID" 2>/dev/null && return 0
    wait "$DAEMON_PID"
    rc=$?
    DAEMON_PID=''
    die "the daemon exited early with status $rc (log: $WORK/daemon.log)"
}
exec {PRETTY_FD}> >(exec 9>&-; tee -a "$WORK/daemon.log" | pretty)
PRETTY_PID=$!
NOTIFY_SOCKET=$WORK/notify.sock "$BIN" -c "$CONFIG" run >&"$PRETTY_FD" 2>&1 9>&- &
DAEMON_PID=$!
echo "$DAEMON_PID" >"$WORK/daemon.pid"
for ((i = 0; i < 300; i++)); do
    grep -qx 'READY=1' "$WORK/notify.out" 2>/dev/null && break
    require_daemon
    sleep 0.1
done
grep -qx 'READY=1' "$WORK/notify.out" || die "the daemon did not send READY=1 within 30 s (log: $WORK/daemon.log)"

# ------------------------------------------------------------ the shop
step "the shop publishes ${#ORDERS[@]} new orders to its delay queue (each waits $DELAY)"
for no in "${ORDERS[@]}"; do
    cli enqueue "$no" --delay "$DELAY" >>"$WORK/enqueue.log" 2>&1 || { show_log "$WORK/enqueue.log" 5; die "enqueue $no failed"; }
done
say "$(tail -n 1 "$WORK/enqueue.log" | sed "s/${ORDERS[-1]}/${ORDERS[0]}..${ORDERS[-1]}/")"

# ---------------------------------------------------------- the outcomes
declare -A ACTUAL CALLS
status_name() { case "$1" in 1) echo unpaid ;; 2) echo paid ;; 5) echo cancelled ;; '') echo missing ;; *) echo "status $1" ;; esac; }
sql() { sqlite3 -readonly -cmd '.timeout 2000' "$@" 2>/dev/null; }

# Fills CALLS[no] ("2 query, 1 close" or "none") from the simulator.
read_calls() {
    local stats no q c
    stats=$(sim GET /_sim/stats) || return 1
    while read -r no q c; do
        if [ "$q$c" = 00 ]; then CALLS[$no]=none; else CALLS[$no]="$q query, $c close"; fi
    done < <(/usr/bin/python3 -c '
import json, sys
by_order = json.loads(sys.stdin.read()).get("by_order", {})
for no in sys.argv[1:]:
    c = by_order.get(no, {})
    print(no, c.get("query", 0), c.get("close", 0))' "${ORDERS[@]}" <<<"$stats")
}

# What became of one order, in the words of orders.tsv: the shop's status,
# the daemon's parked mark (a dead letter) and its last decision line.
actual_of() {
    local no=$1 status reason last
    status=$(sql "$WORK/shop.db" "SELECT status FROM orders WHERE number = '$no'")
    reason=$(sql "$WORK/state/state.db" "SELECT reason FROM parked WHERE order_no = '$no'")
    last=$(grep -E "order=$no shop=" "$WORK/daemon.log" | tail -n 1 | sed -nE 's/.* result=([a-z_]+).*/\1/p')
    if [ -n "$reason" ]; then
        if [ "$status" = 1 ]; then echo "parked: $reason"; else echo "parked: $reason, shop $(status_name "$status")"; fi
    elif [ "$last" = nothing_to_do ]; then
        if [ "${CALLS[$no]:-none}" = none ]; then echo untouched; else echo "untouched, but WeChat Pay was called"; fi
    elif [ -z "$last" ]; then
        echo "waiting"
    elif [ "$status" = 2 ]; then
        if [ "$(sql "$WORK/shop.db" "SELECT count(*) FROM order_payments WHERE order_no = '$no'")" = 1 ]; then
            echo paid
        else
            echo "paid, without its payment row"
        fi
    elif [ "$status" = 5 ]; then
        echo cancelled
    else
        echo "$(status_name "$status") ($last)"
    fi
}

all_done() {
    local no done=0
    read_calls || return 1
    for no in "${ORDERS[@]}"; do
        ACTUAL[$no]=$(actual_of "$no")
        [ "${ACTUAL[$no]}" = "${EXPECTED[$no]}" ] && done=$((done + 1))
    done
    [ "$done" -eq "${#ORDERS[@]}" ]
}

paid_late=0
deadline=$((SECONDS + DEADLINE_S))
until all_done; do
    require_daemon
    [ "$SECONDS" -lt "$deadline" ] || break
    # Once the daemon has seen the buyer of LATE_PAYER still paying, the
    # buyer finishes: WeChat Pay now says SUCCESS, the daemon's recheck
    # finds it.
    if [ "$paid_late" = 0 ] && grep -qE "order=$LATE_PAYER shop=unpaid wechat=USERPAYING" "$WORK/daemon.log"; then
        printf '   %s-- the buyer of %s finishes paying: WeChat Pay now says SUCCESS%s\n' "$B" "$LATE_PAYER" "$N"
        amount=$(sim GET "/_sim/orders/$LATE_PAYER" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["amount"])')
        sim POST "/_sim/orders/$LATE_PAYER" "{\"trade_state\":\"SUCCESS\",\"amount\":$amount}" >/dev/null ||
            die "the simulator refused the change of $LATE_PAYER"
        paid_late=1
    fi
    sleep 0.5
done

# ------------------------------------------------------------------ stop
step "stop (SIGTERM, as systemctl stop does)"
kill -TERM "$DAEMON_PID"
for ((i = 0; i < 150; i++)); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$DAEMON_PID" 2>/dev/null; then
    daemon_rc="still running 15 s after SIGTERM"
    stop_pid "$DAEMON_PID" 1
else
    wait "$DAEMON_PID"
    daemon_rc=$?
fi
DAEMON_PID=''
exec {PRETTY_FD}>&-
wait "$PRETTY_PID" 2>/dev/null
PRETTY_FD='' PRETTY_PID=''
all_done  # the final reading, after the daemon has stopped

# ---------------------------------------------------------------- summary
step "summary"
failed=0
row() { printf '   %-6s  %-28s  %-23s  %-23s  %-16s  %s\n' "$@"; }
row order scenario expected actual "WeChat Pay calls" ""
for no in "${ORDERS[@]}"; do
    if [ "${ACTUAL[$no]}" = "${EXPECTED[$no]}" ]; then verdict="${G}OK$N"; else verdict="${R}FAIL$N"; failed=$((failed + 1)); fi
    row "$no" "${SCENARIO[$no]}" "${EXPECTED[$no]}" "${ACTUAL[$no]}" "${CALLS[$no]:-?}" "$verdict"
done

# The queues: nothing left waiting, one dead letter per parked order.
expected_dead=0
for no in "${ORDERS[@]}"; do case "${EXPECTED[$no]}" in parked:*) expected_dead=$((expected_dead + 1)) ;; esac; done
queues=$($WXPAY_TEST_RABBITMQCTL list_queues -q name messages 2>/dev/null | sort)
depth() { awk -v q="$1" '$1 == q { print $2 }' <<<"$queues"; }
waiting=$(awk '$1 == "order.expired" || $1 == "order.delay.wait" || $1 ~ /^order\.expired\.retry\./ { n += $2 } END { print n + 0 }' <<<"$queues")
dead=$(depth order.expired.dead)
say ""
say "queues: ${waiting} message(s) left waiting, ${dead:-?} in order.expired.dead"
if [ "$waiting" != 0 ] || [ "${dead:-}" != "$expected_dead" ]; then
    say "${R}FAIL${N}: expected nothing waiting and $expected_dead dead letter(s)"
    failed=$((failed + 1))
fi
status_line=$(sed -n 's/^STATUS=//p' "$WORK/notify.out" | tail -n 1)
say "last STATUS= (what systemctl status shows): $status_line"
if [ "$daemon_rc" != 0 ]; then
    say "${R}FAIL${N}: the daemon's exit after SIGTERM: $daemon_rc (expected 0)"
    failed=$((failed + 1))
else
    say "the daemon drained and exited 0 after SIGTERM"
fi

if [ "$failed" -ne 0 ]; then
    printf '\n%sdemo FAILED%s (%d problem(s)); logs in %s\n' "$R" "$N" "$failed" "$WORK" >&2
    exit 1
fi
printf '\n%sdemo passed:%s every order ended as expected.\n' "$G" "$N"
