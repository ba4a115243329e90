#!/bin/bash
# Starts a throwaway RabbitMQ node (Debian's rabbitmq-server 3.10) for the
# integration tests, with every file under DIR, listening on a free loopback
# port. The package's own service is neither needed nor touched.
#
#   scripts/start-rabbitmq.sh DIR
#
# Idempotent: when DIR/pid names a live node of DIR, does nothing. On success
# writes DIR/pid (the Erlang VM, beam.smp) and DIR/env:
#   export WXPAY_TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:PORT/%2f
#   export WXPAY_TEST_AMQP_PORT=PORT
#   export WXPAY_TEST_RABBITMQCTL="env HOME=DIR ... rabbitmqctl -n NODE"
#   export WXPAY_TEST_AMQPS_URL=amqps://guest:guest@localhost:TLSPORT/%2f
#   export WXPAY_TEST_AMQP_TLS_DIR=DIR/tls   (ca.pem; client.pem/.key signed by
#          it; other-ca.pem, a CA that signed nothing here)
#   export WXPAY_TEST_RABBITMQ_RESTART="stop-server.sh DIR && start-rabbitmq.sh DIR"
#          (same ports and data: for tests of a broker restart)
# The TLS listener's certificate names DNS:localhost only (librabbitmq 0.11
# cannot verify IP addresses); it verifies client certificates when offered.
#
# Stopping: scripts/stop-server.sh DIR (SIGTERM to DIR/pid) is enough: the VM
# shuts RabbitMQ down gracefully on SIGTERM (about a second) and its helper
# processes exit with it. epmd (the Erlang port mapper daemon, shared by all
# nodes on the host, port 4369) stays running: it holds no data, costs
# nothing, and the next start reuses it.
#
# Runs as root: calls /usr/lib/rabbitmq/bin/* directly, because the /usr/sbin
# wrappers switch to the `rabbitmq` user and would lose HOME (the cookie).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/server-common.sh
source "$(dirname "$0")/lib/server-common.sh"

[ $# -eq 1 ] || die "usage: $0 DIR"
server_dir "$1"
case "$DIR" in *[[:space:]]*|*\"*|*\'*|*\$*) die "DIR must not contain spaces or quotes: $DIR";; esac

RMQ_BIN=/usr/lib/rabbitmq/bin
[ -x "$RMQ_BIN/rabbitmq-server" ] || die "rabbitmq-server is not installed; run scripts/install-deps.sh"
[ "$(id -u)" -eq 0 ] || die "must run as root (the node and its cookie belong to the caller)"
getent hosts localhost >/dev/null || die "'localhost' does not resolve; add '127.0.0.1 localhost' to /etc/hosts"

exit_if_running

# Three loopback ports: AMQP, AMQP over TLS and Erlang distribution. The
# ports of an earlier start in DIR (DIR/ports) are reused when all are still
# free, together with the node's data: a restart then looks like a real
# broker restart (same URL, durable queues kept). Otherwise new free ports
# and a fresh node.
choose_ports "$DIR/ports" 3
FRESH=$((1 - PORTS_REUSED))
read -r AMQP_PORT TLS_PORT DIST_PORT <<<"$PORTS"
[ -n "${AMQP_PORT:-}" ] && [ -n "${TLS_PORT:-}" ] && [ -n "${DIST_PORT:-}" ] || die "could not find free ports"
echo "$AMQP_PORT $TLS_PORT $DIST_PORT" > "$DIR/ports"

NODE="wxpaytest${AMQP_PORT}@localhost"
rm -f "$DIR/pid" "$DIR/env" "$DIR/rabbit.pid"
[ "$FRESH" = 1 ] && rm -rf "$DIR/mnesia" "$DIR/log"
mkdir -p "$DIR/mnesia" "$DIR/log"

if [ ! -s "$DIR/.erlang.cookie" ]; then
    rm -f "$DIR/.erlang.cookie"
    (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr 'a-f' 'A-F' > "$DIR/.erlang.cookie")
fi
chmod 400 "$DIR/.erlang.cookie"

# Test-only PKI for the TLS listener (EC keys: fast to make).
TLS="$DIR/tls"
make_cert() {  # make_cert NAME CA SUBJECT_CN EXTENSIONS
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TLS/$1.key" \
        -out "$TLS/$1.csr" -subj "/CN=$3" 2>/dev/null
    openssl x509 -req -in "$TLS/$1.csr" -CA "$TLS/$2.pem" -CAkey "$TLS/$2.key" -CAcreateserial \
        -out "$TLS/$1.pem" -days 3650 -extfile <(printf '%b' "$4") 2>/dev/null
    rm -f "$TLS/$1.csr"
}
if [ ! -s "$TLS/client.pem" ]; then
    rm -rf "$TLS"
    mkdir -p "$TLS"
    for ca in ca other-ca; do
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
            -keyout "$TLS/$ca.key" -out "$TLS/$ca.pem" \
            -subj "/CN=wxpay-reconciler TEST ONLY $ca (RabbitMQ)" 2>/dev/null
    done
    make_cert server ca localhost 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n'
    make_cert client ca wxpay-test-client 'extendedKeyUsage=clientAuth\n'
    [ -s "$TLS/client.pem" ] || die "openssl could not make the test certificates in $TLS"
fi

printf '[].\n' > "$DIR/enabled_plugins"  # no plugins: faster start
cat > "$DIR/rabbitmq.conf" <<EOF
# Throwaway test node: loopback only, quiet, small disk threshold.
disk_free_limit.absolute = 10MB
log.file.level = warning
log.console = false
listeners.ssl.1 = 127.0.0.1:$TLS_PORT
ssl_options.cacertfile = $TLS/ca.pem
ssl_options.certfile = $TLS/server.pem
ssl_options.keyfile = $TLS/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = false
EOF
printf '[].\n' > "$DIR/advanced.config"
: > "$DIR/rabbitmq-env.conf"  # ignore /etc/rabbitmq/rabbitmq-env.conf

# Everything the node and rabbitmqctl need, as "NAME=value" words.
NODE_ENV=(
    "HOME=$DIR"
    "LC_ALL=C.UTF-8"
    "RABBITMQ_CONF_ENV_FILE=$DIR/rabbitmq-env.conf"
    "RABBITMQ_CONFIG_FILE=$DIR/rabbitmq.conf"
    "RABBITMQ_ADVANCED_CONFIG_FILE=$DIR/advanced.config"
    "RABBITMQ_NODENAME=$NODE"
    "RABBITMQ_MNESIA_BASE=$DIR/mnesia"
    "RABBITMQ_LOG_BASE=$DIR/log"
    "RABBITMQ_PID_FILE=$DIR/rabbit.pid"
    "RABBITMQ_ENABLED_PLUGINS_FILE=$DIR/enabled_plugins"
)
CTL="env ${NODE_ENV[*]} $RMQ_BIN/rabbitmqctl -n $NODE"

# setsid: the node survives the caller's shell and its signals; the wrapper
# shell stays as the VM's parent and exits when the VM does.
env -u RABBITMQ_USE_LONGNAME -u NOTIFY_SOCKET "${NODE_ENV[@]}" \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$AMQP_PORT" \
    RABBITMQ_DIST_PORT="$DIST_PORT" \
    setsid "$RMQ_BIN/rabbitmq-server" </dev/null >"$DIR/log/startup.log" 2>&1 &
WRAPPER_PID=$!

# Wait for the AMQP port (cheap to probe), then let rabbitmqctl confirm the
# boot finished. Polling rabbitmqctl itself would start an Erlang VM per try
# and slow the boot down on a busy machine.
fail_start() {
    tail -n 30 "$DIR/log/startup.log" >&2 || true
    kill "$WRAPPER_PID" 2>/dev/null || true
    die "$1 (log: $DIR/log)"
}
opened=0
await_ready 90 0.2 "$WRAPPER_PID" port_accepts "$AMQP_PORT" || opened=$?
[ "$opened" -ne 1 ] || fail_start "rabbitmq-server exited during start-up"
[ "$opened" -eq 0 ] || fail_start "node $NODE did not open port $AMQP_PORT within 90 s"
$CTL await_startup --timeout 60 >/dev/null 2>&1 || fail_start "node $NODE did not finish booting"

BEAM_PID=$(cat "$DIR/rabbit.pid" 2>/dev/null || true)
if [ -z "$BEAM_PID" ] || ! kill -0 "$BEAM_PID" 2>/dev/null; then
    BEAM_PID=$(pgrep -P "$WRAPPER_PID" beam.smp || true)
fi
[ -n "$BEAM_PID" ] || die "node $NODE started but its VM process was not found"

publish_server "$BEAM_PID" <<EOF
export WXPAY_TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:$AMQP_PORT/%2f
export WXPAY_TEST_AMQP_PORT=$AMQP_PORT
export WXPAY_TEST_RABBITMQCTL="$CTL"
export WXPAY_TEST_AMQPS_URL=amqps://guest:guest@localhost:$TLS_PORT/%2f
export WXPAY_TEST_AMQP_TLS_DIR=$TLS
# Stops the node and starts it again on the same ports with the same data.
export WXPAY_TEST_RABBITMQ_RESTART="$(restart_command)"
EOF
echo "start-rabbitmq: node $NODE on 127.0.0.1:$AMQP_PORT (pid $BEAM_PID, dir $DIR)" >&2
