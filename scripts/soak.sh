#!/bin/bash
# `make soak`: the daemon's memory over a long steady flow under heaptrack,
# and a short run under valgrind memcheck (tests/bench/soak.py; results in
# tests/bench/PERFORMANCE.md). Same setup as scripts/run-bench.sh: a
# throwaway RabbitMQ and the test PKI on loopback, free ports, one temp dir,
# every process stopped by PID at the end.
#
#   SOAK_SECONDS=600 SOAK_RATE=200   the heaptrack steady flow
#   MEMCHECK_ORDERS=200              the memcheck run
#   SOAK_PARTS=heap,memcheck         which parts
#   BENCH_KEEP=1                     keep the work directory (traces, logs)
# The figures are also written to build/bench/soak.json.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=${JOBS:-2}

for tool in heaptrack heaptrack_print valgrind; do
    command -v "$tool" >/dev/null || { echo "soak: $tool is missing; run scripts/install-deps.sh" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/wxpay-soak.XXXXXX)
RABBIT_DIR="$WORK/rabbitmq"
cleanup() {
    for f in "$WORK"/pids/*.pid; do
        [ -e "$f" ] || continue
        pid=$(cat "$f")
        kill -TERM "$pid" 2>/dev/null && sleep 1 && kill -KILL "$pid" 2>/dev/null
        rm -f "$f"
    done
    if [ -s "$RABBIT_DIR/pid" ]; then scripts/stop-server.sh "$RABBIT_DIR" >/dev/null 2>&1 || true; fi
    if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "soak: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "soak: building (make -j$JOBS all bench-programs)" >&2
if ! make -j"$JOBS" all bench-programs >"$WORK/build.log" 2>&1; then
    tail -40 "$WORK/build.log" >&2
    echo "soak: build failed" >&2
    exit 1
fi

echo "soak: test PKI and RabbitMQ" >&2
scripts/gen-test-pki.sh "$WORK/pki" >"$WORK/pki.log" 2>&1 || { cat "$WORK/pki.log" >&2; exit 1; }
if ! scripts/start-rabbitmq.sh "$RABBIT_DIR" >"$WORK/rabbitmq-start.log" 2>&1; then
    cat "$WORK/rabbitmq-start.log" >&2
    echo "soak: could not start RabbitMQ" >&2
    exit 1
fi
# shellcheck disable=SC1091
source "$RABBIT_DIR/env"

mkdir -p build/bench
/usr/bin/python3 tests/bench/soak.py \
    --bin "$ROOT/build/wxpay-reconciler" --tools "$ROOT/build/bench" \
    --work "$WORK" --pki "$WORK/pki" \
    --amqp-url "$WXPAY_TEST_AMQP_URL" --rabbit-pid "$(cat "$RABBIT_DIR/pid")" \
    --json "$ROOT/build/bench/soak.json"
