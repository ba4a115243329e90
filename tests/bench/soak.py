#!/usr/bin/python3
"""`make soak`: the daemon's memory over a long steady flow, and a leak check (issue 6).

Run by scripts/soak.sh, which builds, starts RabbitMQ and the test PKI, and cleans up:

  soak.py --bin build/wxpay-reconciler --tools build/bench --work DIR --pki DIR
          --amqp-url URL --rabbit-pid PID [--json OUT]

1. heap: SOAK_RATE (200) orders/s for SOAK_SECONDS (600) s published straight onto the work
   queue, the daemon under heaptrack. Heap in use over time (heaptrack's timeline), RSS over
   time (/proc), allocations per order, what was still allocated at exit. The simulator signs
   live here (pre-signed answers would expire during a 10-minute run).
2. memcheck: MEMCHECK_ORDERS (200) orders of the benchmark mix queued, the daemon under
   valgrind memcheck until they are all decided, then SIGTERM (a clean drain and exit):
   definitely / indirectly / possibly lost bytes and memcheck's error count.
SOAK_PARTS selects "heap,memcheck" (default both). Figures are reported, never asserted; the
exit status is 1 only when a run failed.
"""

import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_procs as procs  # noqa: E402
import bench_report as report  # noqa: E402
from bench_env import Scenario, start_driver, binary_identity, env_number, say  # noqa: E402

TOOL_STOP_S = 900  # heaptrack interprets its trace after the daemon exits; valgrind writes its report


def heaptrack_file(prefix):
    for suffix in (".zst", ".gz", ""):
        if os.path.exists(prefix + suffix):
            return prefix + suffix
    raise procs.BenchError("heaptrack wrote no %s.zst/.gz (see its output in the daemon log)" % prefix)


def parse_heaptrack_summary(text):
    """The summary lines heaptrack_print ends with."""
    out = {}
    patterns = {
        "allocation_calls": r"calls to allocation functions: (\d+)",
        "temporary_allocations": r"temporary memory allocations: (\d+)",
        "peak_heap": r"peak heap memory consumption: ([\d.]+[KMG]?B?)",
        "peak_rss": r"peak RSS \(including heaptrack overhead\): ([\d.]+[KMG]?B?)",
        "leaked": r"total memory leaked: ([\d.]+[KMG]?B?)",
        "suppressed": r"suppressed leaks: ([\d.]+[KMG]?B?)",
    }
    for name, pattern in patterns.items():
        m = re.search(pattern, text)
        if m:
            out[name] = int(m.group(1)) if m.group(1).isdigit() else m.group(1)
    return out


def parse_massif_timeline(path):
    """[(seconds, heap bytes)] from a massif file (heaptrack_print --print-massif)."""
    points, t = [], None
    with open(path) as f:
        for line in f:
            if line.startswith("time="):
                t = float(line[5:])
            elif line.startswith("mem_heap_B=") and t is not None:
                points.append((t, int(line[11:])))
    return points


def heap_growth(points, start_s, end_s):
    """Heap in use per minute between start_s and end_s (mean of the samples), and the least
    squares slope over that window in bytes per minute."""
    window = [(t, b) for t, b in points if start_s <= t <= end_s]
    minutes = {}
    for t, b in window:
        minutes.setdefault(int((t - start_s) // 60), []).append(b)
    per_minute = [(m, sum(v) / len(v), max(v)) for m, v in sorted(minutes.items())]
    slope = None
    if len(window) >= 2 and window[-1][0] - window[0][0] >= 120:  # a trend needs minutes
        n = len(window)
        mt = sum(t for t, _ in window) / n
        mb = sum(b for _, b in window) / n
        var = sum((t - mt) ** 2 for t, _ in window)
        if var > 0:
            slope = sum((t - mt) * (b - mb) for t, b in window) / var * 60.0
    return {"per_minute": per_minute, "slope_bytes_per_min": slope}


def run_heap(ctx, rate, seconds, concurrency):
    count = int(rate * seconds)
    say("heap: %d orders (%g/s for %g s) under heaptrack" % (count, rate, seconds))
    s = Scenario(ctx, "soak", "SK", count, concurrency)
    sim = s.start_simulator(presign=False)
    trace = os.path.join(s.dir, "heaptrack.daemon")
    daemon, ready_at, usage, sampler = s.start_daemon(wrapper=["heaptrack", "-o", trace], find_exe=True)
    publisher, _ = s.publish(rate)
    end_at = time.monotonic()
    r = s.finish(daemon, sim, usage, sampler, stop_timeout=TOOL_STOP_S)
    r.pop("committed_ms")
    rss = [(t - ready_at, kb) for t, kb in sampler.samples]
    trace = heaptrack_file(trace)
    say("heap: analysing %s (%.0f MB)" % (trace, os.path.getsize(trace) / 1e6))
    printed = subprocess.run(["heaptrack_print", "-f", trace, "-M", os.path.join(s.dir, "heap.massif"),
                              "--massif-detailed-freq", "0", "-p", "1", "-n", "5", "-s", "2", "-l", "1"],
                             capture_output=True, text=True, timeout=1800)
    with open(os.path.join(s.dir, "heaptrack_print.txt"), "w") as f:
        f.write(printed.stdout + printed.stderr)
    summary = parse_heaptrack_summary(printed.stdout)
    timeline = parse_massif_timeline(os.path.join(s.dir, "heap.massif"))
    # The daemon's clock starts at heaptrack's; READY comes a little after. Skip the first minute
    # (start-up, caches filling) and stop at the last publish (the shutdown frees everything).
    t0 = timeline[0][0] if timeline else 0.0
    run_s = end_at - ready_at
    growth = heap_growth(timeline, t0 + 60, t0 + run_s)
    rss_minutes = {}
    for t, kb in rss:
        if 0 <= t <= run_s:
            rss_minutes.setdefault(int(t // 60), []).append(kb)
    r.update({
        "rate": rate, "seconds": seconds, "publisher": publisher, "run_s": run_s,
        "heaptrack": summary, "heap_growth": growth,
        "allocations_per_order": summary.get("allocation_calls", 0) / max(1, r["decided"]),
        "rss_per_minute_kb": [(m, max(v)) for m, v in sorted(rss_minutes.items())],
        "heaptrack_file": trace,
    })
    return r


LEAK_RE = re.compile(r"(definitely|indirectly|possibly) lost: ([\d,]+) bytes in ([\d,]+) blocks")
REACHABLE_RE = re.compile(r"still reachable: ([\d,]+) bytes in ([\d,]+) blocks")
ERRORS_RE = re.compile(r"ERROR SUMMARY: ([\d,]+) errors from ([\d,]+) contexts")


def parse_valgrind(path):
    with open(path, errors="replace") as f:
        text = f.read()
    out = {"definitely": 0, "indirectly": 0, "possibly": 0, "still_reachable": 0, "errors": None}
    for kind, size, _ in LEAK_RE.findall(text):
        out[kind] = int(size.replace(",", ""))
    m = REACHABLE_RE.search(text)
    if m:
        out["still_reachable"] = int(m.group(1).replace(",", ""))
    m = ERRORS_RE.findall(text)
    if m:
        out["errors"] = int(m[-1][0].replace(",", ""))
    out["no_leaks_possible"] = "no leaks are possible" in text
    out["summary_found"] = out["errors"] is not None
    return out


def run_memcheck(ctx, count):
    say("memcheck: %d orders queued, the daemon under valgrind memcheck" % count)
    s = Scenario(ctx, "memcheck", "MC", count, None)
    sim = s.start_simulator(presign=True, timeout="60s")
    s.publish(0)
    log = os.path.join(s.dir, "valgrind.log")
    wrapper = ["valgrind", "--tool=memcheck", "--leak-check=full", "--show-leak-kinds=definite,indirect,possible",
               "--num-callers=40", "--log-file=" + log]
    started = time.monotonic()
    daemon, _, usage, sampler = s.start_daemon(wrapper=wrapper)
    complete = daemon.wait_decisions(count, time.monotonic() + 900)
    r = s.finish(daemon, sim, usage, sampler, stop_timeout=TOOL_STOP_S)
    r.pop("committed_ms")
    r.update({"complete": complete, "valgrind": parse_valgrind(log), "valgrind_log": log,
              "wall_s": time.monotonic() - started})
    return r


def kib(value):
    return "n/a" if value is None else "%.1f KiB" % (value / 1024.0)


def render(results):
    m = results["machine"]
    out = ["", "wxpay-reconciler soak: %s x %s, Linux %s, %s (%.0f s)" % (
        m["nproc"], m["cpu_model"], m["kernel"], m["date"], results.get("soak_s", 0)),
        "load average at start %.2f (shared machine: rates are noisy; memory figures much less so)"
        % m["loadavg_at_start"]]
    b = results.get("binary")
    if b:
        out.append("binary %s (sha256 %s..., built %s, tree %s)" % (b["path"], b["sha256"], b["mtime"], b["commit"]))
    out.append("")
    heap = results.get("heap")
    if heap:
        g = heap["heap_growth"]
        ht = heap["heaptrack"]
        out.append("1. heap: %g orders/s offered for %g s under heaptrack; %s decided (%.0f/s)" % (
            heap["rate"], heap["seconds"], format(heap["decided"], ","), heap["decided"] / heap["run_s"]))
        if g["per_minute"]:
            first, last = g["per_minute"][0], g["per_minute"][-1]
            out.append("   heap in use, minute 2 vs last minute (mean): %s -> %s  (%+.1f KiB)" % (
                kib(first[1]), kib(last[1]), (last[1] - first[1]) / 1024.0))
            out.append("   heap trend after the first minute: %s per minute   target: no growth"
                       % ("n/a" if g["slope_bytes_per_min"] is None else "%+.2f KiB" % (g["slope_bytes_per_min"] / 1024)))
            out.append("   heap in use per minute (mean KiB): %s" % " ".join(
                "%.0f" % (mean / 1024.0) for _, mean, _ in g["per_minute"]))
        rss = heap["rss_per_minute_kb"]
        if rss:
            out.append("   RSS per minute (max MB, with heaptrack): %s" % " ".join("%.1f" % (kb / 1024.0)
                                                                           for _, kb in rss))
        out.append("   peak heap %s; allocations per order %.0f; still allocated at exit %s (suppressed %s)" % (
            ht.get("peak_heap", "?"), heap["allocations_per_order"], ht.get("leaked", "?"),
            ht.get("suppressed", "0")))
        out.append("   outcomes: %s" % heap["outcomes_text"])
    mc = results.get("memcheck")
    if mc:
        v = mc["valgrind"]
        out.append("2. memcheck: %d orders, %s decided, then SIGTERM; daemon exit %s" % (
            mc["orders"], mc["decided"], mc["daemon_exit"]))
        if not v["summary_found"]:
            out.append("   valgrind wrote no summary: see %s" % mc["valgrind_log"])
        out.append("   definitely lost %d B, indirectly lost %d B   target: 0 / 0" % (v["definitely"], v["indirectly"]))
        out.append("   possibly lost %d B, still reachable %d B, memcheck errors %s" % (
            v["possibly"], v["still_reachable"], v["errors"]))
        out.append("   outcomes: %s" % mc["outcomes_text"])
    return "\n".join(out) + "\n"


def main(argv=None):
    ctx = start_driver("wxpay-reconciler soak (make soak)", argv)
    parts = [x.strip() for x in os.environ.get("SOAK_PARTS", "heap,memcheck").split(",") if x.strip()]
    if set(parts) - {"heap", "memcheck"}:
        say("SOAK_PARTS: unknown part(s) %s (heap, memcheck)" % ", ".join(sorted(set(parts) - {"heap", "memcheck"})))
        return 64
    results = {"machine": report.machine_info(), "binary": binary_identity(ctx.bin)}
    started = time.monotonic()
    try:
        if "heap" in parts:
            results["heap"] = run_heap(ctx, env_number("SOAK_RATE", 200.0), env_number("SOAK_SECONDS", 600.0),
                                       env_number("BENCH_CONCURRENCY", 0, int) or None)
        if "memcheck" in parts:
            results["memcheck"] = run_memcheck(ctx, env_number("MEMCHECK_ORDERS", 200, int))
    except procs.BenchError as e:
        say("FAILED: %s" % e)
        return 1
    except KeyboardInterrupt as e:
        say("interrupted (%s)" % e)
        return 130
    finally:
        ctx.cleanup()
    results["soak_s"] = time.monotonic() - started
    if ctx.json:
        with open(ctx.json, "w") as f:
            json.dump(results, f, indent=2, sort_keys=True)
    sys.stdout.write(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
