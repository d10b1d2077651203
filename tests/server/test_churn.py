"""Churn: thousands of connect / handshake / play / abrupt reset cycles against the real daemon.
The daemon must stay up, its RSS must come back near where it was, and (in the sanitizer
build) it must exit 0, which under LeakSanitizer means no leak."""
import json
import os
import socket
import struct
import unittest

from daemon import Daemon
from raw_ws import client_frame, open_websocket

CYCLES = int(os.environ.get("SKIRMISH_CHURN_CYCLES", "2000"))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def reset(sock):
    """Closes with RST instead of FIN: the abrupt end a crashed or unplugged client gives."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def cycle(port, i):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        r = open_websocket(s)
        kind = i % 4
        if kind == 0:  # play a little, then vanish
            s.sendall(client_frame(0x1, json.dumps({"type": "join", "name": f"churn{i}"}).encode()))
            s.sendall(client_frame(0x1, b'{"type":"input","move":[1,0],"attack":true}'))
            r.read_frame()
        elif kind == 1:  # reset in the middle of a frame
            frame = client_frame(0x1, b'{"type":"ping","t":1}' * 20)
            s.sendall(frame[: len(frame) // 2])
        elif kind == 2:  # garbage after the handshake
            s.sendall(os.urandom(64))
        else:  # a clean close
            s.sendall(client_frame(0x8, b"\x03\xe8"))
    finally:
        reset(s)


class Churn(unittest.TestCase):
    def test_thousands_of_abrupt_cycles_leave_no_trace(self):
        with Daemon("--reconnect-window-ms", "0", "--tick-rate", "20", log_level="info") as d:
            for i in range(200):  # warm up allocator pools before the baseline
                cycle(d.port, i)
            baseline = rss_kib(d.proc.pid)
            for i in range(CYCLES):
                cycle(d.port, i)
            self.assertTrue(d.alive())
            with socket.create_connection(("127.0.0.1", d.port), timeout=5) as s:
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
                data = b""
                while b"skirmish_players " not in data:
                    data += s.recv(65536)
            after = rss_kib(d.proc.pid)
            # Sanitizer builds keep freed memory in quarantine; allow for that, not for growth per cycle.
            slack = 64 * 1024 if os.environ.get("ASAN_OPTIONS") else 8 * 1024
            self.assertLess(after - baseline, slack, f"RSS grew from {baseline} KiB to {after} KiB")
            self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
