#!/usr/bin/env python3
"""Chaos: hostile clients against a running skirmishd while healthy players keep playing.

Tries resets mid-frame, half-open sockets, slowloris headers, random bytes after the
handshake, oversized frames, ping floods, bursts of pings whose last must be answered,
clients that never read while they ping, handshakes with a repeated key and a flood of polling
sessions; meanwhile healthy
clients measure their tick gaps and delay. Prints what it tried and what held, and exits
non-zero when the daemon went down or a healthy client lost ticks.

  bench/chaos.py --port 8080 [--host 127.0.0.1] [--duration 20] [--healthy 20]

Only loopback addresses are accepted: this is a test of our own daemon.
"""
import argparse
import asyncio
import json
import os
import random
import socket
import struct
import sys
import time

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def client_frame(opcode, payload=b"", fin=True):
    n = len(payload)
    b0 = (0x80 if fin else 0) | opcode
    if n < 126:
        head = struct.pack("!BB", b0, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", b0, 0x80 | 127, n)
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


UPGRADE = (b"GET /ws HTTP/1.1\r\nHost: chaos\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")


async def open_raw(host, port, handshake=True):
    reader, writer = await asyncio.open_connection(host, port)
    if handshake:
        writer.write(UPGRADE)
        await writer.drain()
        await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    return reader, writer


def rst(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.close()


# Each attack runs in a loop until the deadline and counts what it did.
async def reset_mid_frame(host, port, deadline, stats):
    while time.monotonic() < deadline:
        try:
            _, w = await open_raw(host, port)
            frame = client_frame(0x1, b'{"type":"join","name":"x"}' * 10)
            w.write(frame[: random.randint(1, len(frame) - 1)])
            await w.drain()
            rst(w)
            stats["reset_mid_frame"] += 1
        except (OSError, asyncio.TimeoutError):
            stats["errors"] += 1
        await asyncio.sleep(0.01)


async def half_open(host, port, deadline, stats, held):
    while time.monotonic() < deadline and len(held) < 50:
        try:
            r, w = await open_raw(host, port)
            held.append(w)  # never read, never write, never close: a vanished phone
            stats["half_open"] += 1
        except (OSError, asyncio.TimeoutError):
            stats["errors"] += 1
        await asyncio.sleep(0.05)


async def slowloris(host, port, deadline, stats):
    async def one():
        try:
            r, w = await open_raw(host, port, handshake=False)
            w.write(b"GET / HTTP/1.1\r\n")
            while time.monotonic() < deadline:
                w.write(b"X-a: b\r\n")
                await w.drain()
                try:
                    await asyncio.wait_for(r.read(1024), 0.5)
                except asyncio.TimeoutError:
                    continue
                stats["slowloris_cut_off"] += 1  # an answer (408) or EOF: the server ended it
                break
            w.close()
        except OSError:
            stats["slowloris_cut_off"] += 1

    tasks = [asyncio.create_task(one()) for _ in range(20)]
    stats["slowloris"] += len(tasks)
    await asyncio.gather(*tasks, return_exceptions=True)


async def garbage(host, port, deadline, stats):
    while time.monotonic() < deadline:
        try:
            r, w = await open_raw(host, port)
            w.write(os.urandom(random.randint(1, 4096)))
            await w.drain()
            await asyncio.wait_for(r.read(65536), 2)
            w.close()
            stats["garbage"] += 1
        except (OSError, asyncio.TimeoutError):
            stats["errors"] += 1
        await asyncio.sleep(0.02)


async def oversized(host, port, deadline, stats):
    while time.monotonic() < deadline:
        try:
            r, w = await open_raw(host, port)
            # A header that announces a terabyte: refused (1009) from the header alone.
            w.write(struct.pack("!BBQ", 0x82, 0x80 | 127, 1 << 40) + os.urandom(4) + b"x" * 1000)
            await w.drain()
            await asyncio.wait_for(r.read(65536), 2)
            w.close()
            stats["oversized"] += 1
        except (OSError, asyncio.TimeoutError):
            stats["errors"] += 1
        await asyncio.sleep(0.05)


async def ping_flood(host, port, deadline, stats):
    while time.monotonic() < deadline:
        try:
            r, w = await open_raw(host, port)
            ping = client_frame(0x9, b"p" * 125)
            for _ in range(2000):  # never reads the pongs
                w.write(ping)
            await w.drain()
            stats["ping_flood_frames"] += 2000
            await asyncio.sleep(0.5)
            rst(w)
        except (OSError, asyncio.TimeoutError):
            stats["errors"] += 1


async def stalled_pinger(host, port, deadline, stats):
    """Never reads, pings now and then so that pongs are due over the soft limit: the daemon
    must close it (1013) rather than recurse or hold it forever."""
    while time.monotonic() < deadline:
        try:
            sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, (host, port))
            r, w = await asyncio.open_connection(sock=sock)
            w.write(UPGRADE)
            while time.monotonic() < deadline and not w.is_closing():
                w.write(client_frame(0x9, b"p"))
                await asyncio.wait_for(w.drain(), 2)
                await asyncio.sleep(0.05)
            stats["stalled_pingers"] += 1
            rst(w)
        except (OSError, asyncio.TimeoutError):
            stats["stalled_pingers"] += 1  # the daemon dropped it: what it should do


async def ping_bursts(host, port, deadline, stats):
    """Bursts of pings, then one more: the last must get its pong (slowed, never silenced)."""
    while time.monotonic() < deadline:
        try:
            r, w = await open_raw(host, port)
            for burst in range(20):
                w.write(b"".join(client_frame(0x9, b"b%d" % i) for i in range(100)))
            w.write(client_frame(0x9, b"last"))
            await w.drain()
            stats["ping_bursts"] += 1
            buf = b""
            end = time.monotonic() + 5
            while time.monotonic() < end and b"\x8a\x04last" not in buf:
                buf += await asyncio.wait_for(r.read(65536), 5)
            if b"\x8a\x04last" in buf:
                stats["ping_bursts_last_answered"] += 1
            w.close()
        except (OSError, asyncio.TimeoutError):
            stats["errors"] += 1
        await asyncio.sleep(0.2)


async def repeated_key(host, port, deadline, stats):
    """A handshake with two Sec-WebSocket-Key headers must be refused with 400."""
    while time.monotonic() < deadline:
        try:
            r, w = await open_raw(host, port, handshake=False)
            w.write(UPGRADE[:-2] + b"Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==\r\n\r\n")
            await w.drain()
            status = await asyncio.wait_for(r.readuntil(b"\r\n"), 2)
            stats["repeated_key"] += 1
            if status.startswith(b"HTTP/1.1 400"):
                stats["repeated_key_refused"] += 1
            w.close()
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
            stats["errors"] += 1
        await asyncio.sleep(0.1)


async def session_flood(host, port, deadline, stats):
    """Polling sessions as fast as one keep-alive connection can ask: capped with 503."""
    body = b'{"type":"watch"}'
    request = b"POST /session HTTP/1.1\r\nHost: chaos\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    try:
        r, w = await open_raw(host, port, handshake=False)
        while time.monotonic() < deadline:
            w.write(request)
            head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 5)
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await r.readexactly(length)
            stats["sessions_asked"] += 1
            if head.startswith(b"HTTP/1.1 503"):
                stats["sessions_refused"] += 1
                await asyncio.sleep(0.2)
        w.close()
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
        stats["errors"] += 1


async def healthy_player(host, port, deadline, results, idx):
    r, w = await open_raw(host, port)
    w.write(client_frame(0x1, json.dumps({"type": "join", "name": f"calm{idx}"}).encode()))
    await w.drain()
    last, gaps, frames, delays = None, 0, 0, []
    buf = b""
    next_input = time.monotonic()
    while time.monotonic() < deadline:
        if time.monotonic() >= next_input:
            ang = random.random() * 6.283
            w.write(client_frame(0x1, json.dumps({"type": "input", "move": [round(__import__("math").cos(ang), 3),
                                                                         round(__import__("math").sin(ang), 3)]}).encode()))
            next_input += 0.2
        chunk = await asyncio.wait_for(r.read(1 << 16), 5)
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 2:
            n = buf[1] & 0x7F
            off = 2
            if n == 126:
                if len(buf) < 4:
                    break
                n = struct.unpack("!H", buf[2:4])[0]
                off = 4
            elif n == 127:
                if len(buf) < 10:
                    break
                n = struct.unpack("!Q", buf[2:10])[0]
                off = 10
            if len(buf) < off + n:
                break
            op, payload = buf[0] & 0x0F, buf[off:off + n]
            buf = buf[off + n:]
            if op == 0x9:
                w.write(client_frame(0xA, payload))
            if op != 0x1 or not payload.startswith(b'{"type":"tick"'):
                continue
            msg = json.loads(payload)
            frames += 1
            delays.append(time.time() * 1000 - msg["ts"])
            if last is not None and msg["tick"] != last + 1:
                gaps += msg["tick"] - last - 1
            last = msg["tick"]
    w.close()
    results.append({"frames": frames, "gaps": gaps, "delays": delays})


def percentile(values, q):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(q * (len(v) - 1) + 0.5))]


def alive(host, port):
    try:
        with socket.create_connection((host, port), timeout=3) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: chaos\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


async def main_async(host, port, duration, healthy):
    deadline = time.monotonic() + duration
    stats = {k: 0 for k in ["reset_mid_frame", "half_open", "slowloris", "slowloris_cut_off", "garbage",
                            "oversized", "ping_flood_frames", "stalled_pingers", "ping_bursts",
                            "ping_bursts_last_answered", "repeated_key", "repeated_key_refused", "sessions_asked",
                            "sessions_refused", "errors"]}
    held, results = [], []
    players = [asyncio.create_task(healthy_player(host, port, deadline, results, i)) for i in range(healthy)]
    await asyncio.sleep(1)  # let the healthy players settle before the storm
    attacks = [reset_mid_frame(host, port, deadline, stats), half_open(host, port, deadline, stats, held),
               slowloris(host, port, deadline, stats), garbage(host, port, deadline, stats),
               oversized(host, port, deadline, stats), ping_flood(host, port, deadline, stats),
               stalled_pinger(host, port, deadline, stats), ping_bursts(host, port, deadline, stats),
               repeated_key(host, port, deadline, stats), session_flood(host, port, deadline, stats)]
    await asyncio.gather(*attacks, return_exceptions=True)
    done = await asyncio.gather(*players, return_exceptions=True)
    for w in held:
        w.close()
    failures = [d for d in done if isinstance(d, Exception)]
    return stats, results, failures


def run(host, port, duration=20, healthy=20, out=sys.stdout):
    stats, results, failures = asyncio.run(main_async(host, port, duration, healthy))
    up = alive(host, port)
    delays = [d for r in results for d in r["delays"]]
    gaps = sum(r["gaps"] for r in results)
    frames = sum(r["frames"] for r in results)
    print("chaos: what was tried", file=out)
    for k, v in stats.items():
        print(f"  {k:<20} {v}", file=out)
    print("chaos: what held", file=out)
    print(f"  daemon healthy after      {'yes' if up else 'NO'}", file=out)
    print(f"  last ping of a burst answered  {stats['ping_bursts_last_answered']}/{stats['ping_bursts']}", file=out)
    print(f"  repeated key refused (400)     {stats['repeated_key_refused']}/{stats['repeated_key']}", file=out)
    print(f"  healthy players finished  {len(results)}/{healthy}" + (f" ({failures[0]!r})" if failures else ""),
          file=out)
    print(f"  tick frames received      {frames}", file=out)
    print(f"  ticks missed              {gaps}", file=out)
    print(f"  delay p50 / p99 / max ms  {percentile(delays, .5):.1f} / {percentile(delays, .99):.1f} / "
          f"{max(delays) if delays else float('nan'):.1f}", file=out)
    return {"alive": up, "stats": stats, "players": len(results), "failures": failures, "gaps": gaps,
            "frames": frames, "p99_ms": percentile(delays, .99)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--duration", type=float, default=20)
    ap.add_argument("--healthy", type=int, default=20)
    a = ap.parse_args()
    if a.host not in LOOPBACK:
        sys.exit("chaos.py only targets loopback addresses")
    r = run(a.host, a.port, a.duration, a.healthy)
    st = r["stats"]
    ok = (r["alive"] and not r["failures"] and r["players"] == a.healthy and r["gaps"] == 0 and
          st["ping_bursts_last_answered"] == st["ping_bursts"] and st["repeated_key_refused"] == st["repeated_key"])
    print("chaos: PASS" if ok else "chaos: FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
