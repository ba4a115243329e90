"""The pieces every benchmark run is made of: the run's context (paths, broker, children to
stop), the simulator in benchmark mode, the daemon with a notification socket, and a scenario
(its shop database, the simulator's orders, its queue and configuration)."""

import argparse
import hashlib
import http.client
import json
import os
import signal
import ssl
import subprocess
import sys
import time

import bench_procs as procs
import bench_shop as shop

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
REPO = os.path.dirname(os.path.dirname(HERE))
SIM_BENCH = os.path.join(REPO, "tests", "sim", "sim_bench.py")
STALL_S = 60  # no decision for this long while orders remain: the run failed


def env_number(name, default, kind=float):
    value = os.environ.get(name, "")
    try:
        return kind(value) if value else default
    except ValueError:
        raise procs.BenchError("%s=%r is not a number" % (name, value))


def say(text):
    sys.stderr.write("bench: %s\n" % text)
    sys.stderr.flush()


class Simulator:
    """sim_bench.py with answers pre-signed for the scenario's orders."""

    def __init__(self, ctx, directory, state_path, presign=True):
        self.port_file = os.path.join(directory, "sim.port")
        argv = [PYTHON, SIM_BENCH, "--pki", ctx.pki, "--state", state_path, "--port-file", self.port_file,
                "--quiet"] + (["--presign"] if presign else [])
        started = time.monotonic()
        self.child = procs.Child("sim", argv, os.path.join(directory, "sim.log"), ctx.pid_dir)

        def ready():
            if not self.child.alive():
                raise procs.BenchError("the simulator exited (code %s); its log:\n%s"
                                       % (self.child.proc.returncode, self.child.tail()))
            return os.path.exists(self.port_file)
        procs.wait_until(ready, 900, "the simulator to pre-sign and listen", every=0.2)
        with open(self.port_file) as f:
            self.port = int(f.read().strip())
        self.startup_s = time.monotonic() - started
        self.tls = ssl.create_default_context(cafile=os.path.join(ctx.pki, "ca.pem"))

    def get(self, path):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.tls, timeout=60)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                raise procs.BenchError("simulator GET %s: HTTP %d" % (path, resp.status))
            return json.loads(body)
        finally:
            conn.close()

    def stop(self):
        return self.child.stop()


class Daemon:
    """The real binary, `run`, with a notification socket to see READY=1, optionally under a
    tool: `wrapper` is prepended to the command line. The daemon's own PID (`pid`) is the child's
    unless the tool runs it as a child of its own (heaptrack's script): with `find_exe` it is the
    descendant of the child that runs the daemon's executable, recorded in pids/daemon.inner.pid
    so that the run's cleanup can stop it too."""

    def __init__(self, ctx, directory, config, wrapper=(), find_exe=False, log_name="daemon.log"):
        self.notify = procs.NotifySocket(os.path.join(directory, "notify.sock"))
        env = dict(os.environ, NOTIFY_SOCKET=self.notify.path)
        env.pop("JOURNAL_STREAM", None)
        self.log_path = os.path.join(directory, log_name)
        self.child = procs.Child("daemon", list(wrapper) + [ctx.bin, "-c", config, "run"], self.log_path,
                                 ctx.pid_dir, env=env)
        self.counter = procs.DecisionCounter(self.log_path)
        self.bin = ctx.bin
        self.find_exe = find_exe
        self.pid = self.child.pid
        self.inner_pid_file = None

    def wait_ready(self, timeout=120):
        at = self.notify.wait_for("READY=1", timeout, self.child)
        if self.find_exe:
            self.pid = procs.descendant_running(self.child.pid, self.bin)
            if self.pid is None:
                raise procs.BenchError("the daemon is READY but no process under PID %d runs %s"
                                       % (self.child.pid, self.bin))
            self.inner_pid_file = os.path.join(os.path.dirname(self.child.pid_file), "daemon.inner.pid")
            with open(self.inner_pid_file, "w") as f:
                f.write("%d\n" % self.pid)
        return at

    def signal(self, signo):
        """To the daemon itself (not to a tool's wrapper script)."""
        try:
            os.kill(self.pid, signo)
        except ProcessLookupError:
            pass

    def wait_decisions(self, expected, deadline):
        """Polls the log until `expected` final decisions or the monotonic `deadline`; returns
        whether all were made. Fails when the daemon exits or makes no decision for STALL_S."""
        last_total, last_change = -1, time.monotonic()
        while True:
            counts = self.counter.poll()
            total = sum(counts.values())
            if self.counter.final() >= expected:
                return True
            now = time.monotonic()
            if now >= deadline:
                return False
            if total != last_total:
                last_total, last_change = total, now
            if not self.child.alive():
                raise procs.BenchError("the daemon exited (code %s) after %d decisions; its log:\n%s"
                                       % (self.child.proc.returncode, total, self.child.tail()))
            if now - last_change > STALL_S:
                raise procs.BenchError("the daemon made %d of %d final decisions, then none for %d s (%s); "
                                       "first problems: %s; log %s" % (self.counter.final(), expected, STALL_S,
                                                                       counts, self.counter.problems[:3],
                                                                       self.log_path))
            time.sleep(0.05)

    def stop(self, timeout=30):
        """SIGTERM to the daemon, then waits for the child (a tool may take long to write its
        report); returns (exit code of the child, seconds)."""
        started = time.monotonic()
        if self.pid != self.child.pid:
            # The tool's script must outlive the daemon to finish its report: let it exit by itself.
            self.signal(signal.SIGTERM)
            self.child.wait(timeout)
        code = self.child.stop(timeout)
        if self.inner_pid_file is not None:
            try:  # only if it outlived its tool (and the PID is still the daemon's)
                if os.path.realpath("/proc/%d/exe" % self.pid) == os.path.realpath(self.bin):
                    self.signal(signal.SIGKILL)
            except OSError:
                pass
            os.unlink(self.inner_pid_file)
            self.inner_pid_file = None
        self.notify.close()
        return code, time.monotonic() - started


class Context:
    def __init__(self, args):
        self.bin = os.path.abspath(args.bin)
        self.tools = os.path.abspath(args.tools)
        self.work = os.path.abspath(args.work)
        self.pki = os.path.abspath(args.pki)
        self.amqp_url = args.amqp_url
        self.rabbit_pid = args.rabbit_pid
        self.json = args.json  # where the driver writes every figure, or None
        self.pid_dir = os.path.join(self.work, "pids")
        self.children = []  # anything with stop(), stopped in reverse order by cleanup()

    def track(self, child):
        self.children.append(child)
        return child

    def release(self, child):
        """Stops a tracked child now; returns what its stop() returned."""
        self.children.remove(child)
        return child.stop()

    def cleanup(self):
        while self.children:
            child = self.children.pop()
            try:
                child.stop()
            except Exception as e:  # noqa: BLE001 - cleanup goes on
                say("stopping %s: %s" % (type(child).__name__, e))

    def cli(self, config, *args):
        r = subprocess.run([self.bin, "-c", config] + list(args), capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise procs.BenchError("wxpay-reconciler %s failed (exit %d): %s"
                                   % (" ".join(args), r.returncode, (r.stdout + r.stderr)[-2000:]))
        return r.stdout


class Scenario:
    """One scenario's shop database, simulator state, queue and configuration."""

    def __init__(self, ctx, name, prefix, count, concurrency):
        self.ctx = ctx
        self.name = name
        self.dir = os.path.join(ctx.work, name)
        os.makedirs(self.dir, exist_ok=True)
        self.orders = shop.make_orders(prefix, count)
        self.db = os.path.join(self.dir, "shop.db")
        now = time.time()
        shop.create_shop_db(self.db, self.orders, now - 3600)  # payment windows (15 min) long over
        self.sim_state = os.path.join(self.dir, "sim-state.json")
        shop.write_sim_state(self.sim_state, self.orders, now - 1800)
        self.order_list = os.path.join(self.dir, "orders.txt")
        shop.write_order_list(self.order_list, self.orders)
        self.queue = "bench.%s.%d" % (name, os.getpid())
        self.config = os.path.join(self.dir, "config.yaml")
        self.concurrency = concurrency
        self.sim = None

    def start_simulator(self, presign=True, **config_options):
        """The simulator (pre-signing unless told not to), then the daemon's configuration
        (bench_shop.daemon_config's options) and its topology."""
        self.sim = sim = self.ctx.track(Simulator(self.ctx, self.dir, self.sim_state, presign))
        say("%s: the simulator pre-signed its answers in %.1f s" % (self.name, sim.startup_s))
        shop.daemon_config(self.config, amqp_url=self.ctx.amqp_url, queue=self.queue, db_path=self.db,
                           sim_port=sim.port, pki=self.ctx.pki, state_dir=os.path.join(self.dir, "state"),
                           metrics_file=os.path.join(self.dir, "metrics.prom"), concurrency=self.concurrency,
                           **config_options)
        self.ctx.cli(self.config, "setup-topology")
        return sim

    def publish(self, rate):
        out = os.path.join(self.dir, "published.tsv")
        argv = [os.path.join(self.ctx.tools, "bench_publish"), "-c", self.config, "--orders", self.order_list,
                "--out", out, "--rate", str(rate)]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=3600)
        if r.returncode != 0:
            raise procs.BenchError("bench_publish failed (exit %d): %s" % (r.returncode, r.stderr[-2000:]))
        summary = json.loads(r.stdout)
        published = {}
        with open(out) as f:
            for line in f:
                no, _, ms = line.rstrip("\n").partition("\t")
                published[no] = float(ms)
        return summary, published

    def start_daemon(self, **daemon_options):
        daemon = self.ctx.track(Daemon(self.ctx, self.dir, self.config, **daemon_options))
        ready_at = daemon.wait_ready(timeout=300)
        usage = procs.Usage({"daemon": daemon.pid, "sim": self.sim.child.pid, "rabbitmq": self.ctx.rabbit_pid})
        return daemon, ready_at, usage, procs.RssSampler(daemon.pid)

    def finish(self, daemon, sim, usage, sampler, stop_timeout=30):
        """Stops measuring and every process of the scenario; the common figures."""
        usage.stop()
        sampler.stop()
        memory = procs.memory_kb(daemon.pid)
        mappings = procs.rss_by_mapping(daemon.pid, top=40)
        sim_report = sim.get("/_sim/bench")
        sim_stats = sim.get("/_sim/stats")
        status_updates = daemon.notify.count("STATUS=")
        self.ctx.children.remove(daemon)
        code, stop_s = daemon.stop(stop_timeout)
        self.ctx.release(sim)
        counts = daemon.counter.poll()
        summary = shop.shop_summary(self.db, self.orders)
        by_order = sim_stats.get("by_order", {})
        decided = daemon.counter.final()
        requests = sum(sim_stats["requests"].get(k, 0) for k in ("query", "close"))
        text = "%d cancelled, %d paid, %d nothing to do" % (
            counts.get("cancelled", 0), counts.get("paid", 0), counts.get("nothing_to_do", 0))
        others = {k: v for k, v in counts.items() if k not in procs.DecisionCounter.FINAL}
        if others:
            text += ", other: %s" % others
        text += "; shop %s" % ("consistent" if not summary["wrong"] else "WRONG for %d orders, e.g. %s"
                               % (len(summary["wrong"]), summary["wrong"][:3]))
        daemon_cpu = usage.result["cpu_s"]["daemon"]
        return {
            "orders": len(self.orders), "decided": decided, "decisions": counts,
            "concurrency": self.concurrency or "8 (default)",
            "usage": usage.result, "other_cores": other_load(usage.result),
            "cpu_ms_per_order": daemon_cpu / max(1, decided) * 1000.0,
            "peak_rss_kb": memory.get("VmHWM", 0), "rss_end_kb": memory.get("VmRSS", 0), "memory_end_kb": memory,
            "rss_by_mapping_kb": mappings,
            "rss_samples_kb": [kb for _, kb in sampler.samples[::25]],
            "requests": requests, "requests_per_order": requests / max(1, decided),
            "rejected": sim_stats.get("rejected", {}), "sim": sim_report,
            "calls_for_already_paid": sum(sum(by_order.get(no, {}).values())
                                          for no, kind, _ in self.orders if kind == shop.ALREADY_PAID),
            "status_updates_per_order": status_updates / max(1, decided),
            "outcomes_text": text, "shop_ok": not summary["wrong"], "shop_status": summary["status"],
            "payments_rows": summary["payments"], "committed_ms": summary["committed_ms"],
            "daemon_exit": code, "daemon_stop_s": stop_s, "problems": daemon.counter.problems,
        }


def binary_identity(path):
    """What was measured: the binary's SHA-256 and time, and the source tree's commit. Several
    engineers build in the same tree: a binary replaced during a run shows as "(deleted)" in
    the memory map of the daemon, and a different hash between runs."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    git = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True)
    return {"path": path, "sha256": digest.hexdigest()[:16],
            "mtime": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.path.getmtime(path))),
            "commit": git.stdout.strip() + ("+modified" if dirty.stdout.strip() else "")}


def other_load(usage):
    ours = sum(v for v in usage["cpu_s"].values() if v is not None)
    return max(0.0, usage["machine_busy_cores"] - ours / usage["wall_s"])


def start_driver(description, argv=None):
    """The command line both drivers take (scripts/run-bench.sh passes it), SIGTERM turned into
    KeyboardInterrupt so that every child is stopped, and the run's Context."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--bin", required=True)
    p.add_argument("--tools", required=True, help="directory with bench_floor and bench_publish")
    p.add_argument("--work", required=True)
    p.add_argument("--pki", required=True)
    p.add_argument("--amqp-url", required=True)
    p.add_argument("--rabbit-pid", type=int, default=0)
    p.add_argument("--json", help="write every figure here")
    args = p.parse_args(argv)

    def interrupted(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)
    signal.signal(signal.SIGTERM, interrupted)
    return Context(args)
