"""A real redis-server (Debian's /usr/bin/redis-server) on a free loopback port for integration
tests, with a tiny RESP client over a raw socket (standard library only: redis-py is not
installed and not needed).

The server keeps nothing on disk (`--save ''`, `--appendonly no`, a throwaway directory), runs
in the foreground as our child, and is ready once it answers PING with PONG: start() polls
that (bounded), it never sleeps blindly. kill() is `kill -9`; start() again brings it back on
the SAME port (empty: nothing was saved), as a crashed and restarted Redis would be.

    with RedisServer() as redis:
        redis.url                       # "redis://127.0.0.1:PORT"
        redis.command("SMEMBERS", "k")  # [b"...", ...]
        redis.kill(); redis.start()

As a program: `redis_server.py` prints "redis_port N" once Redis answers and runs until its
stdin closes or it gets SIGTERM."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

REDIS_SERVER = os.environ.get("SKIRMISH_REDIS_SERVER", "/usr/bin/redis-server")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisError(Exception):
    """An error reply (-ERR ...) from Redis."""


def encode_command(*args):
    """A RESP array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


class _Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("Redis closed the connection")
        self.buf += chunk

    def line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def exactly(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def reply(self):
        """One RESP2 reply: str for +, int for :, bytes or None for $, list or None for *;
        an error reply is returned as a RedisError (raised by the caller)."""
        line = self.line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RedisError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self.exactly(n)
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise ConnectionError(f"not a RESP reply: {line!r}")


def redis_command(port, *args, host="127.0.0.1", timeout=2.0, password=None):
    """Sends one command on a fresh connection (after AUTH, with a password) and returns its
    reply (raises RedisError)."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.settimeout(timeout)
        reader = _Reader(s)
        if password is not None:
            s.sendall(encode_command("AUTH", password))
            if isinstance(answer := reader.reply(), RedisError):
                raise answer
        s.sendall(encode_command(*args))
        reply = reader.reply()
    if isinstance(reply, RedisError):
        raise reply
    return reply


def answers_ping(port, host="127.0.0.1", timeout=0.5, password=None):
    try:
        return redis_command(port, "PING", host=host, timeout=timeout, password=password) == "PONG"
    except (OSError, ConnectionError, RedisError):
        return False


class RedisServer:
    """`password`: the server wants AUTH (--requirepass); command() gives it."""

    def __init__(self, port=None, password=None):
        if not os.path.exists(REDIS_SERVER):
            raise RuntimeError(f"{REDIS_SERVER} is not installed (scripts/install-deps.sh --test installs redis-server)")
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="skirmish-redis-")
        self.log_path = os.path.join(self.dir, "redis.log")
        self.proc = None
        self.starts = 0
        self.password = password

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def start(self, timeout=10):
        """Starts (or, after kill(), restarts) Redis on self.port; returns once it answers PING."""
        assert not self.alive(), "redis-server is already running"
        self.starts += 1
        log = open(self.log_path, "a")
        try:
            self.proc = subprocess.Popen(
                [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", self.dir, "--daemonize", "no", "--logfile", ""]
                + (["--requirepass", self.password] if self.password is not None else []),
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.dir)
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.proc.returncode} during start-up:\n{self.log()}")
            if answers_ping(self.port, password=self.password):
                return self
            time.sleep(0.02)  # a short pause between PINGs: nothing else to wait on
        self.kill()
        raise RuntimeError(f"redis-server did not answer PING within {timeout}s:\n{self.log()}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def command(self, *args, timeout=2.0):
        return redis_command(self.port, *args, timeout=timeout, password=self.password)

    def pause(self):
        """SIGSTOP: the kernel still accepts connections for it, nothing answers."""
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)

    def kill(self):
        """kill -9: no shutdown, no goodbye to its clients (the kernel resets their connections)."""
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=5)

    def stop(self):
        """Stops Redis (SIGTERM, then SIGKILL if it lingers) and removes its directory."""
        if self.alive():
            self.proc.terminate()
            self.proc.send_signal(signal.SIGCONT)  # a paused one gets the SIGTERM too
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


if __name__ == "__main__":
    redis = RedisServer(int(sys.argv[1]) if len(sys.argv) > 1 else None).start()
    print(f"redis_port {redis.port}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: (redis.stop(), sys.exit(0)))
    try:
        sys.stdin.read()
    finally:
        redis.stop()
