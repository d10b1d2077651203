"""Limits and hostile clients against the real daemon: slow readers, silent peers, connection
caps, player caps, input floods, and the numbers /metrics reports about them."""
import asyncio
import collections
import json
import os
import re
import socket
import threading
import time
import unittest

import websockets

from daemon import Daemon, wait_until
from raw_ws import (FrameReader, ResponseReader, client_frame, close_code, http_request, open_websocket,
                    upgrade_request)


def metrics(d, allow_refusal=False):
    return d.metrics(allow_refusal)


def slow_closes(m):
    """Connections closed with 1013 for reading too slowly, whichever limit caught them."""
    return (m.get('skirmish_connections_ended_total{reason="slow_hard_limit"}', 0) +
            m.get('skirmish_connections_ended_total{reason="slow_soft_limit"}', 0))


async def join_answer(ws):
    """The answer to a join sent on `ws`: "welcome", or the error's code; None if neither came."""
    for _ in range(100):
        msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if msg["type"] in ("welcome", "error"):
            return msg.get("code", msg["type"])
    return None


def unread_socket(d, timeout=10):
    """A client connection with a 4 KiB receive window: what it does not read soon backs up."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(timeout)
    s.connect(("127.0.0.1", d.port))
    return s


class SlowReaders(unittest.TestCase):
    def test_a_client_that_never_reads_is_dropped_and_others_keep_their_ticks(self):
        # Dense world, every monster in view: about a megabyte per second per client.
        args = ("--world-size", "1600", "--monsters", "1500", "--view-radius", "3000", "--obstacles", "0",
                "--soft-limit-bytes", "65536", "--hard-limit-bytes", "1048576",
                "--slow-client-timeout-ms", "1000")
        with Daemon(*args, log_level="info") as d:
            slow = unread_socket(d, timeout=None)
            slow.sendall(b"GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")

            async def healthy():
                gaps, last, frames = 0, None, 0
                async with websockets.connect(d.ws_url(), max_size=None) as ws:
                    start = time.monotonic()
                    while time.monotonic() - start < 8:
                        msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
                        if msg["type"] != "tick":
                            continue
                        frames += 1
                        if last is not None and msg["tick"] != last + 1:
                            gaps += 1
                        last = msg["tick"]
                        m = metrics(d) if frames % 40 == 0 else None
                        if m and slow_closes(m) >= 1:
                            break
                return gaps, frames

            gaps, frames = asyncio.run(healthy())
            self.assertTrue(wait_until(lambda: slow_closes(metrics(d)) >= 1))
            m = metrics(d)
            self.assertGreater(m["skirmish_tick_frames_skipped_total"], 0)
            self.assertLessEqual(m["skirmish_queued_bytes_max"], 1048576)
            self.assertLessEqual(gaps, d.ticks_not_sent(), "the healthy client lost ticks while the slow one stalled")
            self.assertGreater(frames, 10)
            slow.close()
            self.assertTrue(d.alive())

    def test_a_websocket_closed_for_reading_too_slowly_is_let_go_after_the_close_timeout(self):
        # Its close frame waits behind bytes it does not read: the close timeout (not the far
        # longer slow-client timeout, which is for HTTP answers) ends it, and its slot is free.
        args = ("--world-size", "1600", "--monsters", "1500", "--view-radius", "3000", "--obstacles", "0",
                "--soft-limit-bytes", "65536", "--slow-client-timeout-ms", "6000", "--close-timeout-ms", "200")
        with Daemon(*args, log_level="info") as d:
            with unread_socket(d, timeout=None) as slow:
                slow.sendall(upgrade_request())
                self.assertTrue(wait_until(lambda: slow_closes(metrics(d)) >= 1, timeout=20))
                self.assertTrue(wait_until(lambda: metrics(d)["skirmish_connections"] <= 1, timeout=3),
                                "the slow WebSocket was held past its close timeout")
                m = metrics(d)
                self.assertEqual(m.get('skirmish_connections_ended_total{reason="close_timeout"}', 0), 1)
                self.assertEqual(m.get('skirmish_connections_ended_total{reason="slow_reader"}', 0), 0)
            self.assertTrue(d.alive())

    def test_pipelined_requests_wait_while_their_answers_go_unread_and_all_are_answered(self):
        soft = 65536
        with Daemon("--soft-limit-bytes", str(soft), log_level="info") as d:
            with d.connect() as s:
                status, _, body = http_request(s, b"GET /js/main.js HTTP/1.1\r\nHost: t\r\n\r\n")
            self.assertEqual(status, 200)
            with unread_socket(d) as s:
                # 150 requests (within the message allowance) are 8 KB; their answers 4.5 MB.
                s.sendall(b"GET /js/main.js HTTP/1.1\r\nHost: t\r\n\r\n" * 150)
                self.assertTrue(wait_until(lambda: metrics(d)["skirmish_queued_bytes_max"] > 0))
                # The daemon stops taking requests once the unread answers pass the soft limit:
                # at most that plus one answer waits (the rest are unread requests in the kernel).
                self.assertLessEqual(metrics(d)["skirmish_queued_bytes_max"], soft + len(body) + 1024)
                reader = ResponseReader(s)
                for i in range(150):
                    status, _, got = reader.read()
                    self.assertEqual((status, len(got)), (200, len(body)), f"answer {i}")
                    self.assertEqual(got, body, f"answer {i}")
            self.assertTrue(wait_until(lambda: metrics(d)["skirmish_queued_bytes"] == 0))
            self.assertTrue(d.alive())

    def test_answers_queued_behind_connection_close_outlast_the_close_timeout(self):
        # The last of 20 pipelined requests says "Connection: close"; their answers (under the
        # soft limit, so all are answered at once) back up behind the small buffers, and the
        # client pauses its reading for 3 close timeouts. Every answer it asked for still
        # arrives, then the FIN.
        with Daemon("--close-timeout-ms", "300", "--send-buffer-bytes", "4096", "--soft-limit-bytes", str(1 << 20),
                    log_level="info") as d:
            with d.connect() as s:
                body = http_request(s, b"GET /js/main.js HTTP/1.1\r\nHost: t\r\n\r\n")[2]
            with unread_socket(d) as s:
                s.sendall(b"GET /js/main.js HTTP/1.1\r\nHost: t\r\n\r\n" * 19 +
                          b"GET /js/main.js HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                self.assertTrue(wait_until(lambda: metrics(d)["skirmish_queued_bytes"] > 0))
                time.sleep(0.9)  # the client's pause: what is under test, not a wait for an event
                reader = ResponseReader(s)
                for i in range(20):
                    status, _, got = reader.read()
                    self.assertEqual((status, got), (200, body), f"answer {i}")
                self.assertEqual(reader.buf + s.recv(1), b"")  # then our FIN
            self.assertEqual(metrics(d).get('skirmish_connections_ended_total{reason="slow_reader"}', 0), 0)
            self.assertTrue(d.alive())

    def test_answers_queued_on_a_keep_alive_connection_outlast_the_request_timeout(self):
        # The client's time for its next request starts once it has read our answers.
        with Daemon("--request-timeout-ms", "1000", "--send-buffer-bytes", "4096", log_level="info") as d:
            with unread_socket(d) as s:
                s.sendall(b"GET /js/main.js HTTP/1.1\r\nHost: t\r\n\r\n" * 20)
                self.assertTrue(wait_until(lambda: metrics(d)["skirmish_queued_bytes"] > 0))
                time.sleep(2.5)  # the client's pause
                reader = ResponseReader(s)
                for i in range(20):
                    self.assertEqual(reader.read()[0], 200, f"answer {i}")
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                self.assertEqual(reader.read()[0], 200)  # the same connection still listens
            m = metrics(d)
            self.assertEqual(m.get('skirmish_connections_ended_total{reason="request_timeout"}', 0), 0)

    def test_a_client_that_reads_none_of_its_answers_is_dropped_as_a_slow_reader(self):
        with Daemon("--request-timeout-ms", "200", "--slow-client-timeout-ms", "600", "--send-buffer-bytes", "4096",
                    log_level="info") as d:
            with unread_socket(d) as s:
                s.sendall(b"GET /js/main.js HTTP/1.1\r\nHost: t\r\n\r\n" * 20)
                self.assertTrue(wait_until(
                    lambda: metrics(d).get('skirmish_connections_ended_total{reason="slow_reader"}', 0) == 1))
                self.assertTrue(wait_until(lambda: metrics(d)["skirmish_queued_bytes"] == 0))  # its queue went too
            self.assertTrue(d.alive())

    def test_a_handshake_held_behind_unread_answers_opens_a_websocket_that_listens(self):
        with Daemon("--soft-limit-bytes", "65536", log_level="info") as d:
            with unread_socket(d) as s:
                # The answers to the GETs pass the soft limit, so the handshake behind them waits.
                s.sendall(b"GET /js/main.js HTTP/1.1\r\nHost: t\r\n\r\n" * 20 + upgrade_request())
                reader = ResponseReader(s)
                for i in range(20):
                    self.assertEqual(reader.read()[0], 200, f"answer {i}")
                s.settimeout(5)
                status, _, _ = reader.read()
                self.assertEqual(status, 101)
                frames = FrameReader(s, reader.buf)
                s.sendall(client_frame(0x9, b"still listening?"))
                self.assertEqual(frames.read_until(0xA), b"still listening?")


class Liveness(unittest.TestCase):
    def test_a_silent_peer_is_pinged_then_dropped(self):
        with Daemon("--ping-interval-ms", "200", "--ping-timeout-ms", "300", "--tick-rate", "1") as d:
            with d.connect(timeout=5) as s:
                r = open_websocket(s)
                self.assertEqual(r.read_until(0x9), b"are you there?")
                with self.assertRaises((EOFError, ConnectionResetError)):
                    for _ in range(100):
                        r.read_frame()
            self.assertTrue(wait_until(lambda: metrics(d).get(
                'skirmish_connections_ended_total{reason="ping_timeout"}', 0) >= 1))

    def test_a_pong_that_came_while_the_daemon_stood_still_counts(self):
        # The daemon stopped (a VM pause, a CPU quota's throttle) with a ping out; the peer
        # answered at once. On waking, libuv runs the timers before it reads: the peer must not
        # be dropped as silent with its pong waiting in the socket.
        import signal
        with Daemon("--ping-interval-ms", "2000", "--ping-timeout-ms", "3000", "--monsters", "0") as d:
            with d.connect(timeout=10) as s:
                r = open_websocket(s)
                payload = r.read_until(0x9)
                os.kill(d.proc.pid, signal.SIGSTOP)
                try:
                    s.sendall(client_frame(0xA, payload))
                    time.sleep(4.5)  # longer than the ping timeout
                finally:
                    os.kill(d.proc.pid, signal.SIGCONT)
                deadline = time.monotonic() + 2
                while time.monotonic() < deadline:
                    _, op, payload = r.read_frame()
                    self.assertNotEqual(op, 0x8, close_code(payload) if op == 0x8 else None)
                    if op == 0x9:
                        s.sendall(client_frame(0xA, payload))
            self.assertEqual(metrics(d).get('skirmish_connections_ended_total{reason="ping_timeout"}', 0), 0)

    def test_a_peer_that_answers_pings_stays(self):
        async def scenario(d):
            async with websockets.connect(d.ws_url()) as ws:  # the library answers pings itself
                start = time.monotonic()
                while time.monotonic() - start < 1.5:
                    await asyncio.wait_for(ws.recv(), 5)
                self.assertTrue(ws.open)

        with Daemon("--ping-interval-ms", "200", "--ping-timeout-ms", "300") as d:
            asyncio.run(scenario(d))


class ConnectionCaps(unittest.TestCase):
    def test_over_max_connections_gets_503_with_retry_after(self):
        with Daemon("--max-connections", "3") as d:
            held = [d.connect() for _ in range(3)]
            for s in held:  # make sure all three are accepted before the fourth arrives
                self.assertEqual(http_request(s, b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")[0], 200)
            with d.connect() as s:
                status, h, body = ResponseReader(s).read()
            self.assertEqual(status, 503)
            self.assertIn("retry-after", h)
            self.assertIn(b"full", body)
            for s in held:
                s.close()
            self.assertTrue(wait_until(lambda: (metrics(d, allow_refusal=True) or {}).get("skirmish_connections", 9) <= 1))
            self.assertGreaterEqual(metrics(d)['skirmish_connections_rejected_total{reason="over_max_connections"}'], 1)

    def test_over_max_connections_per_address_gets_503(self):
        with Daemon("--max-connections-per-ip", "2") as d:
            held = [d.connect() for _ in range(2)]
            for s in held:
                self.assertEqual(http_request(s, b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")[0], 200)
            with d.connect() as s:
                self.assertEqual(ResponseReader(s).read()[0], 503)
            for s in held:
                s.close()
            # Once they are gone, the address may connect again.
            self.assertTrue(wait_until(lambda: (metrics(d, allow_refusal=True) or {}).get("skirmish_connections", 9) <= 1))

    def test_ipv6_clients_count_by_their_64_and_every_spelling_is_one_address(self):
        # Through a trusted proxy (this test, from 127.0.0.1), X-Forwarded-For names the client.
        def upgrade(client):
            s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
            s.sendall((f"GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                       f"X-Forwarded-For: {client}\r\n\r\n").encode())
            held.append(s)
            return ResponseReader(s).read()[0]

        held = []
        with Daemon("--max-connections-per-ip", "2", "--trusted-proxies", "127.0.0.1") as d:
            try:
                # Two addresses of one /64 fill its limit; a third, spelt otherwise, is one more of it.
                self.assertEqual(upgrade("2001:db8:1:2::a"), 101)
                self.assertEqual(upgrade("2001:db8:1:2:ffff:0:0:b"), 101)
                self.assertEqual(upgrade("2001:DB8:1:2:0:0:0:C"), 503)
                # Another /64, and an IPv4 client in both spellings, each count on their own.
                self.assertEqual(upgrade("2001:db8:1:3::1"), 101)
                self.assertEqual(upgrade("198.51.100.7"), 101)
                self.assertEqual(upgrade("::ffff:198.51.100.7"), 101)
                self.assertEqual(upgrade("198.51.100.7"), 503)
                self.assertEqual(metrics(d)['skirmish_connections_rejected_total{reason="over_max_per_ip"}'], 2)
            finally:
                for s in held:
                    s.close()

    def test_through_a_proxy_a_waiting_long_poll_counts_and_a_file_request_does_not(self):
        # Through a trusted proxy only a connection that stays counts against its client: a
        # WebSocket or a long poll (the application says which requests it may hold), not the
        # page's files, each gone in milliseconds.
        def request(s, target, method="GET", body=b""):
            s.sendall((f"{method} {target} HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 198.51.100.9\r\n"
                       f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body)

        with Daemon("--max-connections-per-ip", "1", "--trusted-proxies", "127.0.0.1") as d:
            with d.connect() as s:
                request(s, "/session", "POST", b'{"type":"watch","x":100,"y":100}')
                status, _, body = ResponseReader(s).read()
                self.assertEqual(status, 200, body)
                session = json.loads(body)["session"]
            with d.connect() as s:
                request(s, f"/session/{session}/poll")  # empties the backlog: the next poll waits
                self.assertEqual(ResponseReader(s).read()[0], 200)
            waiting = d.connect()
            try:
                # Answered at the next tick; the connection stays open, and counted.
                request(waiting, f"/session/{session}/longpoll?timeout=20")
                self.assertEqual(ResponseReader(waiting).read()[0], 200)
                with d.connect() as s:
                    request(s, "/healthz")  # a request that does not stay: not counted
                    self.assertEqual(ResponseReader(s).read()[0], 200)
                with d.connect() as s:
                    request(s, f"/session/{session}/longpoll?timeout=20")  # one more that would stay
                    self.assertEqual(ResponseReader(s).read()[0], 503)
                self.assertEqual(metrics(d)['skirmish_connections_rejected_total{reason="over_max_per_ip"}'], 1)
            finally:
                waiting.close()


class OpenFileLimit(unittest.TestCase):
    HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"

    @staticmethod
    def connections_now(d):
        """Connections the daemon holds; 999 while it cannot take the one asking (out of
        descriptors, its connection reset, as a slow ASan build may still be for a moment)."""
        try:
            return (metrics(d, allow_refusal=True) or {}).get("skirmish_connections", 999)
        except OSError:
            return 999

    @staticmethod
    def connect_many(d, n, into):
        """n TCP connections to the daemon, appended to `into` (the kernel completes them all,
        whether the daemon takes them or not)."""
        for _ in range(n):
            s = socket.socket()
            into.append(s)
            s.settimeout(5)
            s.connect(("127.0.0.1", d.port))

    def test_a_low_soft_limit_is_raised_to_the_hard_one(self):
        # A login shell's 1024 would cut a daemon configured for 20,000 connections at about a
        # thousand: the rest accepted and closed unseen by libuv.
        with Daemon("--io-threads", "2", "--max-connections", "1000", nofile=(256, 4096)) as d:
            socks = [d.connect() for _ in range(400)]
            try:
                answered = sum(http_request(s, self.HEALTHZ)[0] == 200 for s in socks)
            finally:
                for s in socks:
                    s.close()
            self.assertEqual(answered, 400)
            self.assertEqual(metrics(d, allow_refusal=True)["skirmish_accept_failures_total"], 0)
            self.assertFalse([line for line in d.lines if "open-file limit is" in line])

    def test_a_hard_limit_below_max_connections_is_said_and_kept_clear_of(self):
        # 300 descriptors: the daemon holds 300 - 128 connections and answers the rest 503, so
        # that its own needs (a save, a health report, Redis) still find descriptors.
        with Daemon("--io-threads", "2", "--state-file", "players.json", nofile=(300, 300)) as d:
            said = [line for line in d.lines if "open-file limit is 300" in line]
            self.assertEqual(len(said), 1, "".join(d.lines))
            self.assertIn("server.max_connections (20000)", said[0])
            self.assertIn("past 172 connections", said[0])
            socks, statuses = [], []
            try:
                self.connect_many(d, 250, socks)
                for s in socks:
                    try:
                        statuses.append(http_request(s, self.HEALTHZ)[0])
                    except OSError:
                        statuses.append(None)
            finally:
                for s in socks:
                    s.close()
            # 172 held at most (a connection still being handed to its loop may count, so one
            # fewer at times); every other one answered 503, none dropped unanswered.
            served = statuses.count(200)
            self.assertTrue(165 <= served <= 172, statuses)
            self.assertEqual(statuses.count(503), 250 - served, statuses)
            self.assertTrue(wait_until(lambda: self.connections_now(d) <= 1))
            m = metrics(d)
            self.assertEqual(m["skirmish_accept_failures_total"], 0)
            self.assertGreaterEqual(m['skirmish_connections_rejected_total{reason="over_max_connections"}'], 250 - served)
            self.assertEqual(d.stop(), 0)
            self.assertTrue(os.path.exists(os.path.join(d.cwd, "players.json")))


    def test_out_of_descriptors_no_connection_is_left_deaf_and_it_recovers(self):
        # Descriptors run out anyway (here: the limit lowered under the running daemon, which
        # sized its room at start). Every connection is answered or closed at once, never held
        # unheard; the failures the daemon hears of are logged at most every 10 s (libuv closes
        # most of them itself, unseen: see the README), and it serves again afterwards.
        import resource
        import selectors
        # A long request timeout: a connection may not pass by being timed out meanwhile.
        with Daemon("--io-threads", "2", "--request-timeout-ms", "60000") as d:
            # Under UBSan, the first call through each interface is checked by reading the
            # object's type info, which UBSan probes with pipe(): at the open-file limit that
            # fails and it reports an "invalid vptr" that is not there (a lone program that
            # opens files until EMFILE and then calls a virtual member shows the same). A
            # request on each loop first: the checks are made, and cached, while there is room.
            for _ in range(4):
                with d.connect() as s:
                    self.assertEqual(http_request(s, self.HEALTHZ)[0], 200)
            self.assertTrue(wait_until(lambda: self.connections_now(d) <= 1))
            resource.prlimit(d.proc.pid, resource.RLIMIT_NOFILE, (150, 150))
            socks = []
            answered = ended = 0
            try:
                self.connect_many(d, 300, socks)
                waiting = selectors.DefaultSelector()
                for s in socks:
                    try:
                        s.sendall(self.HEALTHZ)
                        waiting.register(s, selectors.EVENT_READ)
                    except OSError:
                        ended += 1  # reset already
                deadline = time.monotonic() + 10
                while waiting.get_map() and time.monotonic() < deadline:
                    for key, _ in waiting.select(timeout=max(0.0, deadline - time.monotonic())):
                        waiting.unregister(key.fileobj)
                        try:
                            data = key.fileobj.recv(64)
                        except OSError:
                            data = b""
                        if data.startswith(b"HTTP/1.1 200"):
                            answered += 1
                        elif not data:
                            ended += 1
                deaf = len(waiting.get_map())
            finally:
                for s in socks:
                    s.close()
            self.assertEqual(deaf, 0, f"{answered} answered, {ended} closed")
            self.assertEqual(answered + ended, 300, f"{answered} answered, {ended} closed")
            self.assertGreater(answered, 0)
            self.assertGreater(ended, 0)
            self.assertTrue(wait_until(lambda: self.connections_now(d) <= 1))
            with d.connect() as s:  # and it serves again
                self.assertEqual(http_request(s, self.HEALTHZ)[0], 200)
            logged = [line for line in d.lines if "could not be taken" in line]
            self.assertLessEqual(len(logged), 2, "".join(logged))
            self.assertFalse([line for line in logged if "too many open files" not in line.lower()], "".join(logged))
            self.assertEqual(metrics(d)["skirmish_accept_failures_total"] > 0, bool(logged))

class GameCaps(unittest.TestCase):
    def test_max_players_refuses_the_next_join(self):
        async def scenario(d):
            async with websockets.connect(d.ws_url()) as a, websockets.connect(d.ws_url()) as b:
                await a.send(json.dumps({"type": "join", "name": "one"}))
                await b.send(json.dumps({"type": "join", "name": "two"}))
                kinds = [await join_answer(ws) for ws in (a, b)]
                self.assertEqual(sorted(kinds, key=str), ["server_full", "welcome"])

        with Daemon("--max-players", "1") as d:
            asyncio.run(scenario(d))
            self.assertEqual(metrics(d)["skirmish_joins_refused_total"], 1)

    def test_one_address_that_joins_and_drops_in_a_loop_cannot_fill_the_world(self):
        # Each dropped player waits for its token (the reconnect window), but one address keeps
        # at most server.max_connections_per_ip of them in a world: the longest away goes at
        # the next tick.
        async def join(d, name):
            async with websockets.connect(d.ws_url()) as ws:
                await ws.send(json.dumps({"type": "join", "name": name}))
                return await join_answer(ws)

        def players(d):
            return metrics(d)['skirmish_players{world="world-1"}']

        # 3 per address: room for a metrics request while a dropped socket is being released.
        with Daemon("--max-players", "5", "--max-connections-per-ip", "3", "--reconnect-window-ms", "60000") as d:
            for i in range(7):
                self.assertEqual(asyncio.run(join(d, f"drop{i}")), "welcome", f"join {i}")
                self.assertTrue(wait_until(lambda: players(d) <= 3), f"after join {i}: {players(d)} players held")
            self.assertEqual(metrics(d)["skirmish_joins_refused_total"], 0)

    def test_inputs_over_the_rate_limit_are_dropped_and_counted(self):
        async def scenario(d):
            async with websockets.connect(d.ws_url()) as ws:
                await ws.send(json.dumps({"type": "join", "name": "flood"}))
                for _ in range(100):
                    if json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "welcome":
                        break
                for i in range(50):
                    await ws.send(json.dumps({"type": "input", "seq": i, "move": [1, 0]}))
                await ws.send(json.dumps({"type": "ping", "t": 1}))
                for _ in range(1000):
                    if json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "pong":
                        break

        with Daemon("--max-inputs-per-tick", "2", "--tick-rate", "5") as d:
            asyncio.run(scenario(d))
            # WebSocket inputs go to the world's queue and are counted at its next tick (the
            # pong was answered at once): wait until all 50 are counted one way or the other.
            counted = lambda m: m.get("skirmish_inputs_total", 0) + m.get("skirmish_inputs_dropped_total", 0)
            wait_until(lambda: counted(metrics(d)) >= 50, timeout=5)
            m = metrics(d)
            self.assertEqual(counted(m), 50)
            self.assertGreater(m["skirmish_inputs_dropped_total"], 0)
            self.assertLessEqual(m["skirmish_inputs_total"], 50 - m["skirmish_inputs_dropped_total"])


    def test_past_the_inputs_a_tick_allows_the_last_movement_still_wins(self):
        # Six inputs in one tick (half a second long) where two are allowed: right, right, ...,
        # then left. The last one's movement is the player's, and it is acknowledged; the old
        # daemon dropped inputs 2-5 whole and the player walked right for good.
        async def scenario(d):
            async with websockets.connect(d.ws_url()) as ws:
                await ws.send(json.dumps({"type": "join", "name": "burst"}))
                player = None
                while player is None:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
                    player = msg["id"] if msg["type"] == "welcome" else None
                for seq in range(6):
                    await ws.send(json.dumps({"type": "input", "seq": seq, "move": [1 if seq < 5 else -1, 0]}))
                xs = []  # the player's x in each tick from the one that acknowledges seq 5
                for _ in range(100):
                    msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
                    if msg["type"] != "tick":
                        continue
                    if xs or msg.get("ack", {}).get("seq") == 5:
                        xs += [e["x"] for e in msg["entities"] if e["id"] == player and "x" in e]
                    if len(xs) >= 3:
                        return xs
                raise AssertionError(f"seq 5 not acknowledged with the player moving: {xs}")

        with Daemon("--max-inputs-per-tick", "2", "--tick-rate", "2", "--obstacles", "0", "--monsters", "0") as d:
            xs = asyncio.run(scenario(d))
            self.assertLess(xs[-1], xs[0], f"walking left: {xs}")


async def healthy(d, seconds):
    """A player beside a flood for `seconds` of the server's time: what it saw, a Seen."""
    gaps, last, frames, first = 0, None, 0, None
    not_sent = d.ticks_not_sent()
    async with websockets.connect(d.ws_url()) as ws:
        await ws.send(json.dumps({"type": "join", "name": "calm"}))
        first_ts = None
        while True:
            # `seconds` of the server's time (each tick's `ts`), not of this client's: a stall
            # of this client in reading is not the daemon's.
            msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
            if msg["type"] != "tick":
                continue
            first_ts = msg["ts"] if first_ts is None else first_ts
            if msg["ts"] - first_ts >= seconds * 1000:
                break
            if last is not None and msg["tick"] != last + 1:
                gaps += 1
            first = msg["tick"] if first is None else first
            last, frames = msg["tick"], frames + 1
    return Seen(gaps, frames, last - first + 1, d.ticks_not_sent() - not_sent)


# What the player beside a flood saw: gaps in its tick numbers, frames, the ticks they span (game
# time), and the frames the daemon chose not to send meanwhile (late turns, the send rate).
Seen = collections.namedtuple("Seen", "gaps frames ticks not_sent")


class Floods(unittest.TestCase):
    def assert_flood_paused_then_closed(self, scenario):
        """Runs scenario(d) -> (Seen, close payload) against a daemon allowing 50 messages a
        second and closing a flood after 1.5 s: the flooder was paused, then closed with 1008, while
        the healthy player beside it kept every tick."""
        with Daemon("--max-messages-per-second", "50", "--flood-close-ms", "1500", "--tick-rate", "20",
                    log_level="info") as d:
            seen, close = asyncio.run(scenario(d))
            # 3 s of the server's time: game time kept (the ticks the frames span), every tick
            # in a frame but those the daemon chose not to send, and most ticks in a frame of
            # their own (a late turn sends its ticks as one; a starved loop would send few).
            self.assertGreaterEqual(seen.ticks, 20 * 3 - 5, seen)
            self.assertLessEqual(seen.gaps, seen.not_sent, seen)
            self.assertGreaterEqual(seen.frames, 40, seen)
            self.assertEqual(close_code(close), 1008)
            m = metrics(d)
            self.assertGreater(m["skirmish_messages_over_rate_total"], 0)
            self.assertGreater(m["skirmish_reads_paused_total"], 0)
            self.assertEqual(m['skirmish_connections_ended_total{reason="flood"}'], 1)

    def test_a_message_flood_is_paused_then_closed_while_a_player_keeps_every_tick(self):
        async def scenario(d):
            flooder = socket.create_connection(("127.0.0.1", d.port), timeout=10)
            reader = open_websocket(flooder)
            loop = asyncio.get_running_loop()
            # 2,000 inputs in one go (about 70 KB): far over 50 a second.
            await loop.run_in_executor(None, flooder.sendall,
                                       client_frame(0x1, b'{"type":"input","move":[1,0]}') * 2000)
            seen = await healthy(d, 3)
            # 40 s of messages at the allowance: slowed for 1.5 s, then told why it is closed.
            close = await loop.run_in_executor(None, reader.read_until, 0x8)
            flooder.close()
            return seen, close

        self.assert_flood_paused_then_closed(scenario)


    def test_a_message_that_never_ends_is_paused_then_closed_while_a_player_keeps_every_tick(self):
        # A text frame that does not end its message, then empty continuation frames without
        # end: no message is ever complete, yet each frame is work. The daemon before charged
        # messages only: it took ~30 M such frames a second, most of a core, and never paused.
        async def scenario(d):
            flooder = socket.create_connection(("127.0.0.1", d.port), timeout=10)
            reader = open_websocket(flooder)
            stop = threading.Event()

            def flood():
                # 64 KiB of empty continuation frames a write, for at most 8 s or until the
                # daemon closes (a write then fails) or stops reading (the write times out).
                chunk = client_frame(0x0, b"", fin=False) * 10000
                deadline = time.monotonic() + 8
                try:
                    flooder.sendall(client_frame(0x1, b"{", fin=False))
                    while not stop.is_set() and time.monotonic() < deadline:
                        flooder.sendall(chunk)
                except OSError:
                    pass

            sender = threading.Thread(target=flood, daemon=True)
            sender.start()
            loop = asyncio.get_running_loop()
            try:
                seen = await healthy(d, 3)
                close = await loop.run_in_executor(None, reader.read_until, 0x8)
            finally:
                stop.set()
                flooder.close()
                sender.join(15)
            return seen, close

        self.assert_flood_paused_then_closed(scenario)

    def test_pipelined_requests_over_the_rate_wait_and_all_get_answers(self):
        with Daemon("--max-messages-per-second", "400", log_level="info") as d:
            with d.connect(timeout=10) as s:
                start = time.monotonic()
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n" * 1000)
                data = b""
                while data.count(b"HTTP/1.1 200") < 1000:
                    chunk = s.recv(65536)
                    self.assertTrue(chunk, "connection closed before every answer")
                    data += chunk
                elapsed = time.monotonic() - start
            self.assertEqual(data.count(b"HTTP/1.1 "), 1000)
            # A burst of 400, then 400 a second: the other 600 cannot be answered in under 1.5 s.
            self.assertGreater(elapsed, 1.2)
            self.assertGreater(metrics(d)["skirmish_reads_paused_total"], 0)


class Metrics(unittest.TestCase):
    def test_stats_json_keeps_a_sample_a_second(self):
        with Daemon("--tick-rate", "20") as d:
            def samples():
                with d.connect() as s:
                    status, _, body = http_request(s, b"GET /stats.json HTTP/1.1\r\nHost: t\r\n\r\n")
                self.assertEqual(status, 200)
                return json.loads(body)["samples"]

            self.assertTrue(wait_until(lambda: len(samples()) >= 2, timeout=5))
            last = samples()[-1]
            for key in ["t", "players", "connections", "tick_p50_ms", "tick_p99_ms", "late_ticks", "frames_per_s",
                        "bytes_per_s", "skipped_per_s"]:
                self.assertIn(key, last)
            self.assertGreater(last["tick_p99_ms"], 0)
            with d.connect() as s:
                status, h, body = http_request(s, b"GET /stats.html HTTP/1.1\r\nHost: t\r\n\r\n")
            self.assertEqual(status, 200)
            self.assertIn(b"stats.json", body)


    def test_metrics_is_prometheus_text_with_the_main_series(self):
        with Daemon() as d:
            with d.connect() as s:
                status, h, body = http_request(s, b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
            self.assertEqual(status, 200)
            self.assertTrue(h["content-type"].startswith("text/plain; version=0.0.4"))
            text = body.decode()
            for name in ["skirmish_connections", "skirmish_websockets", "skirmish_frames_sent_total",
                         "skirmish_tick_duration_seconds_bucket", "skirmish_players", "skirmish_monsters",
                         "skirmish_ticks_late_total", "skirmish_queued_bytes"]:
                self.assertRegex(text, rf"(?m)^{name}[ {{]", name)
            for line in text.splitlines():
                self.assertTrue(line.startswith("#") or re.match(r"^[a-z_]+(\{[^}]*\})? [-0-9.e+]+$", line), line)


if __name__ == "__main__":
    unittest.main()
