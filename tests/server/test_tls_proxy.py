"""wss:// through a real nginx (deploy/nginx/skirmish.conf, with a throwaway self-signed
certificate) in front of the real daemon: the page, /worlds handing out wss:// URLs, playing
over wss:// in both protocols, long polling over https, and server.trusted_proxies: only from
a trusted proxy does X-Forwarded-For name the client (per-IP limits, logs); from anyone else,
or without the setting, the header is ignored."""
import asyncio
import concurrent.futures
import http.client
import json
import socket
import ssl
import unittest

import websockets

from daemon import Daemon
from nginx_front import PROXY_ADDRESS, NginxFront

TIMEOUT = 5
PER_IP = 3


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def https_get(front, context, path, method="GET", body=None, source="127.0.0.1"):
    conn = http.client.HTTPSConnection("127.0.0.1", front.port, context=context, timeout=TIMEOUT,
                                       source_address=(source, 0))
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def direct_handshake_status(port, extra=""):
    """Status of a WebSocket handshake sent straight to the daemon from 127.0.0.1."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
        s.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n").encode())
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return int(data.split()[1])


class Front:
    """A daemon and an nginx in front of it."""

    def __init__(self, *args):
        self.d = Daemon("--max-connections-per-ip", str(PER_IP), "--monsters", "20", *args).start()
        self.front = NginxFront(self.d.port).start()
        self.context = ssl.create_default_context(cafile=self.front.cert)

    def wss(self, path="/ws", **kw):
        return websockets.connect(f"wss://127.0.0.1:{self.front.port}{path}", ssl=self.context,
                                  max_size=None, max_queue=None, open_timeout=TIMEOUT, **kw)

    def stop(self):
        """Stops both; the daemon's exit code (0: a clean stop)."""
        self.front.stop()
        return self.d.stop()


class TlsProxy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.f = Front("--trusted-proxies", f"{PROXY_ADDRESS},::1")

    @classmethod
    def tearDownClass(cls):
        assert cls.f.stop() == 0

    def test_the_page_and_worlds_over_https(self):
        status, body = https_get(self.f.front, self.f.context, "/")
        self.assertEqual(status, 200)
        self.assertIn(b"<title>", body)
        status, body = https_get(self.f.front, self.f.context, "/worlds")
        self.assertEqual(status, 200)
        url = json.loads(body)["worlds"][0]["url"]
        # The trusted proxy said https: the URL a browser is given is wss:// on the proxy.
        self.assertEqual(url, f"wss://127.0.0.1:{self.f.front.port}/ws?world=world-1")

    def test_metrics_only_for_this_machine(self):
        status, body = https_get(self.f.front, self.f.context, "/metrics")
        self.assertEqual(status, 200)
        self.assertIn(b"skirmish_connections", body)
        # From another address (127.0.0.3 stands in for the internet): refused by nginx.
        for path in ("/metrics", "/metrics/%2e", "/metrics/.", "/x/../metrics", "/%6detrics", "//metrics"):
            self.assertEqual(https_get(self.f.front, self.f.context, path, source="127.0.0.3")[0], 403, path)
        self.assertEqual(https_get(self.f.front, self.f.context, "/healthz", source="127.0.0.3")[0], 200)

    def test_a_player_plays_over_wss_in_both_protocols(self):
        async def go():
            async with self.f.wss() as ws:
                hello = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
                self.assertEqual(hello["type"], "hello")
                await ws.send(json.dumps({"type": "join", "name": "tls"}))
                me, xs = None, []
                while len(xs) < 25:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
                    if msg["type"] == "welcome":
                        me = msg["id"]
                        await ws.send(json.dumps({"type": "input", "move": [1, 0]}))
                    elif msg["type"] == "tick" and me is not None:
                        xs += [e["x"] for e in msg["entities"] if e["id"] == me and "x" in e]
                self.assertGreater(xs[-1] - xs[0], 20)  # it walked right, server-side, over TLS
            async with self.f.wss(subprotocols=["skirmish.v2"]) as ws:
                self.assertEqual(ws.subprotocol, "skirmish.v2")
                json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))  # hello
                frame = await asyncio.wait_for(ws.recv(), TIMEOUT)
                self.assertIsInstance(frame, bytes)  # a binary tick came through the proxy

        run(go())

    def test_long_polling_over_https(self):
        status, body = https_get(self.f.front, self.f.context, "/session", "POST", {"name": "poller"})
        self.assertEqual(status, 200, body)
        session = json.loads(body)["session"]
        status, body = https_get(self.f.front, self.f.context, f"/session/{session}/longpoll?timeout=5")
        self.assertEqual(status, 200)
        ticks = [m for m in json.loads(body) if m["type"] == "tick"]
        self.assertGreater(len(ticks), 0)
        self.assertEqual(https_get(self.f.front, self.f.context, f"/session/{session}", "DELETE")[0], 204)

    def test_the_client_address_comes_from_the_trusted_proxy_only(self):
        async def go():
            held = [await self.f.wss().__aenter__() for _ in range(PER_IP)]
            for ws in held:
                await asyncio.wait_for(ws.recv(), TIMEOUT)
            # All three count under 127.0.0.1, the address nginx saw, whatever the client
            # wrote in its own X-Forwarded-For.
            with self.assertRaises(websockets.exceptions.InvalidStatusCode) as refused:
                async with self.f.wss(extra_headers={"X-Forwarded-For": "203.0.113.7"}):
                    pass
            self.assertEqual(refused.exception.status_code, 503)
            # The page's files still load, many at once (as a browser behind HTTP/2 asks them,
            # nginx opening a connection upstream for each): only connections that stay count.
            with concurrent.futures.ThreadPoolExecutor(12) as pool:
                paths = ["/", "/js/main.js", "/js/net.js", "/style.css", "/worlds", "/healthz"] * 2
                statuses = list(pool.map(lambda p: https_get(self.f.front, self.f.context, p)[0], paths))
            self.assertEqual(statuses, [200] * len(paths))
            # Straight from 127.0.0.1 (not a trusted proxy): same address, same limit; its
            # own X-Forwarded-For changes nothing.
            self.assertEqual(direct_handshake_status(self.f.d.port, "X-Forwarded-For: 198.51.100.1\r\n"), 503)
            await held[0].close()
            await wait_until_async(lambda: direct_handshake_status(self.f.d.port) == 101)
            for ws in held[1:]:
                await ws.close()

        run(go())
        self.assertTrue(any(f"127.0.0.1 via {PROXY_ADDRESS}:" in line for line in self.f.d.lines),
                        "the daemon's log names the client behind the proxy")
        self.assertGreaterEqual(self.f.d.metrics()['skirmish_connections_rejected_total{reason="over_max_per_ip"}'], 2)

    def test_without_trusted_proxies_the_header_is_ignored(self):
        other = Front()
        try:
            async def go():
                # Every client through nginx is nginx's address to this daemon...
                held = [await other.wss().__aenter__() for _ in range(PER_IP)]
                for ws in held:
                    await asyncio.wait_for(ws.recv(), TIMEOUT)
                # ... so 127.0.0.1 itself still has room,
                self.assertEqual(direct_handshake_status(other.d.port), 101)
                # and a fourth through the proxy is refused, X-Forwarded-For or not.
                with self.assertRaises(websockets.exceptions.InvalidStatusCode):
                    async with other.wss(extra_headers={"X-Forwarded-For": "203.0.113.8"}):
                        pass
                for ws in held:
                    await ws.close()

            run(go())
            status, body = https_get(other.front, other.context, "/worlds")
            self.assertTrue(json.loads(body)["worlds"][0]["url"].startswith("ws://"))  # X-Forwarded-Proto ignored
        finally:
            self.assertEqual(other.stop(), 0)


async def wait_until_async(predicate, timeout=10.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await loop.run_in_executor(None, predicate):
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


if __name__ == "__main__":
    unittest.main()
