#!/bin/bash
# Starts a throwaway PostgreSQL server for the integration tests.
#
#   scripts/start-postgres.sh DIR
#
# Data, socket and logs live under DIR, which is chowned to the postgres user
# (every parent directory must be searchable by postgres: a DIR made by
# `mktemp -d` directly under /tmp is fine). The server listens on a free
# loopback port (the same port again when DIR was used before and that port is
# still free). Waits until it accepts connections, then writes DIR/pid (the
# postmaster) and DIR/env (export lines for WXPAY_TEST_PG_*, among them
# WXPAY_TEST_PG_RESTART: a shell command that restarts this server on the same
# port). Idempotent: when
# DIR/pid names a live server of DIR, it does nothing and exits 0.
#
# Role wxpay / 'wxpay-test' (CREATEDB) and database `shop` owned by it are
# created. Durability is switched off (fsync, synchronous_commit): test data only.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/server-common.sh
source "$(dirname "$0")/lib/server-common.sh"

[ $# -eq 1 ] || die "usage: $0 DIR"
[ "$(id -u)" -eq 0 ] || die "must run as root (it switches to the postgres user)"
server_dir "$1"
DEADLINE_S=${WXPAY_TEST_START_TIMEOUT:-60}

# Debian keeps the server binaries out of PATH; take the newest installed major.
PGBIN=""
for candidate in /usr/lib/postgresql/*/bin; do
    [ -x "$candidate/initdb" ] && PGBIN=$(printf '%s\n%s\n' "$PGBIN" "$candidate" | sort -V | tail -n 1)
done
if [ -z "$PGBIN" ]; then
    PGBIN=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")
fi
if [ ! -x "$PGBIN/initdb" ] || [ ! -x "$PGBIN/pg_ctl" ]; then
    die "initdb/pg_ctl not found: run scripts/install-deps.sh"
fi
command -v psql >/dev/null || die "psql not found: run scripts/install-deps.sh"

exit_if_running

chown postgres:postgres "$DIR"
# A work directory made by `mktemp -d` (mode 0700) hides DIR from postgres.
# Below the temp directory only, grant search (not read) permission on the
# parents so postgres can reach DIR; anywhere else, say what to do.
if ! runuser -u postgres -- test -w "$DIR" 2>/dev/null; then
    TMPROOT=$(cd "${TMPDIR:-/tmp}" && pwd -P)
    parent=$(dirname "$DIR")
    while [ "$parent" != "$TMPROOT" ] && [ "${parent#"$TMPROOT"/}" != "$parent" ]; do
        if ! runuser -u postgres -- test -x "$parent" 2>/dev/null; then
            echo "start-postgres: chmod o+x $parent (so the postgres user can reach $DIR)" >&2
            chmod o+x "$parent"
        fi
        parent=$(dirname "$parent")
    done
fi
runuser -u postgres -- test -w "$DIR" 2>/dev/null ||
    die "the postgres user cannot write $DIR: make every parent directory searchable (chmod o+x) or use a DIR under ${TMPDIR:-/tmp}"

choose_ports "$DIR/port" 1
PORT=$PORTS

as_pg() { runuser -u postgres -- "$@"; }

if [ ! -s "$DIR/data/PG_VERSION" ]; then
    rm -rf "$DIR/data"
    as_pg "$PGBIN/initdb" -D "$DIR/data" -U postgres -E UTF8 --locale=C.UTF-8 --no-sync \
        --auth-local=trust --auth-host=scram-sha-256 >"$DIR/initdb.log" 2>&1 ||
        { cat "$DIR/initdb.log" >&2; die "initdb failed"; }
fi
rm -f "$DIR/data/postmaster.pid"

# pg_ctl -w waits until the server accepts connections (or -t seconds pass).
as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/postgres.log" -w -t "$DEADLINE_S" \
    -o "-k '$DIR' -p $PORT -h 127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=32MB" \
    start >"$DIR/pg_ctl.log" 2>&1 ||
    { cat "$DIR/pg_ctl.log" >&2; tail -n 30 "$DIR/postgres.log" >&2 || true; die "postgres did not start within ${DEADLINE_S}s (log: $DIR/postgres.log)"; }
PID=$(head -n 1 "$DIR/data/postmaster.pid")
[[ "$PID" =~ ^[0-9]+$ ]] || die "cannot read the postmaster pid from $DIR/data/postmaster.pid"
echo "$PORT" >"$DIR/port"

if [ ! -e "$DIR/provisioned" ]; then
    as_pg psql -X -q -v ON_ERROR_STOP=1 -h "$DIR" -p "$PORT" -U postgres -d postgres >"$DIR/provision.log" 2>&1 <<'SQL' ||
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'wxpay') THEN
    CREATE ROLE wxpay LOGIN CREATEDB PASSWORD 'wxpay-test';
  END IF;
END $$;
SELECT 'CREATE DATABASE shop OWNER wxpay' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'shop')
\gexec
SQL
        { cat "$DIR/provision.log" >&2; kill -INT "$PID"; die "provisioning failed"; }
    touch "$DIR/provisioned"
fi

publish_server "$PID" <<EOF
export WXPAY_TEST_PG_HOST=127.0.0.1
export WXPAY_TEST_PG_PORT=$PORT
export WXPAY_TEST_PG_USER=wxpay
export WXPAY_TEST_PG_PASSWORD=wxpay-test
export WXPAY_TEST_PG_DB=shop
# Stops the server and starts it again on the same port (reconnect tests).
export WXPAY_TEST_PG_RESTART="$(restart_command)"
export WXPAY_TEST_PG_SOCKET_DIR=$DIR
EOF
echo "start-postgres: postgres pid $PID on 127.0.0.1:$PORT (data in $DIR)" >&2
