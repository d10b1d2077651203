"""WebSocket against the real daemon: handshake rules, a real client library, framing errors
and their close codes, the close handshake, and SIGTERM."""
import asyncio
import base64
import hashlib
import json
import os
import re
import signal
import unittest

import websockets

from daemon import Daemon, wait_until
from raw_ws import (FrameReader, ResponseReader, client_frame, close_code, http_request, open_websocket,
                    upgrade_request)

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def expected_accept(key):
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


class Handshake(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon("--allowed-origins", "http://good.example,http://127.0.0.1",
                       "--subprotocols", "skirmish.v1,skirmish.v2").start()

    @classmethod
    def tearDownClass(cls):
        assert cls.d.stop() == 0

    def handshake(self, request):
        with self.d.connect() as s:
            return http_request(s, request)

    def test_valid_upgrade_gets_101_with_the_right_accept(self):
        key = base64.b64encode(os.urandom(16)).decode()
        status, h, _ = self.handshake(upgrade_request(key=key, extra="Origin: http://good.example\r\n"))
        self.assertEqual(status, 101)
        self.assertEqual(h["upgrade"].lower(), "websocket")
        self.assertEqual(h["sec-websocket-accept"], expected_accept(key))

    def test_rfc_example_key(self):
        status, h, _ = self.handshake(upgrade_request(key="dGhlIHNhbXBsZSBub25jZQ==",
                                                      extra="Origin: http://good.example\r\n"))
        self.assertEqual(status, 101)
        self.assertEqual(h["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")

    def test_tokens_are_case_insensitive_and_in_lists(self):
        req = (b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: WebSocket\r\nConnection: keep-alive, UPGRADE\r\n"
               b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
               b"Origin: http://good.example\r\n\r\n")
        self.assertEqual(self.handshake(req)[0], 101)

    def test_missing_key_is_400(self):
        req = (b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               b"Sec-WebSocket-Version: 13\r\n\r\n")
        status, _, body = self.handshake(req)
        self.assertEqual(status, 400)
        self.assertIn(b"Sec-WebSocket-Key", body)

    def test_key_not_16_bytes_is_400(self):
        for key in ["dGhlIHNhbXBsZQ==", "not base64 at all!!!!!!!", base64.b64encode(os.urandom(17)).decode()]:
            self.assertEqual(self.handshake(upgrade_request(key=key))[0], 400, key)

    def test_missing_host_is_400(self):
        req = (b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.assertEqual(self.handshake(req)[0], 400)

    def test_connection_without_upgrade_token_is_400(self):
        req = (b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n"
               b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.assertEqual(self.handshake(req)[0], 400)

    def test_post_upgrade_is_400(self):
        req = upgrade_request().replace(b"GET ", b"POST ", 1)
        self.assertEqual(self.handshake(req)[0], 400)

    def test_http10_upgrade_is_400(self):
        req = upgrade_request().replace(b"HTTP/1.1", b"HTTP/1.0", 1)
        self.assertEqual(self.handshake(req)[0], 400)

    def test_other_version_is_426_naming_13(self):
        status, h, _ = self.handshake(upgrade_request(version="8"))
        self.assertEqual(status, 426)
        self.assertEqual(h["sec-websocket-version"], "13")
        self.assertEqual(h["upgrade"], "websocket")  # RFC 9110 15.5.22

    def test_origin_not_on_the_list_is_403(self):
        status, _, _ = self.handshake(upgrade_request(extra="Origin: http://evil.example\r\n"))
        self.assertEqual(status, 403)

    def test_subprotocol_is_chosen_from_our_list(self):
        status, h, _ = self.handshake(upgrade_request(
            extra="Origin: http://good.example\r\nSec-WebSocket-Protocol: nope, skirmish.v2, skirmish.v1\r\n"))
        self.assertEqual(status, 101)
        self.assertEqual(h["sec-websocket-protocol"], "skirmish.v1")  # our order, not the client's

    def test_unknown_subprotocol_is_not_selected(self):
        status, h, _ = self.handshake(upgrade_request(
            extra="Origin: http://good.example\r\nSec-WebSocket-Protocol: nope\r\n"))
        self.assertEqual(status, 101)
        self.assertNotIn("sec-websocket-protocol", h)

    def test_daemon_still_healthy_after_bad_handshakes(self):
        with self.d.connect() as s:
            self.assertEqual(http_request(s, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")[0], 200)


class Frames(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon("--max-message-bytes", "65536", "--tick-rate", "1").start()

    @classmethod
    def tearDownClass(cls):
        assert cls.d.stop() == 0

    def violation_close_code(self, *frames):
        with self.d.connect() as s:
            r = open_websocket(s)
            for f in frames:
                s.sendall(f)
            payload = r.read_until(0x8)
            # After the close frame the server shuts down its side: we see EOF.
            with self.assertRaises(EOFError):
                while True:
                    r.read_frame()
            return close_code(payload)

    def test_ping_gets_pong_with_same_payload(self):
        with self.d.connect() as s:
            r = open_websocket(s)
            s.sendall(client_frame(0x9, b"hello?"))
            self.assertEqual(r.read_until(0xA), b"hello?")

    def test_pings_sent_together_each_get_their_pong_in_order(self):
        # Autobahn's case 2.10: ten pings in one write, within the message allowance.
        with self.d.connect() as s:
            r = open_websocket(s)
            s.sendall(b"".join(client_frame(0x9, b"payload-%d" % i) for i in range(10)))
            self.assertEqual([r.read_until(0xA) for _ in range(10)], [b"payload-%d" % i for i in range(10)])

    def test_unmasked_frame_is_1002(self):
        self.assertEqual(self.violation_close_code(client_frame(0x1, b"hi", mask=False)), 1002)

    def test_rsv_bits_are_1002(self):
        self.assertEqual(self.violation_close_code(client_frame(0x1, b"hi", rsv=4)), 1002)

    def test_reserved_opcode_is_1002(self):
        self.assertEqual(self.violation_close_code(client_frame(0x3)), 1002)

    def test_fragmented_ping_is_1002(self):
        self.assertEqual(self.violation_close_code(client_frame(0x9, b"x", fin=False)), 1002)

    def test_continuation_without_start_is_1002(self):
        self.assertEqual(self.violation_close_code(client_frame(0x0, b"x")), 1002)

    def test_invalid_utf8_is_1007(self):
        self.assertEqual(self.violation_close_code(client_frame(0x1, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xed\xa0\x80")), 1007)

    def test_message_over_the_limit_is_1009(self):
        self.assertEqual(self.violation_close_code(client_frame(0x2, b"x" * 70000)), 1009)

    def test_fragments_over_the_limit_are_1009(self):
        half = b"x" * 40000
        self.assertEqual(self.violation_close_code(client_frame(0x2, half, fin=False),
                                                   client_frame(0x0, half, fin=True)), 1009)

    def test_bad_close_code_is_1002(self):
        self.assertEqual(self.violation_close_code(client_frame(0x8, b"\x03\xed")), 1002)  # 1005

    def test_close_is_echoed_and_tcp_closed(self):
        with self.d.connect() as s:
            r = open_websocket(s)
            s.sendall(client_frame(0x8, b"\x03\xe8bye"))
            self.assertEqual(close_code(r.read_until(0x8)), 1000)
            with self.assertRaises(EOFError):
                while True:
                    r.read_frame()

    def test_frame_split_byte_by_byte_still_works(self):
        with self.d.connect() as s:
            r = open_websocket(s)
            for b in client_frame(0x9, b"slow"):
                s.sendall(bytes([b]))
            self.assertEqual(r.read_until(0xA), b"slow")

    def test_frames_in_the_same_write_as_the_handshake_are_read(self):
        with self.d.connect() as s:
            s.sendall(upgrade_request() + client_frame(0x9, b"early"))
            data = b""
            while b"\r\n\r\n" not in data:
                data += s.recv(4096)
            head, _, rest = data.partition(b"\r\n\r\n")
            self.assertTrue(head.startswith(b"HTTP/1.1 101"))
            self.assertEqual(FrameReader(s, rest).read_until(0xA), b"early")


class CloseMetrics(unittest.TestCase):
    def test_client_close_codes_make_no_new_series_and_every_reason_starts_at_zero(self):
        d = Daemon("--tick-rate", "1").start()
        try:
            m = d.metrics()
            for series in ('skirmish_connections_ended_total{reason="flood"}',
                           'skirmish_connections_ended_total{reason="slow_hard_limit"}',
                           'skirmish_connections_rejected_total{reason="over_max_per_ip"}',
                           'skirmish_websocket_closes_total{code="1013"}',
                           'skirmish_handshake_failures_total{status="426"}'):
                self.assertEqual(m.get(series), 0, series)
            # Echoed application codes are counted, two series for 2,000 codes (found by an
            # audit: each code was a series of its own, for as long as the process lived).
            for code in [3000 + i for i in range(15)] + [4000 + 61 * i for i in range(15)]:
                with d.connect() as sock:
                    r = open_websocket(sock)
                    sock.sendall(client_frame(0x8, code.to_bytes(2, "big")))
                    self.assertEqual(close_code(r.read_until(0x8)), code)
            m = d.metrics()
            self.assertEqual(m.get('skirmish_websocket_closes_total{code="3xxx"}'), 15)
            self.assertEqual(m.get('skirmish_websocket_closes_total{code="4xxx"}'), 15)
            applications = {k for k in m if re.match(r'skirmish_websocket_closes_total\{code="[34]', k)}
            self.assertEqual(applications, {'skirmish_websocket_closes_total{code="3xxx"}',
                                            'skirmish_websocket_closes_total{code="4xxx"}'})
        finally:
            self.assertEqual(d.stop(), 0)


class RealClient(unittest.TestCase):
    """Python's websockets library: a client we did not write."""

    def test_handshake_ping_message_and_close(self):
        async def scenario(url):
            async with websockets.connect(url) as ws:
                hello = json.loads(await asyncio.wait_for(ws.recv(), 5))
                self.assertEqual(hello["type"], "hello")
                pong_waiter = await ws.ping(b"abc")
                await asyncio.wait_for(pong_waiter, 5)
                await ws.send("this is not json")
                for _ in range(50):
                    msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
                    if msg["type"] == "error":
                        self.assertEqual(msg["code"], "bad_json")
                        break
                else:
                    self.fail("no error reply to a bad message")
                await ws.close(1000, "done")
                self.assertEqual(ws.close_code, 1000)

        with Daemon() as d:
            asyncio.run(scenario(d.ws_url()))
            self.assertTrue(d.alive())

    def test_sigterm_sends_1001_and_exits_0(self):
        async def scenario(d):
            async with websockets.connect(d.ws_url()) as ws:
                await asyncio.wait_for(ws.recv(), 5)
                d.proc.send_signal(signal.SIGTERM)
                with self.assertRaises(websockets.ConnectionClosed):
                    for _ in range(10000):
                        await asyncio.wait_for(ws.recv(), 5)
                self.assertEqual(ws.close_code, 1001)

        d = Daemon().start()
        try:
            asyncio.run(scenario(d))
            self.assertEqual(d.proc.wait(timeout=10), 0)
            d.wait_for_log(r"stopped: ")
        finally:
            d.kill()

    def test_a_request_half_here_at_shutdown_is_answered_within_the_grace(self):
        # Half a handshake and half a GET when SIGTERM comes (on both loops): the rest comes
        # within the grace and is answered, the handshake with 101 and then 1001 (they got a
        # bare FIN, nothing to tell a client that the server was going away).
        d = Daemon("--io-threads", "2").start()
        try:
            socks = [d.connect() for _ in range(4)]
            requests = [upgrade_request(), b"GET /worlds HTTP/1.1\r\nHost: t\r\n\r\n"] * 2
            for s, r in zip(socks, requests):
                s.settimeout(5)
                s.sendall(r[:20])
            # (The request for /metrics is the fifth.)
            self.assertTrue(wait_until(lambda: d.metrics().get("skirmish_connections", 0) >= 5))
            d.proc.send_signal(signal.SIGTERM)
            d.wait_for_log(r"shutting down")
            for s, r in zip(socks, requests):
                s.sendall(r[20:])
            for s, r in zip(socks, requests):
                reader = ResponseReader(s)
                status, headers, _ = reader.read()
                if r.startswith(b"GET /ws"):
                    self.assertEqual(status, 101)
                    fin, opcode, payload = FrameReader(s, reader.buf).read_frame()
                    self.assertEqual((opcode, close_code(payload)), (8, 1001))
                else:
                    self.assertEqual((status, headers.get("connection")), (200, "close"))
                s.close()
            self.assertEqual(d.proc.wait(timeout=10), 0)
        finally:
            d.kill()

    def test_shutdown_grace_drops_clients_that_never_answer_close(self):
        d = Daemon("--shutdown-grace-ms", "300").start()
        try:
            with d.connect() as s:
                open_websocket(s)  # never reads, never answers the close
                d.proc.send_signal(signal.SIGTERM)
                self.assertEqual(d.proc.wait(timeout=10), 0)
        finally:
            d.kill()

    def test_a_second_signal_stops_at_once(self):
        # Ctrl-C twice: the second does not wait out a long grace for a client that never answers.
        d = Daemon("--shutdown-grace-ms", "60000", "--close-timeout-ms", "60000").start()
        try:
            with d.connect() as s:
                open_websocket(s)  # never reads, never answers the close
                d.proc.send_signal(signal.SIGINT)
                d.wait_for_log(r"received SIGINT, shutting down")
                d.proc.send_signal(signal.SIGINT)
                self.assertEqual(d.proc.wait(timeout=10), 0)
            d.wait_for_log(r"received SIGINT while stopping: dropping every connection now")
        finally:
            d.kill()


if __name__ == "__main__":
    unittest.main()


class Ipv6(unittest.TestCase):
    def test_websocket_over_ipv6_loopback(self):
        async def scenario(url):
            async with websockets.connect(url) as ws:
                self.assertEqual(json.loads(await asyncio.wait_for(ws.recv(), 5))["type"], "hello")

        with Daemon(host="::1") as d:
            asyncio.run(scenario(d.ws_url()))


class HandshakeRouting(unittest.TestCase):
    def test_handshake_without_upgrade_header_is_400_not_426(self):
        with Daemon() as d:
            with d.connect() as s:
                req = (b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
                       b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                status, _, body = http_request(s, req)
            self.assertEqual(status, 400)
            self.assertIn(b"Upgrade", body)

    def test_handshake_with_an_absolute_form_target_and_list_headers_on_several_lines(self):
        with Daemon() as d:
            with d.connect() as s:
                req = (b"GET http://127.0.0.1:%d/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                       b"Connection: keep-alive\r\nConnection: Upgrade\r\n"
                       b"Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: skirmish.v2\r\n"
                       b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" % d.port)
                status, h, _ = http_request(s, req)
            self.assertEqual(status, 101)
            self.assertEqual(h.get("sec-websocket-protocol"), "skirmish.v2")

    def test_handshake_to_another_path_is_404(self):
        with Daemon() as d:
            with d.connect() as s:
                self.assertEqual(http_request(s, upgrade_request(path="/chat"))[0], 404)
