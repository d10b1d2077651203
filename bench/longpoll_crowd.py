#!/usr/bin/env python3
"""Hundreds of long polls held open while WebSocket players play: do the players keep their
tick rate? Starts skirmishd, opens --polls HTTP sessions that long-poll in a loop, runs
skirmish-load with --players WebSocket clients, and prints both sides' numbers.

  bench/longpoll_crowd.py [--polls 300] [--players 300] [--duration 15]
"""
import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DAEMON = os.environ.get("SKIRMISHD", os.path.join(ROOT, "build/server/skirmishd"))
LOAD = os.environ.get("SKIRMISH_LOAD", os.path.join(ROOT, "build/loadtest/skirmish-load"))


async def request(reader, writer, method, path, body=b""):
    writer.write(f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    return int(head.split()[1]), await reader.readexactly(length)


async def poller(port, i, deadline, stats):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    status, body = await request(reader, writer, "POST", "/session", json.dumps({"name": f"poll{i}"}).encode())
    sid = json.loads(body)["session"]
    last = None
    while time.monotonic() < deadline:
        status, body = await request(reader, writer, "GET", f"/session/{sid}/longpoll?timeout=25")
        stats["answers"] += 1
        for msg in json.loads(body):
            if msg.get("type") != "tick":
                continue
            stats["ticks"] += 1
            if last is not None and msg["tick"] != last + 1:
                stats["gaps"] += msg["tick"] - last - 1
            last = msg["tick"]
            stats["delay_sum"] += time.time() * 1000 - msg["ts"]
    writer.close()


async def crowd(port, polls, deadline, stats):
    await asyncio.gather(*(poller(port, i, deadline, stats) for i in range(polls)), return_exceptions=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--polls", type=int, default=300)
    ap.add_argument("--players", type=int, default=300)
    ap.add_argument("--duration", type=float, default=15)
    a = ap.parse_args()
    d = subprocess.Popen([DAEMON, "--host", "127.0.0.1", "--port", "0", "--state-file", "", "--world-size", "6000",
                          "--monsters", "300"], stderr=subprocess.PIPE, text=True)
    port = None
    for line in d.stderr:
        m = re.search(r"listening on \S+?:(\d+) ", line)
        if m:
            port = int(m.group(1))
            break
    threading.Thread(target=lambda: [None for _ in d.stderr], daemon=True).start()
    report = os.path.join(tempfile.mkdtemp(), "ws.json")
    stats = {"answers": 0, "ticks": 0, "gaps": 0, "delay_sum": 0.0}
    deadline = time.monotonic() + a.duration + 5
    t = threading.Thread(target=lambda: asyncio.run(crowd(port, a.polls, deadline, stats)))
    t.start()
    subprocess.run([LOAD, "--url", f"ws://127.0.0.1:{port}/ws", "--clients", str(a.players), "--ramp", "1000",
                    "--duration", str(a.duration), "--behavior", "wander", "--input-rate", "5", "--report", report],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t.join()
    d.terminate()
    d.wait(timeout=10)
    r = json.load(open(report))["measured"]
    dl = r["delay_ms"]
    print(f"{a.polls} long-polling sessions + {a.players} WebSocket players, {a.duration:.0f} s")
    print(f"websocket: delivered {r['delivered_ratio_by_time'] * 100:.2f} % of expected frames, "
          f"delay p50 {dl['p50']:.1f} / p99 {dl['p99']:.1f} ms")
    print(f"long poll: {stats['answers']} answers, {stats['ticks']} ticks, {stats['gaps']} missed, "
          f"mean delay {stats['delay_sum'] / max(stats['ticks'], 1):.1f} ms")


if __name__ == "__main__":
    sys.exit(main())
