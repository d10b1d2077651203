#!/usr/bin/env python3
"""One world served from 1 and from 2 event loops (server.io_threads), in the same run, at
3,000 and 5,000 fighting players (issue 15). For each: what players see (skirmish-load: frame
delay from the tick's ts to arrival, p50/p99, and delivery), the same delay to the kernel's
receive time of the frame (skirmish-load --kernel-timestamps: without the tester's own
queueing), the daemon's CPU per delivered frame (/proc), and the daemon's own numbers from
/metrics: each frame's wait from the end of its tick's encoding to its write (the server-side
delay), the fan-out's wall time, and the serial part of a tick (inputs, steps, encoding,
planning) against all of the tick's CPU.

  bench/loops.py [--players 3000,5000] [--reps 2] [--duration 20] [--protocol json|v2] [--tester-nice 19 | --tester-idle]
                 [--loops 1,2,2:off] [--out results.json]

--loops 1,2,2:off runs, in one run, one loop, two loops and two loops the scheduler places
(server.pin_loops off); by default a daemon with one loop per CPU keeps each loop to its own CPU.

Builds nothing: build first (scripts/build.sh). The tester and the daemon share the machine's
cores (the tester is not pinned), as they would on a 2-core box: say so when reading the numbers."""
import argparse
import json
import math
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
DAEMON = os.environ.get("SKIRMISHD", os.path.join(ROOT, "build/server/skirmishd"))
LOAD = os.environ.get("SKIRMISH_LOAD", os.path.join(ROOT, "build/loadtest/skirmish-load"))
AREA_PER_PLAYER = 100000  # as bench/run.sh: the world grows with the players
TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def metrics(port):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(1 << 16):
            data += chunk
    out = {}
    for line in data.partition(b"\r\n\r\n")[2].decode().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def histogram(m, name, before=None):
    """{le: count} of a histogram (one world), minus `before`'s."""
    buckets = {}
    for k, v in m.items():
        mm = re.match(rf'{name}_bucket{{world="world-1",le="([^"]+)"}}', k)
        if mm:
            le = math.inf if mm.group(1) == "+Inf" else float(mm.group(1))
            buckets[le] = v - (before or {}).get(le, 0)
    return dict(sorted(buckets.items()))


def quantile(buckets, q):
    """Linear interpolation inside the bucket where q falls (cumulative counts)."""
    total = buckets.get(math.inf, 0)
    if total <= 0:
        return None
    want, lo, prev = q * total, 0.0, 0.0
    for le, cum in buckets.items():
        if cum >= want:
            if math.isinf(le):
                return lo
            return lo + (le - lo) * ((want - prev) / (cum - prev) if cum > prev else 0)
        lo, prev = le, cum
    return lo


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S


def wait_port(proc, seen=None):
    """The daemon's port, once it listens; `seen` collects the log lines before that."""
    for line in proc.stdout:
        if seen is not None:
            seen.append(line)
        mm = re.search(r"listening on \S+:(\d+)", line)
        if mm:
            # Keep reading its log, or a full pipe would stop the daemon.
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
            return int(mm.group(1))
    raise RuntimeError("the daemon did not start")


def one_run(loops, players, duration, tmp, rep, protocol="json", tester_nice=0, tester_idle=False, pin="auto", slot=0):
    world = max(1000, round(math.sqrt(players * AREA_PER_PLAYER)))
    obstacles = max(12, int(12 * (world / 3200) ** 2))
    daemon = subprocess.Popen([DAEMON, "--host", "127.0.0.1", "--port", "0", "--io-threads", str(loops), "--pin-loops", pin,
                               "--state-file", "", "--log-level", "info", "--world-size", str(world),
                               "--monsters", str(players // 2), "--obstacles", str(obstacles),
                               "--max-connections", str(players + 1000)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        log = []
        port = wait_port(daemon, log)
        pinned = any("each kept to its own CPU" in line for line in log)
        marker = os.path.join(tmp, f"marker-{slot}-{loops}-{pin}-{players}-{rep}")
        report = os.path.join(tmp, f"report-{slot}-{loops}-{pin}-{players}-{rep}.json")
        # With tester_nice the tester yields the cores to the daemon whenever both want them, as
        # a tester on another machine would: its kernel receive times do not depend on when it reads.
        # With tester_idle it runs under SCHED_IDLE: only on a CPU nothing else wants.
        yielding = ["chrt", "--idle", "0"] if tester_idle else ["nice", "-n", str(tester_nice)]
        tester = subprocess.Popen(yielding + [LOAD, "--url", f"ws://127.0.0.1:{port}/ws", "--clients", str(players),
                                   "--ramp", "1000", "--duration", str(duration), "--behavior", "fight",
                                   "--input-rate", "5", "--protocol", protocol, "--kernel-timestamps", "--report", report, "--marker", marker],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # The measured window: from the tester's "start" mark to its "end".
        while not (os.path.exists(marker) and "start" in open(marker).read()):
            if tester.poll() is not None:
                raise RuntimeError("the tester ended before its window")
            time.sleep(0.05)
        m0, c0, t0 = metrics(port), cpu_s(daemon.pid), time.monotonic()
        while "end" not in open(marker).read():
            if tester.poll() is not None:
                break
            time.sleep(0.05)
        m1, c1, t1 = metrics(port), cpu_s(daemon.pid), time.monotonic()
        tester.wait(timeout=120)
        with open(report) as f:
            r = json.load(f)["measured"]
        kernel = r.get("server_delay_ms") or {}  # frame ts -> the kernel's receive time
        frames = m1['skirmish_tick_frames_sent_total{world="world-1"}'] - m0['skirmish_tick_frames_sent_total{world="world-1"}']
        serial = m1['skirmish_tick_serial_cpu_seconds_total{world="world-1"}'] - m0['skirmish_tick_serial_cpu_seconds_total{world="world-1"}']
        fan = m1['skirmish_fanout_cpu_seconds_total{world="world-1"}'] - m0['skirmish_fanout_cpu_seconds_total{world="world-1"}']
        send = histogram(m1, "skirmish_frame_send_delay_seconds", histogram(m0, "skirmish_frame_send_delay_seconds"))
        fanout = histogram(m1, "skirmish_fanout_duration_seconds", histogram(m0, "skirmish_fanout_duration_seconds"))
        return {
            "loops": f"{loops} pinned" if pinned else (loops if loops == 1 else f"{loops} unpinned"), "players": players,
            "delay_p50_ms": r["delay_ms"]["p50"], "delay_p99_ms": r["delay_ms"]["p99"],
            "kernel_delay_p50_ms": kernel.get("p50"), "kernel_delay_p99_ms": kernel.get("p99"),
            "delivered": r["delivered_ratio_by_time"],
            "frames_per_s": frames / (t1 - t0),
            "cpu_cores": (c1 - c0) / (t1 - t0),
            "cpu_us_per_frame": (c1 - c0) * 1e6 / frames if frames else None,
            "send_delay_p50_ms": (quantile(send, 0.5) or 0) * 1e3,
            "send_delay_p99_ms": (quantile(send, 0.99) or 0) * 1e3,
            "fanout_p50_ms": (quantile(fanout, 0.5) or 0) * 1e3,
            "serial_share": serial / (serial + fan) if serial + fan > 0 else None,
        }
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            daemon.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--players", default="3000,5000")
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--duration", type=float, default=20)
    ap.add_argument("--protocol", default="json", choices=["json", "v2"], help="the players' frames")
    yielding = ap.add_mutually_exclusive_group()
    yielding.add_argument("--tester-nice", type=int, default=0,
                          help="run the tester at this nice level (19: the daemon first, as if the tester were elsewhere)")
    yielding.add_argument("--tester-idle", action="store_true",
                          help="run the tester under SCHED_IDLE (chrt --idle): it never takes a CPU the daemon wants")
    ap.add_argument("--loops", default="1,2",
                    help="the daemons to compare: io_threads, or N:off for N loops the scheduler places "
                         "(server.pin_loops off; by default two loops on two CPUs keep to one each)")
    ap.add_argument("--out")
    args = ap.parse_args()
    configs = []
    for c in args.loops.split(","):
        n, _, pin = c.partition(":")
        if not n.isdigit() or int(n) < 1 or pin not in ("", "auto", "off"):
            ap.error(f"--loops: {c!r} is not N, N:auto or N:off")
        configs.append((int(n), pin or "auto"))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # thousands of sockets each side
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.reps):
            for players in [int(p) for p in args.players.split(",")]:
                # Alternate which goes first, so a drift of the machine does not favour one.
                order = list(enumerate(configs))
                for slot, (loops, pin) in (order if rep % 2 == 0 else order[::-1]):
                    r = one_run(loops, players, args.duration, tmp, rep, args.protocol, args.tester_nice, args.tester_idle,
                                pin, slot)
                    r["rep"] = rep
                    results.append(r)
                    print(json.dumps(r), flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)
    def f(v, spec):
        return "-" if v is None else format(v, spec)
    print("\n| players | loops | delay p50 / p99 (ms) | kernel delay p50 / p99 (ms) | delivered | send delay p50 / p99 (ms) | fan-out p50 (ms) | CPU µs/frame | cores | serial share |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['players']} | {r['loops']} | {f(r['delay_p50_ms'], '.1f')} / {f(r['delay_p99_ms'], '.1f')} | "
              f"{f(r['kernel_delay_p50_ms'], '.1f')} / {f(r['kernel_delay_p99_ms'], '.1f')} | "
              f"{f(r['delivered'], '.4f')} | {f(r['send_delay_p50_ms'], '.2f')} / {f(r['send_delay_p99_ms'], '.2f')} | "
              f"{f(r['fanout_p50_ms'], '.2f')} | {f(r['cpu_us_per_frame'], '.2f')} | {f(r['cpu_cores'], '.2f')} | "
              f"{f(r['serial_share'], '.3f')} |")


if __name__ == "__main__":
    sys.exit(main())
