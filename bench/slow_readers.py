#!/usr/bin/env python3
"""Measures whether clients that never read hurt healthy ones.

Starts skirmishd (pinned to CPU 0), runs skirmish-load with HEALTHY players (pinned to CPU 1)
twice: once alone, once while SLOW extra clients complete the WebSocket handshake, join, and
then never read a byte. Prints the healthy players' delay and delivery in both runs, and the
daemon's RSS sampled every second during the second run, so one can see the stalled clients
cost a bounded amount of memory (they are skipped above websocket.soft_limit_bytes and closed
at the hard limit or after websocket.slow_client_timeout_ms, with 1013).

  bench/slow_readers.py [--healthy 1000] [--slow 100] [--duration 20]
"""
import argparse
import json
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DAEMON = os.environ.get("SKIRMISHD", os.path.join(ROOT, "build/server/skirmishd"))
LOAD = os.environ.get("SKIRMISH_LOAD", os.path.join(ROOT, "build/loadtest/skirmish-load"))


def start_daemon(world, monsters, extra):
    p = subprocess.Popen(["taskset", "-c", "0", DAEMON, "--host", "127.0.0.1", "--port", "0", "--state-file", "",
                          "--world-size", str(world), "--monsters", str(monsters), "--max-players", "20000",
                          "--max-connections", "30000", *extra], stderr=subprocess.PIPE, text=True)
    for line in p.stderr:
        m = re.search(r"listening on \S+?:(\d+) ", line)
        if m:
            threading.Thread(target=lambda: [None for _ in p.stderr], daemon=True).start()
            return p, int(m.group(1))
    raise SystemExit("skirmishd did not start")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(next(l for l in f if l.startswith("VmRSS:")).split()[1])


def stalled_client(port, i):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a slow phone: tiny window
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    payload = json.dumps({"type": "join", "name": f"stalled{i}"}).encode()
    key = os.urandom(4)
    s.sendall(struct.pack("!BB", 0x81, 0x80 | len(payload)) + key +
              bytes(b ^ key[k % 4] for k, b in enumerate(payload)))
    return s  # and never read from it


def read_metrics(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    values = {}
    for line in data.partition(b"\r\n\r\n")[2].decode().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
            # A world's series also count toward the name without the label, summed.
            bare = re.sub(r'world="[^"]*",?', "", name).replace("{}", "").replace(",}", "}")
            if bare != name:
                values[bare] = values.get(bare, 0.0) + float(value)
    return values


def run_load(port, healthy, duration, tag, tmp):
    report = os.path.join(tmp, f"{tag}.json")
    subprocess.run(["taskset", "-c", "1", LOAD, "--url", f"ws://127.0.0.1:{port}/ws", "--clients", str(healthy),
                    "--ramp", "1000", "--duration", str(duration), "--behavior", "fight", "--input-rate", "5",
                    "--report", report], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(report) as f:
        return json.load(f)


def describe(r, rss):
    m = r["measured"]
    d = m["delay_ms"]
    return (f"{m['delivered_ratio_by_time'] * 100:.2f} % (gaps {r['per_client_totals']['missing']}) | "
            f"{d.get('p50', float('nan')):.1f} / {d.get('p99', float('nan')):.1f} / {d.get('max', float('nan')):.1f} | "
            f"{min(rss) / 1024:.1f} / {max(rss) / 1024:.1f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--healthy", type=int, default=1000)
    ap.add_argument("--slow", type=int, default=100)
    ap.add_argument("--duration", type=float, default=20)
    ap.add_argument("--daemon-args", default="--send-buffer-bytes 65536",
                    help="extra skirmishd flags; a small SO_SNDBUF makes stalls reach our own queues within "
                         "seconds instead of filling the kernel's autotuned buffer first")
    a = ap.parse_args()
    world = int((a.healthy * 100000) ** 0.5)
    tmp = tempfile.mkdtemp(prefix="slow-readers-")
    results, metrics = {}, {}
    for tag in ("alone", "with_stalled"):
        d, port = start_daemon(world, a.healthy // 2, a.daemon_args.split())
        held, samples, stop = [], [], threading.Event()

        def sample():
            while not stop.wait(1.0):
                samples.append(rss_kib(d.pid))

        threading.Thread(target=sample, daemon=True).start()
        if tag == "with_stalled":
            held = [stalled_client(port, i) for i in range(a.slow)]
        results[tag] = (run_load(port, a.healthy, a.duration, tag, tmp), list(samples))
        stop.set()
        metrics[tag] = read_metrics(port)
        for s in held:
            s.close()
        d.terminate()
        d.wait(timeout=10)
    print(f"healthy players: {a.healthy}, stalled clients: {a.slow}, {a.duration:.0f} s measured")
    print("| run | healthy frames delivered (missing ticks) | delay p50 / p99 / max (ms) | daemon RSS min / max (MiB) |")
    print("|---|---:|---:|---:|")
    for tag, (r, rss) in results.items():
        print(f"| {tag} | {describe(r, rss or [0])} |")
    slow_keys = ['skirmish_connections_ended_total{reason="slow_hard_limit"}',
                 'skirmish_connections_ended_total{reason="slow_soft_limit"}']
    for tag, m in metrics.items():
        skipped = m.get("skirmish_tick_frames_skipped_total", 0)
        slow = sum(m.get(k, 0) for k in slow_keys)
        print(f"{tag}: frames skipped for slow readers {skipped:.0f}, closed as slow (1013) {slow:.0f}, "
              f"queued bytes max {m.get('skirmish_queued_bytes_max', 0):.0f}")
    print(f"raw reports in {tmp}")


if __name__ == "__main__":
    sys.exit(main())
