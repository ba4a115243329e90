"""Figures to text: percentiles, the machine, and the table `make bench` ends with."""

import os
import platform
import time


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list (p in 0..100)."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * p // 100))  # ceil
    return sorted_values[int(min(rank, len(sorted_values))) - 1]


def machine_info():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_mb = 0
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_mb = int(line.split()[1]) // 1024
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu_model": model, "mem_mb": mem_mb, "kernel": platform.release(),
            "loadavg_at_start": os.getloadavg()[0], "date": time.strftime("%Y-%m-%d %H:%M %Z")}


def _fmt(value, spec, unit=""):
    if value is None:
        return "n/a"
    return format(value, spec) + unit


def _pct(cpu_s, wall_s):
    return None if cpu_s is None or not wall_s else 100.0 * cpu_s / wall_s


def render_table(results):
    m = results["machine"]
    rows = []

    def section(title):
        rows.append((title, None, None))

    def row(name, measured, target=""):
        rows.append(("  " + name, measured, target))

    floor = results.get("floor")
    drain = results.get("drain")
    steady = results.get("steady")
    floor_ms = results.get("floor_ms_per_order")
    mix = results.get("mix_requests_per_order")

    if drain:
        u = drain["usage"]
        wall = u["wall_s"]
        section("1. backlog drain: %s orders queued before start (70%% NOTPAY, 20%% SUCCESS, 10%% already paid), "
                "policy.concurrency %s" % (format(drain["orders"], ","), drain["concurrency"]))
        if drain["complete"]:
            how = "(%s in %.1f s)" % (format(drain["decided"], ","), drain["drain_s"])
        else:
            how = "(%s of %s in %.0f s: cut at BENCH_DRAIN_MAX_S)" % (
                format(drain["decided"], ","), format(drain["orders"], ","), drain["drain_s"])
        row("throughput", _fmt(drain["orders_per_s"], ".0f", " orders/s ") + how, ">= 1,000 orders/s")
        row("signed WeChat Pay requests per order", _fmt(drain["requests_per_order"], ".3f"),
            "%.1f for this mix" % mix if mix is not None else "")
        row("daemon CPU per 1,000 orders (user+sys)", _fmt(drain["cpu_s_per_1000"], ".2f", " s"))
        row("daemon CPU per order / RSA floor", _fmt(drain.get("floor_multiple"), ".2f", " x"), "<= 1.3 x")
        mem = drain["memory_end_kb"]
        row("peak RSS (VmHWM)", _fmt(drain["peak_rss_kb"] / 1024.0, ".1f", " MB") +
            "  (at end: anon %.1f, file %.1f MB; %s threads)" % (mem.get("RssAnon", 0) / 1024.0,
                                                                 mem.get("RssFile", 0) / 1024.0,
                                                                 mem.get("Threads", "?")), "<= 20 MB")
        row("daemon / simulator / RabbitMQ CPU (100 % = 1 core)",
            "%s / %s / %s %%" % (_fmt(_pct(u["cpu_s"].get("daemon"), wall), ".0f"),
                                 _fmt(_pct(u["cpu_s"].get("sim"), wall), ".0f"),
                                 _fmt(_pct(u["cpu_s"].get("rabbitmq"), wall), ".0f")),
            "simulator < 100 %")
        row("machine busy / not this benchmark / stolen", "%s / %s / %s %% of %d %%" % (
            _fmt(100 * u["machine_busy_cores"], ".0f"), _fmt(100 * drain["other_cores"], ".0f"),
            _fmt(100 * u["steal_cores"], ".0f"), 100 * m["nproc"]))
        row("answers pre-signed / signed live by the simulator",
            "%s / %s" % (drain["sim"].get("presigned_hits"), drain["sim"].get("live_signed")))
        row("sd_notify STATUS= per order", _fmt(drain["status_updates_per_order"], ".2f"))
        row("outcomes", drain["outcomes_text"], "all final")
        row("WeChat Pay calls for already-paid orders", str(drain["calls_for_already_paid"]), "0")
    if steady:
        u = steady["usage"]
        wall = u["wall_s"]
        section("2. steady flow: %s orders/s for %s s straight onto the work queue (%s orders)"
                % (_fmt(steady["rate"], "g"), _fmt(steady["seconds"], "g"), format(steady["orders"], ",")))
        lag = steady["lag_ms"]
        row("publish -> commit lag p50 / p99 / max",
            "%s / %s / %s ms" % (_fmt(lag["p50"], ".1f"), _fmt(lag["p99"], ".1f"), _fmt(lag["max"], ".1f")),
            "p99 <= 20 ms")
        for kind, k in sorted(steady["lag_ms_by_kind"].items()):
            row("  %s orders (%d) p50 / p99" % (kind, k["n"]),
                "%s / %s ms" % (_fmt(k["p50"], ".1f"), _fmt(k["p99"], ".1f")))
        if not steady["complete"]:
            row("did not keep up", "%s of %s orders decided %d s after the last publish" % (
                format(steady["decided"], ","), format(steady["orders"], ","), steady["tail_s"]))
        row("publisher: achieved rate (most late)", "%s/s (%s ms)" % (
            _fmt(steady["publisher"].get("rate"), ".1f"), _fmt(steady["publisher"].get("max_late_ms"), ".1f")))
        row("RSS at end / peak (VmHWM)", "%s / %s MB" % (_fmt(steady["rss_end_kb"] / 1024.0, ".1f"),
                                                         _fmt(steady["peak_rss_kb"] / 1024.0, ".1f")), "<= 20 MB")
        row("daemon CPU per order / RSA floor", _fmt(steady.get("floor_multiple"), ".2f", " x"))
        row("daemon / simulator / RabbitMQ CPU (100 % = 1 core)",
            "%s / %s / %s %%" % (_fmt(_pct(u["cpu_s"].get("daemon"), wall), ".0f"),
                                 _fmt(_pct(u["cpu_s"].get("sim"), wall), ".0f"),
                                 _fmt(_pct(u["cpu_s"].get("rabbitmq"), wall), ".0f")))
        row("machine busy / not this benchmark / stolen", "%s / %s / %s %% of %d %%" % (
            _fmt(100 * u["machine_busy_cores"], ".0f"), _fmt(100 * steady["other_cores"], ".0f"),
            _fmt(100 * u["steal_cores"], ".0f"), 100 * m["nproc"]))
        row("outcomes", steady["outcomes_text"], "all final")
        row("WeChat Pay calls for already-paid orders", str(steady["calls_for_already_paid"]), "0")
    if floor:
        section("3. floor: RSA-2048 signing with the daemon's key and code, one thread")
        row("CPU per signature", _fmt(floor["sign_cpu_us"], ".0f", " us") +
            "  (%s signatures/CPU-s)" % _fmt(floor["signs_per_cpu_s"], ".0f"))
        row("CPU per answer verification", _fmt(floor["verify_cpu_us"], ".1f", " us"))
        if floor_ms is not None:
            row("floor per order (%.1f signatures)" % mix, _fmt(floor_ms, ".2f", " ms CPU"))
            row("drain ceiling if %d cores only signed" % m["nproc"],
                _fmt(m["nproc"] * 1000.0 / floor_ms, ".0f", " orders/s"))

    name_w = max(len(r[0]) for r in rows if r[1] is not None) + 2
    meas_w = max((len(r[1]) for r in rows if r[1] is not None), default=10) + 2
    out = ["", "wxpay-reconciler benchmark: %s x %s, %d MB, Linux %s, %s (%.0f s)" % (
        m["nproc"], m["cpu_model"], m["mem_mb"], m["kernel"], m["date"], results.get("bench_s", 0)),
        "load average at start %.2f: a shared machine makes every figure noisy; see 'not this benchmark'" %
        m["loadavg_at_start"]]
    b = results.get("binary")
    if b:
        out.append("binary %s (sha256 %s..., built %s, tree %s)" % (b["path"], b["sha256"], b["mtime"], b["commit"]))
    out.append("")
    out.append("%-*s%-*s%s" % (name_w, "figure", meas_w, "measured", "target"))
    out.append("-" * (name_w + meas_w + 20))
    for name, measured, target in rows:
        if measured is None:
            out.append(name)
        else:
            out.append("%-*s%-*s%s" % (name_w, name, meas_w, measured, target))
    return "\n".join(out) + "\n"
