#!/bin/bash
# `make bench`: builds the daemon and the benchmark programs, starts a
# throwaway RabbitMQ and the test PKI, runs tests/bench/bench.py (backlog
# drain, steady flow, RSA floor; see tests/bench/PERFORMANCE.md) and prints
# its table. Everything runs on loopback, on free ports, under one temp dir;
# every process is stopped by PID at the end, whatever happens.
#
#   BENCH_ORDERS=50000   backlog drain size (e.g. 5000 for a quick run)
#   BENCH_RATE=200 BENCH_SECONDS=60   steady flow
#   BENCH_CONCURRENCY=   policy.concurrency (default: the daemon's default)
#   BENCH_SCENARIOS=floor,drain,steady
#   BENCH_KEEP=1         keep the work directory (logs, databases, configs)
# The figures are also written to build/bench/results.json.
#
# `scripts/run-bench.sh soak` is `make soak` (scripts/soak.sh): the same
# setup, then tests/bench/soak.py, figures in build/bench/soak.json.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
JOBS=${JOBS:-2}

MODE=${1:-bench}
case "$MODE" in
    bench) NAME=run-bench DRIVER=tests/bench/bench.py RESULTS=results.json ;;
    soak)  NAME=soak DRIVER=tests/bench/soak.py RESULTS=soak.json
           for tool in heaptrack heaptrack_print valgrind; do
               command -v "$tool" >/dev/null || { echo "soak: $tool is missing; run scripts/install-deps.sh" >&2; exit 1; }
           done ;;
    *) echo "usage: $0 [bench|soak]" >&2; exit 64 ;;
esac

WORK=$(mktemp -d "/tmp/wxpay-$MODE.XXXXXX")
RABBIT_DIR="$WORK/rabbitmq"
cleanup() {
    # Children of the driver that outlived it (it stops them itself normally).
    for f in "$WORK"/pids/*.pid; do
        [ -e "$f" ] || continue
        pid=$(cat "$f")
        kill -TERM "$pid" 2>/dev/null && sleep 1 && kill -KILL "$pid" 2>/dev/null
        rm -f "$f"
    done
    if [ -s "$RABBIT_DIR/pid" ]; then scripts/stop-server.sh "$RABBIT_DIR" >/dev/null 2>&1 || true; fi
    if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "$NAME: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "$NAME: building (make -j$JOBS all bench-programs)" >&2
if ! make -j"$JOBS" all bench-programs >"$WORK/build.log" 2>&1; then
    tail -40 "$WORK/build.log" >&2
    echo "$NAME: build failed" >&2
    exit 1
fi

echo "$NAME: test PKI and RabbitMQ" >&2
scripts/gen-test-pki.sh "$WORK/pki" >"$WORK/pki.log" 2>&1 || { cat "$WORK/pki.log" >&2; exit 1; }
if ! scripts/start-rabbitmq.sh "$RABBIT_DIR" >"$WORK/rabbitmq-start.log" 2>&1; then
    cat "$WORK/rabbitmq-start.log" >&2
    echo "$NAME: could not start RabbitMQ" >&2
    exit 1
fi
# shellcheck disable=SC1091
source "$RABBIT_DIR/env"

mkdir -p build/bench
/usr/bin/python3 "$DRIVER" \
    --bin "$ROOT/build/wxpay-reconciler" --tools "$ROOT/build/bench" \
    --work "$WORK" --pki "$WORK/pki" \
    --amqp-url "$WXPAY_TEST_AMQP_URL" --rabbit-pid "$(cat "$RABBIT_DIR/pid")" \
    --json "$ROOT/build/bench/$RESULTS"
