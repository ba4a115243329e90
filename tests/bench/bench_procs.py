"""Processes of a benchmark run and what /proc says about them.

Every child is started with its PID written to WORK/pids/NAME.pid (so that
scripts/run-bench.sh can stop it by PID even if this Python process dies) and
is stopped by PID. CPU time is utime+stime from /proc/PID/stat, memory VmRSS
and VmHWM from /proc/PID/status.
"""

import os
import signal
import socket
import subprocess
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    """A benchmark step failed; the message says what and where to look."""


def wait_until(condition, timeout, what, every=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise BenchError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(every)


# --------------------------------------------------------------------------- /proc


def cpu_seconds(pid):
    """user+system CPU seconds of a live process (all its threads)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


MEMORY_FIELDS = ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem", "Threads")


def memory_kb(pid):
    """{"VmRSS": kB, "VmHWM": kB, "RssAnon": kB, ...} of a live process (Threads: a count)."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in MEMORY_FIELDS:
                out[name] = int(value.split()[0])
    return out


def rss_by_mapping(pid, top=10):
    """[(mapping, kB)] of the largest resident mappings, from /proc/PID/smaps: shows which
    libraries and heaps the RSS is made of."""
    sizes, name = {}, None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            first = line.split(None, 1)[0]
            if "-" in first and not first.endswith(":"):
                parts = line.split(None, 5)
                name = os.path.basename(parts[5].strip()) if len(parts) > 5 else "[anon]"
            elif first == "Rss:" and name is not None:
                sizes[name] = sizes.get(name, 0) + int(line.split()[1])
    return sorted(sizes.items(), key=lambda kv: -kv[1])[:top]


def descendant_running(pid, exe):
    """The first process under `pid` (itself included, breadth first) whose executable is `exe`."""
    want = os.path.realpath(exe)
    queue = [pid]
    while queue:
        current = queue.pop(0)
        try:
            if os.path.realpath("/proc/%d/exe" % current) == want:
                return current
            for task in os.listdir("/proc/%d/task" % current):
                with open("/proc/%d/task/%s/children" % (current, task)) as f:
                    queue.extend(int(c) for c in f.read().split())
        except OSError:
            continue
    return None


def machine_jiffies():
    """(busy, total, steal) jiffies of all CPUs since boot, from /proc/stat. Steal is time the
    hypervisor gave this VM's CPUs to someone else: counted as busy, not done by anything here."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])  # guest time is already counted in user
    steal = values[7] if len(values) > 7 else 0
    return total - idle, total, steal


class Usage:
    """CPU of several processes and of the whole machine over an interval."""

    def __init__(self, pids):
        self.pids = {name: pid for name, pid in pids.items() if pid}
        self.start_cpu = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self.start_machine = machine_jiffies()
        self.start_wall = time.monotonic()
        self.result = None

    def stop(self):
        wall = time.monotonic() - self.start_wall
        cpu = {}
        for name, pid in self.pids.items():
            try:
                cpu[name] = cpu_seconds(pid) - self.start_cpu[name]
            except OSError:
                cpu[name] = None
        busy, total, steal = machine_jiffies()
        busy0, total0, steal0 = self.start_machine
        cores = os.cpu_count() or 1
        machine_busy_cores = (busy - busy0) / max(1, total - total0) * cores
        steal_cores = (steal - steal0) / max(1, total - total0) * cores
        self.result = {"wall_s": wall, "cpu_s": cpu, "machine_busy_cores": machine_busy_cores,
                       "steal_cores": steal_cores}
        return self.result


class RssSampler:
    """Samples VmRSS of one process every `every` seconds in a thread."""

    def __init__(self, pid, every=0.2):
        self.pid = pid
        self.every = every
        self.samples = []  # (monotonic seconds, kB)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                self.samples.append((time.monotonic(), memory_kb(self.pid)["VmRSS"]))
            except (OSError, KeyError):
                return
            self._stop.wait(self.every)

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self.samples

    def max_kb(self):
        return max((kb for _, kb in self.samples), default=0)


# ------------------------------------------------------------------- children


class Child:
    """A child process whose output goes to a log file, stopped by PID."""

    def __init__(self, name, argv, log_path, pid_dir, env=None):
        self.name = name
        self.log_path = log_path
        self.pid_file = os.path.join(pid_dir, name + ".pid")
        os.makedirs(pid_dir, exist_ok=True)
        self._log = open(log_path, "ab")
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=env, start_new_session=True)
        with open(self.pid_file, "w") as f:
            f.write("%d\n" % self.proc.pid)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def send_signal(self, signo):
        if self.alive():
            os.kill(self.proc.pid, signo)

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=20.0, signo=signal.SIGTERM):
        """SIGTERM, then SIGKILL after `timeout`; returns the exit code (negative: signal)."""
        if self.alive():
            self.send_signal(signo)
            if self.wait(timeout) is None:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()
        try:
            os.unlink(self.pid_file)
        except FileNotFoundError:
            pass
        return self.proc.returncode

    def tail(self, lines=20):
        try:
            with open(self.log_path, "rb") as f:
                return b"".join(f.readlines()[-lines:]).decode("utf-8", "replace")
        except OSError:
            return ""


class NotifySocket:
    """A service manager's notification socket (NOTIFY_SOCKET), read continuously by a thread
    (like systemd: a sender blocks once the socket's queue is full)."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.1)
        self.messages = []  # (monotonic seconds, text)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65536)
            except (socket.timeout, OSError):
                continue
            with self._lock:
                self.messages.append((time.monotonic(), data.decode("utf-8", "replace")))

    def count(self, prefix):
        """How many datagrams carried a line starting with `prefix` (e.g. "STATUS=")."""
        with self._lock:
            return sum(1 for _, m in self.messages if any(line.startswith(prefix) for line in m.split("\n")))

    def wait_for(self, line, timeout, child=None):
        """The monotonic time the first datagram holding `line` arrived."""
        def seen():
            with self._lock:
                for at, message in self.messages:
                    if line in message.split("\n"):
                        return at
            if child is not None and not child.alive():
                raise BenchError("%s exited (code %s) before %s; its log:\n%s"
                                 % (child.name, child.proc.returncode, line, child.tail()))
            return None
        return wait_until(seen, timeout, line + " on " + self.path, every=0.01)

    def close(self):
        self._stop.set()
        self._thread.join()
        self.sock.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


class DecisionCounter:
    """Counts the daemon's decision lines (SPEC §7: one per decision) by result, tailing its log."""

    FINAL = ("paid", "cancelled", "nothing_to_do")

    def __init__(self, log_path):
        self.log_path = log_path
        self.offset = 0
        self.partial = b""
        self.counts = {}
        self.last_at = None  # monotonic time the last decision line was first seen
        self.problems = []   # first few non-final decisions and warnings

    def poll(self):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return self.counts
        if not data:
            return self.counts
        self.offset += len(data)
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        now = time.monotonic()
        for raw in lines:
            line = raw.decode("utf-8", "replace")
            at = line.find(" result=")
            if at < 0:
                if (line.startswith("<3>") or line.startswith("<4>")) and len(self.problems) < 10:
                    self.problems.append(line)
                continue
            result = line[at + 8:].split(" ", 1)[0]
            self.counts[result] = self.counts.get(result, 0) + 1
            self.last_at = now
            if result not in self.FINAL and len(self.problems) < 10:
                self.problems.append(line)
        return self.counts

    def final(self):
        return sum(self.counts.get(r, 0) for r in self.FINAL)
