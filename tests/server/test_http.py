"""Plain HTTP against the real daemon: static files, ETag/304, methods, paths, health."""
import datetime
import email.utils
import json
import signal
import socket
import time
import unittest

from daemon import Daemon
from raw_ws import ResponseReader, close_code, http_request, open_websocket, read_response


def get(sock, path, extra="", method="GET"):
    return http_request(sock, f"{method} {path} HTTP/1.1\r\nHost: t\r\n{extra}\r\n".encode())


class StaticFiles(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()

    @classmethod
    def tearDownClass(cls):
        assert cls.d.stop() == 0

    def test_index_is_served_with_type_length_etag_and_cache_control(self):
        with self.d.connect() as s:
            status, h, body = get(s, "/")
        self.assertEqual(status, 200)
        self.assertTrue(h["content-type"].startswith("text/html"))
        self.assertEqual(int(h["content-length"]), len(body))
        self.assertIn("<html", body.decode().lower())
        self.assertTrue(h["etag"].startswith('"'))
        self.assertIn("cache-control", h)

    def test_matching_if_none_match_gets_304_without_body(self):
        with self.d.connect() as s:
            _, h, _ = get(s, "/index.html")
            status, h2, body = get(s, "/index.html", f"If-None-Match: {h['etag']}\r\n")
        self.assertEqual(status, 304)
        self.assertEqual(body, b"")
        self.assertEqual(h2["etag"], h["etag"])

    def test_other_etag_gets_the_file(self):
        with self.d.connect() as s:
            status, _, body = get(s, "/", 'If-None-Match: "nope"\r\n')
        self.assertEqual(status, 200)
        self.assertGreater(len(body), 0)

    def test_head_has_headers_but_no_body(self):
        with self.d.connect() as s:
            _, h_get, body = get(s, "/")
            s.sendall(b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n")
            # HEAD carries Content-Length of the GET body but no bytes: read the head only.
            data = b""
            while b"\r\n\r\n" not in data:
                data += s.recv(4096)
            head, _, rest = data.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200"))
        self.assertIn(f"Content-Length: {len(body)}".encode(), head)
        self.assertEqual(rest, b"")

    def test_no_answer_to_a_head_has_a_body_so_the_next_answer_follows_it_at_once(self):
        # The refusals (426 of the WebSocket endpoint, 405, 400 of a bad target) as much as the
        # files: a body after a HEAD's answer would be read as the start of the next answer.
        with self.d.connect() as s:
            s.sendall(b"HEAD /ws HTTP/1.1\r\nHost: t\r\n\r\n"
                      b"HEAD /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
                      b"HEAD /nope HTTP/1.1\r\nHost: t\r\n\r\n"
                      b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        heads = []
        for want in (426, 200, 404):
            head, sep, data = data.partition(b"\r\n\r\n")
            self.assertTrue(sep)
            self.assertTrue(head.startswith(b"HTTP/1.1 %d " % want), head)
            self.assertIn(b"Content-Length: ", head)  # of the body a GET would get, not sent
            heads.append(head)
        self.assertTrue(data.startswith(b"HTTP/1.1 200 "), data[:80])
        self.assertIn(b'"status"', data)
        with self.d.connect() as s:
            s.sendall(b"HEAD /%zz HTTP/1.1\r\nHost: t\r\n\r\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 400 "), head)
        self.assertEqual(rest, b"")

    def test_an_http10_client_asking_to_keep_the_connection_is_told_it_is_kept(self):
        with self.d.connect() as s:
            reader = ResponseReader(s)
            s.sendall(b"GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            status, h, _ = reader.read()
            self.assertEqual((status, h.get("connection")), (200, "keep-alive"))
            # Without the token an HTTP/1.0 request is the connection's last.
            s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
            status, h, _ = reader.read()
            self.assertEqual((status, h.get("connection")), (200, "close"))
            self.assertEqual(s.recv(1), b"")

    def test_keep_alive_serves_several_requests_on_one_connection(self):
        with self.d.connect() as s:
            for _ in range(3):
                status, _, _ = get(s, "/healthz")
                self.assertEqual(status, 200)

    def test_pipelined_requests_in_one_write_are_all_answered(self):
        with self.d.connect() as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\nGET /nope HTTP/1.1\r\nHost: t\r\n\r\n")
            reader = ResponseReader(s)
            first = reader.read()
            second = reader.read()
        self.assertEqual(first[0], 200)
        self.assertEqual(second[0], 404)

    def test_unknown_path_is_404(self):
        with self.d.connect() as s:
            self.assertEqual(get(s, "/no/such/file.js")[0], 404)

    def test_a_404_names_the_path_back_as_plain_printable_text(self):
        # Markup and bytes that are not UTF-8 come back escaped, never as they were sent.
        with self.d.connect() as s:
            status, h, body = get(s, "/%3Cscript%3Ealert(1)%3C/script%3E%e0%80%af")
        self.assertEqual(status, 404)
        self.assertEqual(h["x-content-type-options"], "nosniff")
        self.assertEqual(body, b"404 Not Found: /%3Cscript%3Ealert(1)%3C/script%3E%E0%80%AF\n")

    def test_post_is_405_with_allow(self):
        with self.d.connect() as s:
            status, h, _ = get(s, "/", "Content-Length: 0\r\n", method="POST")
        self.assertEqual(status, 405)
        self.assertIn("GET", h["allow"])

    def test_traversal_never_escapes_the_web_root(self):
        for path in ["/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc%2fpasswd",
                     "/%00index.html", "/..\\..\\etc\\passwd", "/%5c..%5cetc%5cpasswd", "//etc/passwd"]:
            with self.d.connect() as s:
                status, _, body = get(s, path)
            self.assertIn(status, (400, 404), path)
            self.assertNotIn(b"root:", body, path)

    def test_content_types_follow_extensions(self):
        with self.d.connect() as s:
            status, h, _ = get(s, "/index.html")
        self.assertEqual(status, 200)
        self.assertEqual(h["content-type"], "text/html; charset=utf-8")

    def test_healthz_reports_status_uptime_and_connections(self):
        with self.d.connect() as s:
            status, h, body = get(s, "/healthz")
        self.assertEqual(status, 200)
        self.assertEqual(h["content-type"], "application/json")
        doc = json.loads(body)
        self.assertEqual(doc["status"], "ok")
        self.assertGreaterEqual(doc["uptime_s"], 0)
        self.assertGreaterEqual(doc["connections"], 1)

    def test_plain_get_of_the_websocket_endpoint_is_426(self):
        with self.d.connect() as s:
            status, h, _ = get(s, "/ws")
        self.assertEqual(status, 426)
        self.assertEqual(h["sec-websocket-version"], "13")

    def test_every_answer_is_dated_now(self):
        # RFC 9110 6.6.1: an origin server with a clock sends Date in every 2xx, 3xx and 4xx.
        answers = {}
        with self.d.connect() as s:
            for path in ("/", "/healthz", "/no-such-file", "/ws"):
                status, h, _ = get(s, path)
                answers[status] = h.get("date")
        with self.d.connect() as s:
            status, h, _ = http_request(s, b"GARBAGE\x01\x02 / HTTP/1.1\r\n\r\n")
            answers[status] = h.get("date")
        self.assertEqual(sorted(answers), [200, 400, 404, 426])
        for status, date in answers.items():
            self.assertIsNotNone(date, status)
            when = email.utils.parsedate_to_datetime(date)
            self.assertTrue(date.endswith(" GMT"), date)
            self.assertLess(abs((when - datetime.datetime.now(datetime.timezone.utc)).total_seconds()), 5, date)

    def test_malformed_request_is_400_and_closed(self):
        with self.d.connect() as s:
            status, h, _ = http_request(s, b"GARBAGE\x01\x02 / HTTP/1.1\r\n\r\n")
            self.assertEqual(status, 400)
            self.assertEqual(h.get("connection"), "close")
            self.assertEqual(s.recv(10), b"")  # the server closed after answering

    def test_http11_without_host_is_400_and_a_long_target_414(self):
        with self.d.connect() as s:
            status, _, body = http_request(s, b"GET /healthz HTTP/1.1\r\n\r\n")
            self.assertEqual(status, 400)
            self.assertIn(b"Host", body)
        with self.d.connect() as s:
            self.assertEqual(http_request(s, b"GET /healthz HTTP/1.0\r\n\r\n")[0], 200)
        with self.d.connect() as s:
            self.assertEqual(http_request(s, b"GET /?q=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n")[0], 414)

    def test_expect_100_continue_gets_the_interim_answer_before_the_body(self):
        body = b'{"name":"ann"}'
        with self.d.connect() as s:
            s.sendall(b"POST /session HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n" % len(body))
            reader = ResponseReader(s)
            self.assertEqual(reader.read()[0], 100)
            s.sendall(body)
            status, _, answer = reader.read()
        self.assertEqual(status, 200, answer)
        self.assertIn("id", json.loads(answer))

    def test_an_absolute_form_target_is_served_and_names_the_host(self):
        # RFC 9112 3.2.2: accepted, and its authority stands for Host (here in /worlds' URLs).
        with self.d.connect() as s:
            status, _, body = http_request(
                s, b"GET http://play.example:8080/worlds HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n")
        self.assertEqual(status, 200)
        self.assertTrue(json.loads(body)["worlds"][0]["url"].startswith("ws://play.example:8080/ws"), body)

    def test_headers_over_the_limit_get_431(self):
        with self.d.connect() as s:
            status, _, _ = get(s, "/", "X-Big: " + "a" * 9000 + "\r\n")
        self.assertEqual(status, 431)

    def test_an_offer_to_upgrade_to_another_protocol_is_ignored(self):
        # curl --http2 on a plain URL offers h2c: RFC 9110 7.8 lets us answer as HTTP/1.1, and a
        # health checker that offers it must see the daemon up (it got 404 as a bad handshake).
        h2c = ("Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
               "HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n")
        with self.d.connect() as s:
            status, h, body = get(s, "/healthz", h2c)
            self.assertEqual(status, 200, body)
            self.assertEqual(json.loads(body)["status"], "ok")
            # Still HTTP/1.1 on the same connection: the next request is answered too.
            self.assertEqual(get(s, "/", "Connection: Upgrade\r\nUpgrade: foo/2\r\n")[0], 200)
        # A handshake at the wrong path is still judged as one.
        with self.d.connect() as s:
            self.assertEqual(get(s, "/", "Connection: Upgrade\r\nUpgrade: websocket\r\n")[0], 404)

    def test_connection_upgrade_with_no_upgrade_header_is_a_plain_request(self):
        # nginx under the common `proxy_set_header Connection "upgrade"` sends this on every
        # request (it drops an empty Upgrade line): the page, the polls and the health check are
        # answered as they are (the daemon before answered each 404, "use /ws").
        upgrade = "Connection: keep-alive, Upgrade\r\n"
        with self.d.connect() as s:
            status, _, body = get(s, "/healthz", upgrade)
            self.assertEqual(status, 200, body)
            status, h, body = get(s, "/", upgrade)
            self.assertEqual(status, 200, body)
            self.assertIn("text/html", h.get("content-type", ""))
            join = json.dumps({"name": "via-nginx"})
            status, _, body = http_request(s, (f"POST /session HTTP/1.1\r\nHost: t\r\n{upgrade}"
                                               f"Content-Type: application/json\r\nContent-Length: {len(join)}\r\n"
                                               f"\r\n{join}").encode())
            self.assertEqual(status, 200, body)
            self.assertEqual(json.loads(body)["type"], "welcome")
            # The WebSocket endpoint asked without an Upgrade: told how to connect, not 400.
            status, h, _ = get(s, "/ws", upgrade)
            self.assertEqual((status, h.get("upgrade")), (426, "websocket"))

    def test_options_star_and_connect_are_answered_as_such_not_400(self):
        # RFC 9112 3.2.3-3.2.4: OPTIONS * asks about the server as a whole; CONNECT's target is an
        # authority, which a server that is no proxy does not support (the daemon before: 400).
        with self.d.connect() as s:
            status, h, body = get(s, "*", method="OPTIONS")
            self.assertEqual((status, h.get("allow"), body), (200, "GET, HEAD, POST, DELETE", b""))
            self.assertEqual(get(s, "/healthz")[0], 200)  # kept alive
        with self.d.connect() as s:
            status, h, body = get(s, "example.com:443", method="CONNECT")
            self.assertEqual(status, 501, body)
            self.assertEqual(h.get("connection"), "close")

    def test_routes_refuse_other_methods_naming_their_own(self):
        # RFC 9110 15.5.6: a 405's Allow lists what that resource takes.
        for method, path, allow in [("DELETE", "/worlds", "GET, HEAD"), ("POST", "/stats.json", "GET, HEAD"),
                                    ("PUT", "/healthz", "GET, HEAD"), ("GET", "/place", "POST"),
                                    ("GET", "/session", "POST")]:
            with self.d.connect() as s:
                status, h, _ = get(s, path, "Content-Length: 0\r\n", method=method)
            self.assertEqual((status, h.get("allow")), (405, allow), f"{method} {path}")

    def test_unknown_method_is_501_and_bytes_that_are_no_method_400(self):
        # RFC 9110 9.1: a method the server does not recognize gets 501 Not Implemented.
        for method in ("BREW", "get", "FOO-BAR"):
            with self.d.connect() as s:
                status, _, body = get(s, "/", method=method)
            self.assertEqual(status, 501, f"{method}: {body!r}")
            self.assertIn(b"not implemented", body.lower())
        # Not a method at all (a TLS ClientHello on the plain port): a bad request.
        with self.d.connect() as s:
            status, _, _ = http_request(s, b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n")
        self.assertEqual(status, 400)
        with self.d.connect() as s:
            self.assertEqual(get(s, "/healthz")[0], 200)

    def test_http2_preface_is_refused(self):
        with self.d.connect() as s:
            status, _, _ = http_request(s, b"GET / HTTP/2.0\r\nHost: t\r\n\r\n")
        self.assertIn(status, (400, 505))


    def test_http2_with_prior_knowledge_gets_505(self):
        with self.d.connect() as s:
            status, _, body = http_request(s, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        self.assertEqual(status, 505, body)

    def test_a_client_that_half_closes_after_pipelining_gets_every_answer(self):
        # 20 requests for the demo's biggest script in one write, then a half-close: more than
        # the soft limit of answers, so some wait for the client to read. Every one comes, whole,
        # then the daemon's FIN (they were cut off at the client's EOF, some mid-body). With and
        # without "Connection: close" on the last.
        for last in ("", "Connection: close\r\n"):
            with self.subTest(last=last), self.d.connect() as s:
                requests = [b"GET /js/main.js HTTP/1.1\r\nHost: t\r\n\r\n"] * 19
                requests.append(f"GET /js/main.js HTTP/1.1\r\nHost: t\r\n{last}\r\n".encode())
                s.sendall(b"".join(requests))
                s.shutdown(socket.SHUT_WR)
                reader = ResponseReader(s)
                answers = [reader.read() for _ in range(20)]
                self.assertEqual([a[0] for a in answers], [200] * 20)
                lengths = {int(a[1]["content-length"]) for a in answers}
                self.assertEqual(len(lengths), 1)
                self.assertEqual([len(a[2]) for a in answers], [lengths.pop()] * 20)
                self.assertEqual(s.recv(1), b"", "the daemon closes once everything is answered")


class WebRootFromDisk(unittest.TestCase):
    def test_web_root_serves_files_from_the_folder(self):
        import os
        import tempfile
        with tempfile.TemporaryDirectory() as root:
            with open(os.path.join(root, "index.html"), "w") as f:
                f.write("<html>from disk</html>")
            os.mkdir(os.path.join(root, "sub"))
            with open(os.path.join(root, "sub", "a.css"), "w") as f:
                f.write("body{}")
            os.symlink("/etc/passwd", os.path.join(root, "leak.txt"))
            with Daemon("--web-root", root) as d:
                with d.connect() as s:
                    self.assertEqual(get(s, "/")[2], b"<html>from disk</html>")
                    status, h, body = get(s, "/sub/a.css")
                    self.assertEqual((status, h["content-type"], body), (200, "text/css; charset=utf-8", b"body{}"))
                    self.assertEqual(get(s, "/leak.txt")[0], 404)  # a link out of the root


class Timeouts(unittest.TestCase):
    def test_incomplete_request_is_closed_after_the_request_timeout(self):
        with Daemon("--request-timeout-ms", "300") as d:
            with d.connect(timeout=5) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n")  # never finished
                status, _, _ = read_response(s)
                self.assertEqual(status, 408)
                self.assertEqual(s.recv(10), b"")

    def test_slowloris_trickle_does_not_extend_the_deadline(self):
        with Daemon("--request-timeout-ms", "500") as d:
            with d.connect(timeout=5) as s:
                s.sendall(b"GET / HTTP/1.1\r\n")
                got = b""
                cut_at = None
                for i in range(40):  # one header byte every 50 ms: bounded at 2 s
                    try:
                        s.sendall(b"X")
                        s.settimeout(0.05)
                        chunk = s.recv(4096)
                    except socket.timeout:
                        continue
                    except (BrokenPipeError, ConnectionResetError):
                        cut_at = i
                        break
                    got += chunk
                    cut_at = i
                    break
                self.assertIsNotNone(cut_at, "the trickling client was never cut off")
                self.assertTrue(got.startswith(b"HTTP/1.1 408") or got == b"", got[:40])


class Stopping(unittest.TestCase):
    def test_an_idle_keep_alive_connection_is_answered_then_closed_in_order_at_a_stop(self):
        """At SIGTERM a connection between requests is kept a moment (the last call): a request
        that comes then is answered, with "Connection: close" (a polling client's next poll, a
        few milliseconds behind its last answer, hears that the server stops). Past it, a
        connection still between requests gets our FIN, and a request on its way is read and
        dropped, not met with a reset: the client sees an orderly end (and asks again
        elsewhere). The daemon then exits as soon as the client closes."""
        d = Daemon("--shutdown-grace-ms", "8000", "--close-timeout-ms", "8000", "--state-file", "").start()
        try:
            late, idle, joiner = d.connect(), d.connect(), d.connect()
            for s in (late, idle, joiner):
                s.settimeout(10)
                status, _, _ = get(s, "/healthz")
                self.assertEqual(status, 200)
            ws = d.connect()
            ws.settimeout(10)
            frames = open_websocket(ws)
            d.proc.send_signal(signal.SIGTERM)
            # The WebSocket's 1001 says the stop has begun (an event, not a guess at a delay).
            self.assertEqual(close_code(frames.read_until(0x8)), 1001)
            began = time.monotonic()
            status, headers, _ = get(late, "/worlds")
            self.assertEqual(status, 200, "a request in the last call is answered")
            self.assertEqual(headers.get("connection"), "close", headers)
            self.assertEqual(late.recv(1), b"", "and the connection closed after it")
            # A polling session is not made during the stop: it would only be told to go at its
            # first poll (the demo said "connected" for a moment in between).
            join = json.dumps({"name": "too-late"})
            status, headers, body = http_request(joiner, (
                f"POST /session HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(join)}\r\n\r\n{join}").encode())
            self.assertEqual((status, json.loads(body)["code"]), (503, "shutting_down"), body)
            self.assertEqual((headers.get("connection"), headers.get("retry-after")), ("close", "2"), headers)
            self.assertEqual(idle.recv(1), b"")  # our FIN after the last call: nothing more will be answered
            # After the last call (1 s), not at the grace's end (8 s).
            self.assertLess(time.monotonic() - began, 4, "the idle connection was held past its last call")
            # The next request, sent into the half-closed connection: read and dropped. A
            # closed socket answers it with RST, and the send after it fails (EPIPE).
            for _ in range(2):
                idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            self.assertEqual(idle.recv(1), b"")
            self.assertTrue(d.alive(), "the daemon waits for the client's end (its close timeout)")
            for s in (late, idle, joiner, ws):
                s.close()
            self.assertEqual(d.proc.wait(timeout=5), 0)
        finally:
            d.kill()


if __name__ == "__main__":
    unittest.main()
