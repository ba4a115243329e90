#!/bin/sh
# Installs every Debian package the build, the tests, `make demo` and CI need.
# Idempotent: does nothing when everything is already installed.
set -eu

PACKAGES="
build-essential pkg-config
librabbitmq-dev libcurl4-openssl-dev libssl-dev libsqlite3-dev libcjson-dev
libyaml-cpp-dev libgtest-dev libgmock-dev libmariadb-dev libpq-dev
libhowardhinnant-date-dev
rabbitmq-server amqp-tools mariadb-server postgresql sqlite3
python3 python3-cryptography python3-yaml openssl curl procps iproute2 systemd
heaptrack valgrind
"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    exit 0
fi

echo "install-deps: installing:$missing" >&2
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
# Servers installed from packages must not start themselves: the tests start
# their own throwaway instances on free ports.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get update -qq || true
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
