#!/bin/bash
# Starts a throwaway MariaDB server for the integration tests.
#
#   scripts/start-mariadb.sh DIR
#
# Data, socket, logs and the pid live under DIR. The server listens on a free
# loopback port (the same port again when DIR was used before and that port is
# still free, so a test can restart it in place). Waits until the server
# answers, then writes DIR/pid and DIR/env (export lines for
# WXPAY_TEST_MYSQL_*, among them WXPAY_TEST_MYSQL_RESTART: a shell command that
# restarts this server on the same port). Idempotent: when DIR/pid names a live server of DIR,
# it does nothing and exits 0. Safe to run as root: mariadbd runs as
# the mysql user when it can reach DIR, else as root (--user=root).
#
# Database `shop` and user wxpay@127.0.0.1 / 'wxpay-test' with every right on
# shop.* and on databases named shop_* are created. Time zone tables are
# loaded for Asia/Shanghai only (fast); other named zones are left unknown on
# purpose, so the adapter's numeric-offset fallback is exercised too.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/server-common.sh
source "$(dirname "$0")/lib/server-common.sh"

[ $# -eq 1 ] || die "usage: $0 DIR"
[ "$(id -u)" -eq 0 ] || die "must run as root (it switches to the mysql user)"
server_dir "$1"
SOCK=$DIR/mysql.sock
DEADLINE_S=${WXPAY_TEST_START_TIMEOUT:-60}

for tool in mariadbd mariadb-install-db mariadb-admin mariadb mariadb-tzinfo-to-sql; do
    command -v "$tool" >/dev/null || PATH=$PATH:/usr/sbin
    command -v "$tool" >/dev/null || die "$tool not found: run scripts/install-deps.sh"
done

# A live server of this DIR? Then there is nothing to do.
exit_if_running

choose_ports "$DIR/port" 1
PORT=$PORTS

# mariadbd drops to the mysql user when that user can write DIR (the usual
# case for a DIR made by mktemp -d and chowned here); otherwise, e.g. below a
# private parent directory, it stays root, which mariadbd allows with --user=root.
chown mysql:mysql "$DIR"
if runuser -u mysql -- test -w "$DIR" 2>/dev/null; then RUN_AS=mysql; else RUN_AS=root; fi

if [ ! -d "$DIR/data/mysql" ]; then
    rm -rf "$DIR/data"
    mariadb-install-db --no-defaults --user="$RUN_AS" --datadir="$DIR/data" \
        --auth-root-authentication-method=socket --skip-test-db --skip-name-resolve \
        >"$DIR/install.log" 2>&1 || { cat "$DIR/install.log" >&2; die "mariadb-install-db failed"; }
fi
chown -R "$RUN_AS" "$DIR/data"

rm -f "$SOCK" "$DIR/mariadbd.pid"
setsid mariadbd --no-defaults --user="$RUN_AS" \
    --datadir="$DIR/data" --socket="$SOCK" --pid-file="$DIR/mariadbd.pid" \
    --port="$PORT" --bind-address=127.0.0.1 --skip-name-resolve \
    --log-error="$DIR/error.log" --skip-log-bin \
    --innodb-buffer-pool-size=64M --innodb-log-file-size=16M \
    --innodb-flush-log-at-trx-commit=2 --innodb-use-native-aio=0 \
    --max-connections=300 --character-set-server=utf8mb4 \
    </dev/null >>"$DIR/stdout.log" 2>&1 &
PID=$!
echo "$PORT" >"$DIR/port"

ready=0
await_ready "$DEADLINE_S" 0.1 "$PID" \
    mariadb-admin --no-defaults --socket="$SOCK" -uroot --connect-timeout=1 ping || ready=$?
if [ "$ready" -eq 1 ]; then
    tail -n 30 "$DIR/error.log" >&2 || true
    die "mariadbd exited during start (log: $DIR/error.log)"
elif [ "$ready" -ne 0 ]; then
    kill -9 "$PID" 2>/dev/null || true
    tail -n 30 "$DIR/error.log" >&2 || true
    die "mariadbd did not answer within ${DEADLINE_S}s (log: $DIR/error.log)"
fi

root_sql() { mariadb --no-defaults --socket="$SOCK" -uroot --batch "$@"; }
if [ ! -e "$DIR/provisioned" ]; then
    {
        mariadb-tzinfo-to-sql /usr/share/zoneinfo/Asia/Shanghai Asia/Shanghai
        cat <<'SQL'
CREATE DATABASE IF NOT EXISTS shop CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS 'wxpay'@'127.0.0.1' IDENTIFIED BY 'wxpay-test';
GRANT ALL PRIVILEGES ON shop.* TO 'wxpay'@'127.0.0.1';
GRANT ALL PRIVILEGES ON `shop\_%`.* TO 'wxpay'@'127.0.0.1';
FLUSH PRIVILEGES;
SQL
    } | root_sql mysql 2>"$DIR/provision.log" || { cat "$DIR/provision.log" >&2; kill "$PID"; die "provisioning failed"; }
    touch "$DIR/provisioned"
fi

publish_server "$PID" <<EOF
export WXPAY_TEST_MYSQL_HOST=127.0.0.1
export WXPAY_TEST_MYSQL_PORT=$PORT
export WXPAY_TEST_MYSQL_USER=wxpay
export WXPAY_TEST_MYSQL_PASSWORD=wxpay-test
export WXPAY_TEST_MYSQL_DB=shop
# Stops the server and starts it again on the same port (reconnect tests).
export WXPAY_TEST_MYSQL_RESTART="$(restart_command)"
export WXPAY_TEST_MYSQL_SOCKET=$SOCK
EOF
echo "start-mariadb: mariadbd pid $PID on 127.0.0.1:$PORT (data in $DIR)" >&2
