#!/bin/bash
# The whole test suite: what `make test` and CI run.
#   1. build everything and run the unit tests;
#   2. start throwaway RabbitMQ, MariaDB and PostgreSQL servers and the test
#      PKI, then run the integration tests (the WeChat Pay simulator is
#      started by the tests that need it);
#   3. rebuild under ASan+UBSan and run the unit tests and the integration
#      tests again.
# Ends with one summary line "N passed, N failed".
#
#   WXPAY_TEST_KEEP=1   keep the work directory (logs, data) for inspection
#   WXPAY_TEST_NO_SAN=1 skip the sanitizer pass (local iteration only; CI never sets it)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=${JOBS:-2}

scripts/install-deps.sh || { echo "run-tests: installing packages failed" >&2; exit 1; }

WORK=$(mktemp -d /tmp/wxpay-test.XXXXXX)
SERVERS=()
cleanup() {
    for dir in "${SERVERS[@]}"; do scripts/stop-server.sh "$dir" >/dev/null 2>&1 || true; done
    if [ "${WXPAY_TEST_KEEP:-0}" = 1 ]; then echo "run-tests: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

PASSED=0
FAILED=0
FAILED_NAMES=()

# run_gtest NAME BINARY [ARGS...]: runs one GoogleTest binary, counts its tests.
run_gtest() {
    local name=$1 bin=$2; shift 2
    local log="$WORK/logs/$name.log"
    mkdir -p "$WORK/logs"
    echo "== $name"
    local start=$SECONDS
    "$bin" --gtest_brief=1 "$@" >"$log" 2>&1
    local rc=$?
    local p f
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
    p=${p:-0}; f=${f:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # crashed or failed outside a test
    PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
    if [ "$f" -ne 0 ]; then
        FAILED_NAMES+=("$name")
        cat "$log"
    fi
    echo "   $p passed, $f failed ($((SECONDS - start))s)"
}

# run_python NAME: the simulator's own tests (unittest).
run_python_tests() {
    local log="$WORK/logs/sim.log"
    mkdir -p "$WORK/logs"
    echo "== simulator (python unittest)"
    /usr/bin/python3 -m unittest discover -s tests/sim -p 'test_*.py' >"$log" 2>&1
    local rc=$?
    local n
    n=$(sed -n 's/^Ran \([0-9]*\) test.*/\1/p' "$log" | tail -1); n=${n:-0}
    if [ "$rc" -eq 0 ]; then PASSED=$((PASSED + n)); echo "   $n passed"
    else FAILED=$((FAILED + 1)); FAILED_NAMES+=("simulator"); cat "$log"; fi
}

start_server() {  # start_server KIND
    local dir="$WORK/$1"
    SERVERS+=("$dir")
    if ! "scripts/start-$1.sh" "$dir" >"$WORK/logs/start-$1.log" 2>&1; then
        echo "run-tests: could not start $1:" >&2
        cat "$WORK/logs/start-$1.log" >&2
        return 1
    fi
    # shellcheck disable=SC1090
    source "$dir/env"
}

run_suite() {  # run_suite BUILD_DIR LABEL
    local build=$1 label=$2
    local bins
    bins=$(make -s BUILD="$build" print-tests)
    for bin in $bins; do
        case "$bin" in *_unit) run_gtest "$label$(basename "$bin")" "$bin" ;; esac
    done
    for bin in $bins; do
        case "$bin" in *_it) run_gtest "$label$(basename "$bin")" "$bin" ;; esac
    done
}

mkdir -p "$WORK/logs"
echo "== build"
if ! make -j"$JOBS" all tests >"$WORK/logs/build.log" 2>&1; then
    tail -50 "$WORK/logs/build.log"; echo "0 passed, 1 failed"; exit 1
fi

echo "== test servers"
scripts/gen-test-pki.sh "$WORK/pki" >"$WORK/logs/pki.log" 2>&1 || { cat "$WORK/logs/pki.log"; exit 1; }
start_server rabbitmq || exit 1
start_server mariadb || exit 1
start_server postgres || exit 1
export WXPAY_TEST_PKI="$WORK/pki"
export WXPAY_TEST_SIM="$ROOT/tests/sim/wxpay_sim.py"
export WXPAY_TEST_DATA="$ROOT/tests/data"
export WXPAY_TEST_TMP="$WORK/tmp"
mkdir -p "$WXPAY_TEST_TMP"

export WXPAY_TEST_BIN="$ROOT/build/wxpay-reconciler"
run_python_tests
run_suite build ""
if [ -x scripts/check-unit.sh ]; then
    echo "== systemd unit"
    if scripts/check-unit.sh >"$WORK/logs/unit.log" 2>&1; then PASSED=$((PASSED + 1)); tail -1 "$WORK/logs/unit.log"
    else FAILED=$((FAILED + 1)); FAILED_NAMES+=("check-unit"); cat "$WORK/logs/unit.log"; fi
fi

if [ "${WXPAY_TEST_NO_SAN:-0}" != 1 ]; then
    echo "== build (ASan+UBSan)"
    if ! make -j"$JOBS" SAN=1 all tests >"$WORK/logs/build-asan.log" 2>&1; then
        tail -50 "$WORK/logs/build-asan.log"; FAILED=$((FAILED + 1)); FAILED_NAMES+=("asan-build")
    else
        export WXPAY_TEST_BIN="$ROOT/build-asan/wxpay-reconciler"
        export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
        export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
        run_suite build-asan "asan:"
    fi
fi

if [ "${#FAILED_NAMES[@]}" -ne 0 ]; then echo "failed: ${FAILED_NAMES[*]}"; fi
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
