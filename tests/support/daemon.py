"""Starts the real skirmishd on an ephemeral loopback port for integration tests.

The daemon's path comes from the SKIRMISHD environment variable (CTest sets it). Every wait
is bounded and event-driven: we read the daemon's log line by line rather than sleeping.
"""
import os
import queue
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time

LISTEN_RE = re.compile(r"listening on \S+?:(\d+) ")


def built_with(variable):
    """Whether the daemon under test was built with a CMake switch that CTest passes on as an
    environment variable ($<BOOL:...>: "1" or "0"), e.g. SKIRMISH_SANITIZED, SKIRMISH_TSAN."""
    return os.environ.get(variable, "0") not in ("", "0", "OFF", "FALSE")


def wait_until(predicate, timeout=10.0, step=0.05):
    """Polls a condition about the daemon's state (from outside there is no event to await)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def parse_metrics(text):
    """Prometheus text as {series: value}. A world's series (label world="NAME") also count
    toward the series without that label, summed over the worlds, so a test of a one-world
    daemon can ask for skirmish_players as it did before worlds had names."""
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
            bare = re.sub(r'world="[^"]*",?', "", name).replace("{}", "").replace(",}", "}")
            if bare != name:
                values[bare] = values.get(bare, 0.0) + float(value)
    return values


def taskset(cpus):
    """The command prefix that runs a program on these CPUs only (its affinity); none for None.
    taskset execs the program in its own process, so the pid is the program's."""
    return ["taskset", "-c", ",".join(str(c) for c in sorted(cpus))] if cpus else []


class Daemon:
    def __init__(self, *args, port=0, log_level="debug", env=None, cwd=None, host="127.0.0.1", cpus=None,
                 nofile=None):
        self.binary = os.path.abspath(os.environ.get("SKIRMISHD", "build/server/skirmishd"))
        # A scratch working directory: the daemon saves its players there on shutdown.
        self.cwd = cwd or tempfile.mkdtemp(prefix="skirmishd-test-")
        self.host = host
        self.args = ["--host", host, "--port", str(port), "--log-level", log_level, *args]
        self.env = dict(os.environ, **(env or {}))
        self.cpus = cpus  # the CPUs it may run on (its affinity); None: this process's
        self.nofile = nofile  # (soft, hard) open-file limits to start it with; None: this process's
        self.proc = None
        self.port = None
        self.lines = []
        self._queue = queue.Queue()

    def start(self, timeout=15):
        limits = None
        if self.nofile is not None:
            import resource
            limits = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, self.nofile)  # noqa: E731
        self.proc = subprocess.Popen([*taskset(self.cpus), self.binary, *self.args], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=self.env, text=True, errors="replace",
                                     cwd=self.cwd, preexec_fn=limits)
        threading.Thread(target=self._pump, daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                raise RuntimeError("skirmishd exited during start-up:\n" + "".join(self.lines))
            m = LISTEN_RE.search(line)
            if m:
                self.port = int(m.group(1))
                return self
        self.kill()
        raise RuntimeError("skirmishd did not start listening in time:\n" + "".join(self.lines))

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.append(line)
            self._queue.put(line)
        self.proc.stdout.close()  # only this thread reads it: closed at EOF, no ResourceWarning
        self._queue.put(None)

    def wait_for_log(self, pattern, timeout=10):
        """Returns the first log line (from now on, or already seen) matching pattern."""
        rx = re.compile(pattern)
        for line in list(self.lines):
            if rx.search(line):
                return line
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            if rx.search(line):
                return line
        raise AssertionError(f"no log line matching {pattern!r} within {timeout}s")

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Sends sig and returns the exit code (waits at most timeout seconds)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("skirmishd did not exit in time:\n" + "".join(self.lines[-40:]))

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def alive(self):
        return self.proc.poll() is None

    def _authority(self):
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def url(self, path="/"):
        return f"http://{self._authority()}{path}"

    def ws_url(self, path="/ws"):
        return f"ws://{self._authority()}{path}"

    def ticks_not_sent(self):
        """Frames the daemon chose not to send, as its counters say: ticks stepped in a late
        turn (game time kept, one frame for them all) plus frames withheld by the send rate.
        A client may see at most this many gaps in its tick numbers; more is a lost frame."""
        m = self.metrics()
        return (m.get("skirmish_ticks_caught_up_total", 0) +
                m.get("skirmish_tick_frames_withheld_total", 0))

    def metrics(self, allow_refusal=False):
        """/metrics as {series: value}; None when refused with 503 and allow_refusal."""
        with self.connect() as s:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data:
                data += s.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            status = int(head.split()[1])
            if allow_refusal and status == 503:
                return None
            assert status == 200, status
            length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
            while len(body) < length:
                body += s.recv(65536)
        return parse_metrics(body.decode())

    def connect(self, timeout=5):
        s = socket.create_connection((self.host, self.port), timeout=timeout)
        s.settimeout(timeout)
        return s

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        try:
            if self.proc.poll() is None:
                self.stop()
        finally:
            self.kill()
