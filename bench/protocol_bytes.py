#!/usr/bin/env python3
"""Protocol v1 (JSON) against v2 (binary, skirmish.v2): bytes per player per second, and the
daemon's CPU per delivered frame.

  bench/protocol_bytes.py [--duration 15] [--repeats 3] [--scenes wander,fight,crowded]

Bytes: for each scene one skirmishd (pinned to CPU 0) serves two skirmish-load processes at
once (pinned to CPU 1), half the players offering skirmish.v2 and half offering nothing, so
both halves see the same world. The load tester counts every byte off the socket after the
handshake (WebSocket headers included).

CPU per frame: the fight scene once with every player on v1 and once on v2 (alternating,
--repeats times each), the daemon's CPU time (utime + stime from /proc) over the tester's
measured window divided by the frames delivered in it. Medians are reported.

Scenes:
  wander   the default world (3200 x 3200, 200 monsters), 20 players wandering
  fight    the benchmark scene (bench/run.sh's density) at 400 players: 6,325 x 6,325, 200 monsters, fighting
  crowded  the default world with 700 monsters, 20 players fighting near the camp:
           about 50 moving monsters in every view

Builds nothing: run scripts/build.sh first. Prints a Markdown table.
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIRMISHD = os.environ.get("SKIRMISHD", os.path.join(ROOT, "build/server/skirmishd"))
LOAD = os.environ.get("SKIRMISH_LOAD", os.path.join(ROOT, "build/loadtest/skirmish-load"))
CLK = os.sysconf("SC_CLK_TCK")

SCENES = {
    "wander": {"daemon": [], "players": 20, "behavior": "wander"},
    "fight": {"daemon": ["--world-size", "6325", "--monsters", "200"], "players": 400, "behavior": "fight"},
    "crowded": {"daemon": ["--monsters", "700", "--safe-zone-radius", "0"], "players": 20, "behavior": "fight"},
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


class Daemon:
    def __init__(self, args):
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["taskset", "-c", "0", SKIRMISHD, "--port", str(self.port), "--host", "127.0.0.1",
             "--state-file", ""] + args,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    sys.exit("bench: skirmishd exited at start")
                time.sleep(0.05)
        sys.exit("bench: skirmishd did not start listening")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_load(port, protocol, clients, behavior, duration, tmp, tag):
    report = os.path.join(tmp, f"{tag}.json")
    marker = os.path.join(tmp, f"{tag}.marker")
    proc = subprocess.Popen(
        ["taskset", "-c", "1", LOAD, "--url", f"ws://127.0.0.1:{port}/ws", "--clients", str(clients),
         "--behavior", behavior, "--protocol", protocol, "--duration", str(duration), "--ramp", "1000",
         "--name-prefix", f"{tag}-", "--report", report, "--marker", marker],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, report, marker


def wait_marker(marker, word, proc, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(marker) and word in open(marker).read().split():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.01)
    return False


def measured(report):
    with open(report) as f:
        m = json.load(f)["measured"]
    return m


def bytes_scene(name, duration, tmp):
    scene = SCENES[name]
    d = Daemon(scene["daemon"])
    try:
        half = scene["players"] // 2
        runs = {p: start_load(d.port, p, half, scene["behavior"], duration, tmp, f"{name}-{p}") for p in ("json", "v2")}
        for proc, _, _ in runs.values():
            proc.wait()
        out = {}
        for p, (proc, report, _) in runs.items():
            if proc.returncode != 0:
                sys.exit(f"bench: skirmish-load ({name}, {p}) failed")
            out[p] = measured(report)
        return out
    finally:
        d.stop()


def cpu_run(protocol, duration, tmp, tag):
    scene = SCENES["fight"]
    d = Daemon(scene["daemon"])
    try:
        proc, report, marker = start_load(d.port, protocol, scene["players"], scene["behavior"], duration, tmp, tag)
        if not wait_marker(marker, "start", proc):
            sys.exit("bench: tester ended before its window")
        c0 = cpu_seconds(d.proc.pid)
        wait_marker(marker, "end", proc, timeout=duration + 60)
        c1 = cpu_seconds(d.proc.pid)
        proc.wait()
        m = measured(report)
        return (c1 - c0) * 1e6 / max(1, m["frames"]), m
    finally:
        d.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=15)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--scenes", default="wander,fight,crowded")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="skirmish-protocol-")
    print(f"machine: {os.cpu_count()} cores, {open('/proc/cpuinfo').read().split('model name')[1].split(':')[1].splitlines()[0].strip()}")
    print()
    print("| scene | players (v1 + v2) | entities per view | moved per frame | v1 B/s per player | v2 B/s per player | v1 / v2 | v2 frames/s per player |")
    print("|---|---|---|---|---|---|---|---|")
    for name in a.scenes.split(","):
        r = bytes_scene(name, a.duration, tmp)
        j, v = r["json"], r["v2"]
        half = SCENES[name]["players"] // 2
        print(f"| {name} | {half} + {half} | {v['entities_per_view_avg']:.1f} | {v['moved_per_view_avg']:.1f} "
              f"| {j['bytes_per_client_per_s']:,.0f} | {v['bytes_per_client_per_s']:,.0f} "
              f"| {j['bytes_per_client_per_s'] / v['bytes_per_client_per_s']:.1f}x "
              f"| {v['frames_per_s'] / half:.1f} |", flush=True)
    if a.repeats > 0:
        cpu = {"json": [], "v2": []}
        for i in range(a.repeats):
            for p in ("json", "v2") if i % 2 == 0 else ("v2", "json"):
                us, m = cpu_run(p, a.duration, tmp, f"cpu-{p}-{i}")
                cpu[p].append(us)
        print()
        print("| fight, 400 players, one protocol at a time | daemon CPU per delivered frame (median) | runs |")
        print("|---|---|---|")
        for p in ("json", "v2"):
            print(f"| {'v1 JSON' if p == 'json' else 'v2 binary'} | {statistics.median(cpu[p]):.2f} us "
                  f"| {', '.join(f'{x:.2f}' for x in cpu[p])} |")
        print(f"\nv2 / v1 CPU per frame: {statistics.median(cpu['v2']) / statistics.median(cpu['json']):.3f}")


if __name__ == "__main__":
    main()
