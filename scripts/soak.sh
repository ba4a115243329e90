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
exec "$(dirname "$0")/run-bench.sh" soak
