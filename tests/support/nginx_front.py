"""A real nginx in front of a test daemon, terminating TLS with a throwaway self-signed
certificate, run from deploy/nginx/skirmish.conf itself: only the lines marked "test:" in that
file are rewritten (the daemon's port, a free loopback port, the certificate). nginx's own
connections to the daemon come from 127.0.0.2 (proxy_bind), so that on loopback the proxy and
its clients (127.0.0.1) have different addresses, as they do in production.

As a program (for the browser test): `nginx_front.py DAEMON_PORT` prints "https_port N" once
nginx listens and runs until its stdin closes or it gets SIGTERM."""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CONF = os.path.join(ROOT, "deploy", "nginx", "skirmish.conf")
PROXY_ADDRESS = "127.0.0.2"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nginx_binary():
    for path in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if path and os.path.exists(path):
            return path
    raise RuntimeError("nginx is not installed (scripts/install-deps.sh --test installs it)")


class NginxFront:
    def __init__(self, daemon_port):
        self.daemon_port = daemon_port
        self.dir = tempfile.mkdtemp(prefix="skirmish-nginx-")
        self.cert = os.path.join(self.dir, "cert.pem")
        self.key = os.path.join(self.dir, "key.pem")
        self.port = None
        self.proc = None

    def _certificate(self):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-keyout", self.key, "-out", self.cert, "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                       check=True, capture_output=True)

    def _site(self):
        """deploy/nginx/skirmish.conf with its "test:" lines pointed at this run."""
        out = []
        with open(CONF) as f:
            for line in f:
                if "# test:" not in line:
                    out.append(line)
                    continue
                indent = line[:len(line) - len(line.lstrip())]
                word = line.split()[0]
                if word == "server":
                    out.append(f"{indent}server 127.0.0.1:{self.daemon_port};\n")
                elif word == "listen" and "[::]" in line:
                    continue
                elif word == "listen":
                    out.append(f"{indent}listen 127.0.0.1:{self.port} ssl;\n")
                elif word == "ssl_certificate":
                    out.append(f"{indent}ssl_certificate {self.cert};\n")
                elif word == "ssl_certificate_key":
                    out.append(f"{indent}ssl_certificate_key {self.key};\n")
                else:
                    raise RuntimeError(f"a 'test:' line this harness does not know: {line!r}")
        return "".join(out)

    def start(self, timeout=10):
        try:
            return self._start(timeout)
        except BaseException:
            self.stop()  # no nginx left running, no throwaway key left behind
            raise

    def _start(self, timeout):
        self._certificate()
        self.port = free_port()
        site = os.path.join(self.dir, "skirmish.conf")
        with open(site, "w") as f:
            f.write(self._site())
        d = self.dir
        with open(os.path.join(d, "nginx.conf"), "w") as f:
            f.write(f"""daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 4096; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    proxy_bind {PROXY_ADDRESS};
    include {site};
}}
""")
        self.proc = subprocess.Popen([nginx_binary(), "-p", d, "-c", os.path.join(d, "nginx.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("nginx exited: " + self.proc.stderr.read() + self.error_log())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not listen in time: " + self.error_log())

    def error_log(self):
        try:
            with open(os.path.join(self.dir, "error.log")) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def access_log(self):
        try:
            with open(os.path.join(self.dir, "access.log")) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: lets open connections finish
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and self.proc.stderr:
            self.proc.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)  # the throwaway key, the config, the logs

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


if __name__ == "__main__":
    front = NginxFront(int(sys.argv[1])).start()
    print(f"https_port {front.port}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: (front.stop(), sys.exit(0)))
    try:
        sys.stdin.read()  # until the parent closes it (or dies)
    finally:
        front.stop()
