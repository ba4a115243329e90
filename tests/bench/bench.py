#!/usr/bin/python3
"""`make bench`: the daemon's throughput, CPU per order, timeliness and memory (issue 6).

Run by scripts/run-bench.sh, which builds, starts RabbitMQ and the test PKI, and cleans up:

  bench.py --bin build/wxpay-reconciler --tools build/bench --work DIR --pki DIR
           --amqp-url URL --rabbit-pid PID [--json OUT]

Scenarios (each with its own shop database, simulator, queue and daemon process):
  floor   the RSA-2048 signing floor: bench_floor, the daemon's key and signing code
  drain   BENCH_ORDERS (50000) orders queued before the daemon starts, drained until the queue
          is empty or BENCH_DRAIN_MAX_S (150) seconds have passed (so that `make bench` stays
          under 10 minutes; the table says when the drain was cut short)
  steady  BENCH_RATE (200) orders/s for BENCH_SECONDS (60) s published straight onto the queue
Environment: the above, BENCH_CONCURRENCY (default: the daemon's default policy.concurrency),
BENCH_SCENARIOS (default "floor,drain,steady"), BENCH_PERF=1 (perf record the drain; its
figures then include the profiler's cost).
Prints one table; --json writes every figure. Targets are reported, never asserted: the exit
status is 1 only when the run failed or an order ended in a state its kind forbids.
"""

import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_procs as procs  # noqa: E402
import bench_report as report  # noqa: E402
import bench_shop as shop  # noqa: E402
from bench_env import Scenario, start_driver, binary_identity, env_number, say  # noqa: E402

STEADY_TAIL_S = 45  # after the last publish, how long the daemon may take to catch up


def run_floor(ctx):
    say("floor: RSA-2048 signing loop (3 s of CPU)")
    argv = [os.path.join(ctx.tools, "bench_floor"), "--key", os.path.join(ctx.pki, "merchant_key.pem"),
            "--seconds", "3"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise procs.BenchError("bench_floor failed (exit %d): %s" % (r.returncode, r.stderr))
    return json.loads(r.stdout)


def start_profiler(ctx, daemon, directory):
    """BENCH_PERF=1: `perf record` with DWARF call graphs attached to the daemon for the drain
    (DIR/drain/perf.data; `perf report -i FILE --children --sort sym -g none`)."""
    if os.environ.get("BENCH_PERF", "") != "1":
        return None
    argv = ["perf", "record", "-F", "250", "--call-graph", "dwarf,16384", "-o", os.path.join(directory, "perf.data"),
            "-p", str(daemon.pid)]
    return ctx.track(procs.Child("perf", argv, os.path.join(directory, "perf.log"), ctx.pid_dir))


def run_drain(ctx, count, concurrency, max_s):
    say("drain: preparing %d orders" % count)
    s = Scenario(ctx, "drain", "BD", count, concurrency)
    sim = s.start_simulator()
    publisher, _ = s.publish(0)
    say("drain: %d orders queued (%.0f/s); starting the daemon (at most %g s)"
        % (publisher["confirmed"], publisher["rate"], max_s))
    daemon, ready_at, usage, sampler = s.start_daemon()
    perf = start_profiler(ctx, daemon, s.dir)
    complete = daemon.wait_decisions(count, ready_at + max_s)
    if perf is not None:
        ctx.children.remove(perf)
        perf.stop(signo=signal.SIGINT)
    end_at = daemon.counter.last_at if complete else time.monotonic()
    r = s.finish(daemon, sim, usage, sampler)
    r.update({"publisher": publisher, "complete": complete, "max_s": max_s, "drain_s": end_at - ready_at,
              "sim_startup_s": sim.startup_s})
    r["orders_per_s"] = r["decided"] / r["drain_s"]
    r["cpu_s_per_1000"] = r["cpu_ms_per_order"]
    del r["committed_ms"]
    return r


def distribution(values):
    values = sorted(values)
    return {"n": len(values), "p50": report.percentile(values, 50), "p99": report.percentile(values, 99),
            "max": values[-1] if values else None}


def run_steady(ctx, rate, seconds, concurrency):
    count = int(rate * seconds)
    say("steady: preparing %d orders (%g/s for %g s)" % (count, rate, seconds))
    s = Scenario(ctx, "steady", "BS", count, concurrency)
    sim = s.start_simulator()
    daemon, _, usage, sampler = s.start_daemon()
    say("steady: publishing")
    publisher, published = s.publish(rate)
    complete = daemon.wait_decisions(count, time.monotonic() + STEADY_TAIL_S)
    r = s.finish(daemon, sim, usage, sampler)
    kinds = {no: kind for no, kind, _ in s.orders}
    lags, by_kind = [], {}
    for no, committed in r.pop("committed_ms").items():
        if no in published:
            lag = committed - published[no]
            lags.append(lag)
            by_kind.setdefault(kinds[no], []).append(lag)
    r.update({"rate": rate, "seconds": seconds, "publisher": publisher, "complete": complete, "tail_s": STEADY_TAIL_S,
              "lag_ms": distribution(lags), "lag_ms_by_kind": {k: distribution(v) for k, v in by_kind.items()}})
    return r


def main(argv=None):
    ctx = start_driver("wxpay-reconciler benchmark (make bench)", argv)
    scenarios = [s.strip() for s in os.environ.get("BENCH_SCENARIOS", "floor,drain,steady").split(",") if s.strip()]
    unknown = set(scenarios) - {"floor", "drain", "steady"}
    if unknown:
        say("unknown BENCH_SCENARIOS entries %s (floor, drain, steady)" % ", ".join(sorted(unknown)))
        return 64
    results = {"machine": report.machine_info(), "binary": binary_identity(ctx.bin)}
    started = time.monotonic()
    try:
        orders = env_number("BENCH_ORDERS", 50000, int)
        rate = env_number("BENCH_RATE", 200.0)
        seconds = env_number("BENCH_SECONDS", 60.0)
        drain_max_s = env_number("BENCH_DRAIN_MAX_S", 150.0)
        concurrency = env_number("BENCH_CONCURRENCY", 0, int) or None
        results["mix_requests_per_order"] = shop.mix_requests_per_order(shop.make_orders("X", 1000))
        if "floor" in scenarios:
            results["floor"] = run_floor(ctx)
        if "drain" in scenarios:
            results["drain"] = run_drain(ctx, orders, concurrency, drain_max_s)
        if "steady" in scenarios:
            results["steady"] = run_steady(ctx, rate, seconds, concurrency)
    except procs.BenchError as e:
        say("FAILED: %s" % e)
        return 1
    except KeyboardInterrupt as e:
        say("interrupted (%s)" % e)
        return 130
    finally:
        ctx.cleanup()
    if "floor" in results:
        floor_ms = results["mix_requests_per_order"] * results["floor"]["sign_cpu_us"] / 1000.0
        results["floor_ms_per_order"] = floor_ms
        for name in ("drain", "steady"):
            if name in results:
                results[name]["floor_multiple"] = results[name]["cpu_ms_per_order"] / floor_ms
    results["machine"]["loadavg_at_end"] = os.getloadavg()[0]
    results["bench_s"] = time.monotonic() - started
    if ctx.json:
        with open(ctx.json, "w") as f:
            json.dump(results, f, indent=2, sort_keys=True)
    sys.stdout.write(report.render_table(results))
    bad = [n for n in ("drain", "steady") if n in results and not results[n]["shop_ok"]]
    if bad:
        say("orders ended in a state their kind forbids in: %s (see the outcomes rows)" % ", ".join(bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
