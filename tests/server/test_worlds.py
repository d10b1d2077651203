"""Several worlds in one daemon (game.worlds): /worlds, picking one with /ws?world= or a polling
session's "world", placement of players who pick none (filled to game.lively_players, never
over game.max_players), each world ticking on its own, tokens that find their world again
(also after a restart), and a "world" label on every world's metrics."""
import asyncio
import json
import os
import socket
import tempfile
import time
import unittest

import websockets

from daemon import Daemon
from raw_ws import http_request, read_response, upgrade_request

TIMEOUT = 5


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def get_json(d, path, method="GET", body=None, headers=None):
    """(status, JSON body); with a dict as `headers`, fills it with the answer's (lower-case names)."""
    with d.connect() as s:
        payload = json.dumps(body).encode() if body is not None else b""
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{d.port}\r\nContent-Type: application/json\r\n" \
               f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
        s.sendall(head.encode() + payload)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    if headers is not None:
        for line in head.decode("latin-1").split("\r\n")[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return int(head.split()[1]), json.loads(body) if body else None


def wait_until_true(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


class Client:
    def __init__(self, ws, hello):
        self.ws = ws
        self.hello = hello

    @classmethod
    async def connect(cls, url):
        # No cap on the receive queue: a client not read for a while (another is being read)
        # must still close at once, not after the library's close timeout.
        ws = await websockets.connect(url, max_size=None, max_queue=None)
        hello = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        assert hello["type"] == "hello", hello
        return cls(ws, hello)

    async def recv_until(self, *kinds, limit=2000):
        """Messages up to and including the first of `kinds`; ticks are skipped."""
        seen = []
        for _ in range(limit):
            msg = json.loads(await asyncio.wait_for(self.ws.recv(), TIMEOUT))
            if msg["type"] != "tick":
                seen.append(msg)
            if msg["type"] in kinds:
                return msg, seen
        raise AssertionError(f"none of {kinds} came")

    async def join(self, name, token=None):
        msg = {"type": "join", "name": name}
        if token:
            msg["token"] = token
        await self.ws.send(json.dumps(msg))
        return await self.recv_until("welcome", "error")

    async def ticks(self, seconds):
        """(tick numbers, names of players seen, ticks a second) over `seconds` of frames. The
        rate is in the server's time (the frames' `ts`): frames that waited to be read (this
        client busy elsewhere) do not make it look faster."""
        numbers, players, stamps = [], set(), []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            msg = json.loads(await asyncio.wait_for(self.ws.recv(), TIMEOUT))
            if msg["type"] == "tick":
                numbers.append(msg["tick"])
                stamps.append(msg["ts"])
                players.update(e.get("name") for e in msg["entities"] if e.get("kind") == "player" and "name" in e)
        return numbers, players, (numbers[-1] - numbers[0]) / ((stamps[-1] - stamps[0]) / 1000)


class Worlds(unittest.TestCase):
    def setUp(self):
        self.state = os.path.join(tempfile.mkdtemp(prefix="skirmish-worlds-"), "state.json")
        self.d = Daemon("--worlds", "2", "--max-players", "2", "--lively-players", "2", "--monsters", "20",
                        "--state-file", self.state).start()

    def tearDown(self):
        if self.d.alive():
            self.assertEqual(self.d.stop(), 0)

    def worlds(self):
        status, body = get_json(self.d, "/worlds")
        self.assertEqual(status, 200)
        return {w["name"]: w for w in body["worlds"]}, body["placement"]

    def test_worlds_are_listed_with_their_urls(self):
        worlds, placement = self.worlds()
        self.assertEqual(list(worlds), ["world-1", "world-2"])
        for name, w in worlds.items():
            self.assertEqual(w["players"], 0)
            self.assertEqual(w["capacity"], 2)
            self.assertEqual(w["tick_rate"], 20)
            self.assertEqual(w["path"], f"/ws?world={name}")
            self.assertEqual(w["url"], f"ws://127.0.0.1:{self.d.port}/ws?world={name}")
        self.assertEqual(placement, "world-1")

    def test_a_client_picks_its_world_and_each_world_ticks_on_its_own(self):
        async def go():
            a = await Client.connect(self.d.ws_url("/ws?world=world-1"))
            b = await Client.connect(self.d.ws_url("/ws?world=world-2"))
            self.assertEqual(a.hello["world"]["name"], "world-1")
            self.assertEqual(b.hello["world"]["name"], "world-2")
            # Independent maps: each world is generated from its own seed.
            self.assertNotEqual(a.hello["world"]["obstacles"], b.hello["world"]["obstacles"])
            welcome, _ = await b.join("bea")
            self.assertEqual(welcome["type"], "welcome")
            self.assertEqual(welcome["world"]["name"], "world-2")
            watcher = await Client.connect(self.d.ws_url("/ws?world=world-2"))
            (ticks_a, seen_a, rate_a), (ticks_b, seen_b, rate_b) = await asyncio.gather(a.ticks(2.0), watcher.ticks(2.0))
            for ticks, rate in ((ticks_a, rate_a), (ticks_b, rate_b)):
                self.assertGreater(rate, 17, ticks)
                self.assertLess(rate, 23, ticks)
            self.assertIn("bea", seen_b)       # world-2's spectator at the camp sees its player
            self.assertNotIn("bea", seen_a)    # world-1 has nobody
            for c in (a, b, watcher):
                await c.ws.close()

        run(go())
        # bea is away now, and keeps her seat in world-2 for her reconnect window.
        worlds, _ = self.worlds()
        self.assertEqual(worlds["world-1"]["players"], 0)
        self.assertEqual(worlds["world-2"]["players"], 1)
        m = self.d.metrics()
        self.assertEqual(m['skirmish_players{world="world-2"}'], 1)
        self.assertEqual(m['skirmish_players{world="world-1"}'], 0)
        self.assertGreater(m['skirmish_ticks_total{world="world-1"}'], 0)
        self.assertIn('skirmish_tick_duration_seconds_count{world="world-2"}', m)

    def test_a_full_world_sends_new_players_to_another(self):
        async def go():
            clients = [await Client.connect(self.d.ws_url()) for _ in range(3)]
            self.assertEqual({c.hello["world"]["name"] for c in clients}, {"world-1"})
            names = []
            for i, c in enumerate(clients):
                welcome, seen = await c.join(f"p{i}")
                self.assertEqual(welcome["type"], "welcome", seen)
                names.append(welcome["world"]["name"])
                if welcome["world"]["name"] == "world-2":
                    # Moved: the new world's hello came first, so the client can draw it.
                    self.assertEqual([m["type"] for m in seen], ["hello", "welcome"])
                    self.assertEqual(seen[0]["world"]["name"], "world-2")
            self.assertEqual(names, ["world-1", "world-1", "world-2"])
            # A client that picked the full world stays there, and is told it is full.
            pinned = await Client.connect(self.d.ws_url("/ws?world=world-1"))
            err, _ = await pinned.join("late")
            self.assertEqual((err["type"], err["code"]), ("error", "server_full"))
            last = await Client.connect(self.d.ws_url())
            self.assertEqual(last.hello["world"]["name"], "world-2")
            welcome, _ = await last.join("p3")
            self.assertEqual(welcome["world"]["name"], "world-2")
            # Every world full: refused, never over capacity.
            extra = await Client.connect(self.d.ws_url())
            err, _ = await extra.join("p4")
            self.assertEqual(err["code"], "server_full")
            # Over HTTP too, with when to ask again.
            for path, body in (("/place", None), ("/session", {"name": "p5"})):
                headers = {}
                status, answer = get_json(self.d, path, "POST", body, headers)
                self.assertEqual((status, answer["code"], headers.get("retry-after")), (503, "server_full", "5"), path)
            worlds, _ = self.worlds()
            self.assertEqual([w["players"] for w in worlds.values()], [2, 2])
            for c in clients + [pinned, last, extra]:
                await c.ws.close()

        run(go())

    def test_a_token_finds_its_world_again_also_after_a_restart(self):
        async def play():
            c = await Client.connect(self.d.ws_url("/ws?world=world-2"))
            welcome, _ = await c.join("wanderer")
            await c.ws.close()
            # One player (away too) in world-1 as well: placement picks the first of the two
            # equally full worlds, not the wanderer's.
            a = await Client.connect(self.d.ws_url("/ws?world=world-1"))
            await a.join("anchor")
            await a.ws.close()
            return welcome

        async def come_back(welcome):
            c = await Client.connect(self.d.ws_url())  # placed: world-1
            self.assertEqual(c.hello["world"]["name"], "world-1")
            back, seen = await c.join("wanderer", welcome["token"])
            self.assertEqual([m["type"] for m in seen], ["hello", "welcome"])
            self.assertEqual(seen[0]["world"]["name"], "world-2")
            self.assertTrue(back["resumed"])
            self.assertEqual(back["world"]["name"], "world-2")
            await c.ws.close()
            return back

        welcome = run(play())
        self.assertEqual(run(come_back(welcome))["id"], welcome["id"])
        # Saved with its world's name, restored into that world.
        self.assertEqual(self.d.stop(), 0)
        with open(self.state) as f:
            saved = json.load(f)
        self.assertEqual({p["name"]: p["world"] for p in saved["players"]}, {"wanderer": "world-2", "anchor": "world-1"})
        self.d = Daemon("--worlds", "2", "--max-players", "2", "--lively-players", "2", "--monsters", "20",
                        "--state-file", self.state, cwd=self.d.cwd).start()
        worlds, _ = self.worlds()
        self.assertEqual(worlds["world-2"]["players"], 1)
        self.assertTrue(run(come_back(welcome))["resumed"])

    def test_a_hand_written_state_file_is_restored_once_per_token_and_said_as_it_went(self):
        # One token in two worlds (a hand-edited or merged file): the first only, or the
        # second would sit away in its world, unreachable, holding a seat. Two players of a
        # world this run does not have: one fits beside world-1's, the other finds every
        # world full (2 each) and is lost, and the log says which.
        self.assertEqual(self.d.stop(), 0)
        def player(token, name, world):
            return {"token": token, "id": 1, "name": name, "x": 1600, "y": 1600, "hp": 100, "score": 0,
                    "world": world}
        with open(self.state, "w") as f:
            json.dump({"version": 1, "saved_at_ms": int(time.time() * 1000), "players": [
                player("a" * 32, "twice-1", "world-1"), player("a" * 32, "twice-2", "world-2"),
                player("b" * 32, "two", "world-2"), player("c" * 32, "two-too", "world-2"),
                player("d" * 32, "three", "world-3"), player("e" * 32, "three-too", "world-3")]}, f)
        self.d = Daemon("--worlds", "2", "--max-players", "2", "--lively-players", "2", "--monsters", "20",
                        "--state-file", self.state, cwd=self.d.cwd).start()
        worlds, _ = self.worlds()
        self.assertEqual((worlds["world-1"]["players"], worlds["world-2"]["players"]), (2, 2))
        said = "".join(line for line in self.d.lines if "saved" in line or "restored" in line)
        self.assertIn("restored 4 player(s)", said)
        self.assertIn("(1 of them from worlds this run does not have, placed in others)", said)
        self.assertIn("1 saved player(s) with a token named earlier in the file were left out", said)
        self.assertIn("1 saved player(s) did not fit (game.max_players) and are lost", said)

        async def names_in(world):
            c = await Client.connect(self.d.ws_url(f"/ws?world={world}"))
            names = set()
            for _ in range(20):
                msg = json.loads(await asyncio.wait_for(c.ws.recv(), 5))
                if msg.get("type") == "tick":
                    names.update(e["name"] for e in msg["entities"] if e.get("kind") == "player")
            await c.ws.close()
            return names

        self.assertEqual(run(names_in("world-1")), {"twice-1", "three"})
        self.assertEqual(run(names_in("world-2")), {"two", "two-too"})

    def test_unknown_worlds_are_refused(self):
        with self.d.connect() as s:
            status, _, body = http_request(s, upgrade_request("/ws?world=nowhere"))
        self.assertEqual(status, 404)
        self.assertIn(b"no world named", body)
        status, body = get_json(self.d, "/session", "POST", {"type": "watch", "world": "nowhere"})
        self.assertEqual((status, body["code"]), (404, "no_such_world"))
        status, body = get_json(self.d, "/stats.json?world=nowhere")
        self.assertEqual(status, 404)

    def test_a_world_name_that_does_not_decode_is_refused_not_ignored(self):
        # Read as absent, "%zz" placed the client in some world, or answered world-1's stats.
        with self.d.connect() as s:
            status, _, body = http_request(s, upgrade_request("/ws?world=%zz"))
        self.assertEqual(status, 400, body)
        self.assertIn(b"percent-encoded", body)
        status, body = get_json(self.d, "/stats.json?world=world-%2")
        self.assertEqual((status, body["code"]), (400, "bad_field"))
        self.assertEqual(get_json(self.d, "/stats.json?world=world-%31")[0], 200)  # "world-1", encoded
        # An empty name is no pick, here as at the handshake (it was a 404 here).
        status, body = get_json(self.d, "/stats.json?world=")
        self.assertEqual((status, body.get("world")), (200, "world-1"))

    def test_a_point_to_watch_that_is_not_a_number_is_refused_not_read_as_the_centre(self):
        for query in ("x=abc&y=10", "x=10&y=0x10", "x=inf&y=1", "x=%zz&y=1", "x=&y=1", "x=1e39&y=1"):
            with self.d.connect() as s:
                status, _, body = http_request(s, upgrade_request(f"/ws?{query}"))
            self.assertEqual(status, 400, query)
            self.assertIn(b"must be a number", body)
        with self.d.connect() as s:
            self.assertEqual(http_request(s, upgrade_request("/ws?x=12.5&y=-3"))[0], 101)

    def test_a_host_header_that_is_not_a_name_is_not_echoed(self):
        def worlds_with_host(host):
            with self.d.connect() as s:
                s.sendall(b"GET /worlds HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n")
                data = b""
                while chunk := s.recv(65536):
                    data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            return int(head.split()[1]), body

        # Made of what a host is made of, but no name we would put in a URL: the local address.
        for host in (b"x" * 300, b"[::1", b"x:abc", b"x:99999"):
            status, body = worlds_with_host(host)
            self.assertEqual(status, 200, host)
            url = json.loads(body)["worlds"][0]["url"]
            self.assertEqual(url, f"ws://localhost:{self.d.port}/ws?world=world-1")
        # Characters no host has: the request is refused (RFC 9112 3.2: 400).
        for host in (b"\xff\xfe", b"a\"b", b"a b/c@d"):
            self.assertEqual(worlds_with_host(host)[0], 400, host)
        self.assertTrue(self.d.alive())

    def test_a_polling_session_moved_to_another_world_gets_nothing_of_the_old_one(self):
        status, body = get_json(self.d, "/session", "POST", {"type": "watch"})
        self.assertEqual(status, 200)
        session = body["session"]
        self.assertEqual(body["hello"]["world"]["name"], "world-1")

        async def fill_world_1():
            clients = [await Client.connect(self.d.ws_url("/ws?world=world-1")) for _ in range(2)]
            for i, c in enumerate(clients):
                welcome, _ = await c.join(f"filler{i}")
                self.assertEqual(welcome["world"]["name"], "world-1")
            return clients

        async def go():
            clients = await fill_world_1()
            # The session's backlog now fills with world-1 frames (fillers at the camp) nobody fetches.
            start = self.d.metrics()['skirmish_ticks_total{world="world-1"}']
            await asyncio.get_running_loop().run_in_executor(
                None, lambda: wait_until_true(lambda: self.d.metrics()['skirmish_ticks_total{world="world-1"}'] >= start + 5))
            status, replies = get_json(self.d, f"/session/{session}/input", "POST", {"type": "join", "name": "mover"})
            self.assertEqual(status, 200, replies)
            self.assertEqual([m["type"] for m in replies], ["hello", "welcome"])
            self.assertEqual(replies[0]["world"]["name"], "world-2")
            status, ticks = get_json(self.d, f"/session/{session}/longpoll?timeout=5")
            self.assertEqual(status, 200)
            names = {e.get("name") for t in ticks if t["type"] == "tick" for e in t["entities"]}
            self.assertTrue(ticks and "mover" in names, ticks)
            self.assertFalse({"filler0", "filler1"} & names, "a world-1 frame followed world-2's hello")
            for c in clients:
                await c.ws.close()

        run(go())

    def test_polling_sessions_pick_a_world_too(self):
        status, body = get_json(self.d, "/session", "POST", {"type": "join", "name": "poller", "world": "world-2"})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["world"]["name"], "world-2")
        self.assertEqual(body["hello"]["world"]["name"], "world-2")
        status, stats = get_json(self.d, "/stats.json?world=world-2")
        self.assertEqual((status, stats["world"], stats["worlds"]), (200, "world-2", ["world-1", "world-2"]))


if __name__ == "__main__":
    unittest.main()
