"""A fleet on Redis with real parts only: a real redis-server (Debian's) on a free loopback port,
started, killed (SIGKILL) and restarted by the test, and three real skirmishd processes
(`--worlds 2` each, `--redis-url`, `--public-url http://127.0.0.1:PORT`). It checks the fleet
view (every process's /worlds lists all six worlds within 2 s of the last start, each pointing
at the process that runs it), seat limits under a burst of 500 concurrent placements (no world
is ever granted more seats than it holds, every granted seat gets its welcome, and a player
who comes without a seat does not take one another process reserved), a `kill -9`
of one process (its worlds leave the others' /worlds within 5 s; its players resume, with their
tokens and names, in another process), Redis killed and restarted mid-game (every player keeps
getting frames; /healthz says "down", then "up" within about a heartbeat of Redis's return, as a
process retries every heartbeat; the fleet view and the players' records come back), and a
daemon whose Redis is down from the start (it still serves the demo and a game, places locally,
and joins the fleet by itself once Redis answers)."""
import asyncio
import http.client
import json
import re
import socket
import threading
import time
import unittest
from urllib.parse import parse_qs, quote, urlsplit

import websockets

from daemon import Daemon, built_with
from redis_server import RedisServer, free_port

TIMEOUT = 5
PROCESSES = 3
WORLDS = 2  # per process: world-1, world-2 (the same names in every process)
CAPACITY = 30  # --max-players: players one world holds
BURST = 500
HEARTBEAT = 1.0  # fleet.heartbeat_ms, the default, in seconds
# Redis back: a process retries every heartbeat, so it is up again within one (and a bit).
BACK_WITHIN = 2.5 * HEARTBEAT


def run(coro, timeout=60):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def http_json(port, path, method="GET", timeout=TIMEOUT):
    """(status, parsed JSON body or None) of one request to the daemon on port."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=b"" if method == "POST" else None)
        r = conn.getresponse()
        body = r.read()
        return r.status, json.loads(body) if body else None
    finally:
        conn.close()


def http_text(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read().decode(errors="replace")
    finally:
        conn.close()


def poll_until(check, timeout, what, step=0.05):
    """Asks check() (which returns (done, value)) until done, at most timeout seconds; returns
    (value, seconds it took). From outside, the fleet's state has no event to await: this is a
    bounded poll of an HTTP endpoint with short pauses."""
    start = time.monotonic()
    deadline = start + timeout
    while True:
        done, value = check()
        if done:
            return value, time.monotonic() - start
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s; last seen: {value!r}")
        time.sleep(step)


def worlds_of(d):
    status, body = http_json(d.port, "/worlds")
    assert status == 200, (status, body)
    return body


def fleet_health(d):
    status, body = http_json(d.port, "/healthz")
    assert status == 200, (status, body)  # 200 also while Redis is down
    return body["fleet"]


def error_code(body):
    """The code of an error answer: {"type":"error","code":...} as every other HTTP error of the
    daemon (POST /session), or {"error":{"code":...}}."""
    if isinstance(body.get("error"), dict):
        return body["error"].get("code")
    return body.get("code") if body.get("type") == "error" else None


def redis_is(daemons, state, processes=None):
    """A check for poll_until: every process's /healthz says fleet.redis is state."""
    def check():
        seen = [fleet_health(d) for d in daemons]
        return all(h["redis"] == state and processes in (None, h["processes"]) for h in seen), seen
    return check


def world_key(w):
    return w["process"], w["name"]


async def recv_json(ws, timeout=TIMEOUT):
    raw = await asyncio.wait_for(ws.recv(), timeout)
    assert isinstance(raw, str), raw
    return json.loads(raw)


async def recv_until(ws, *kinds, limit=2000):
    """The first message of one of kinds; ticks and anything else before it are skipped."""
    for _ in range(limit):
        msg = await recv_json(ws)
        if msg["type"] in kinds:
            return msg
    raise AssertionError(f"none of {kinds} came")


async def connect(url):
    ws = await websockets.connect(url, max_size=None, max_queue=None, open_timeout=TIMEOUT)
    hello = await recv_json(ws)
    assert hello["type"] == "hello", hello
    return ws, hello


async def join(url, name, token=None):
    """Connects to url and joins; (ws, hello, the answer to join: welcome or error)."""
    ws, hello = await connect(url)
    msg = {"type": "join", "name": name}
    if token:
        msg["token"] = token
    await ws.send(json.dumps(msg))
    return ws, hello, await recv_until(ws, "welcome", "error")


async def own_record(ws, player, timeout=3.0):
    """The full record of our own player in the tick frames (sent when it enters our view)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = await recv_json(ws)
        if msg["type"] == "tick":
            for e in msg["entities"]:
                if e["id"] == player and "name" in e:
                    return e
    raise AssertionError(f"no full record of player {player} within {timeout} s")


async def place_burst(ports, n):
    """n POST /place at once, spread round-robin over ports: every connection is opened first,
    then all n requests are written together. [(port, status, body)]."""
    connected = 0
    all_connected = asyncio.Event()
    go = asyncio.Event()

    async def one(i):
        nonlocal connected
        port = ports[i % len(ports)]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        connected += 1
        if connected == n:
            all_connected.set()
        await go.wait()
        writer.write(f"POST /place HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n"
                     f"Connection: close\r\n\r\n".encode())
        await writer.drain()
        data = await reader.read()  # the answer, then the daemon closes (Connection: close)
        writer.close()
        head, _, body = data.partition(b"\r\n\r\n")
        try:
            return port, int(head.split()[1]), json.loads(body)
        except (ValueError, IndexError):
            return port, int(head.split()[1]) if len(head.split()) > 1 else 0, {"unparsed": data.decode(errors="replace")}

    tasks = [asyncio.create_task(one(i)) for i in range(n)]
    await asyncio.wait_for(all_connected.wait(), 20)
    go.set()
    return await asyncio.wait_for(asyncio.gather(*tasks), 30)


class Watcher:
    """Reads one connection in the background: when each tick frame came, pongs, and whether
    (and how) the connection closed."""

    def __init__(self, ws, label):
        self.ws = ws
        self.label = label
        self.frames = []
        self.pongs = []
        self.closed = None
        self.task = asyncio.create_task(self._run())

    async def _run(self):
        try:
            async for raw in self.ws:
                msg = json.loads(raw)
                if msg["type"] == "tick":
                    self.frames.append(time.monotonic())
                elif msg["type"] == "pong":
                    self.pongs.append(msg["t"])
            self.closed = f"closed: {self.ws.close_code} {self.ws.close_reason!r}"
        except websockets.ConnectionClosed as e:
            self.closed = f"closed: {e!r}"

    def frames_between(self, t0, t1):
        return [t for t in self.frames if t0 <= t <= t1]

    def largest_gap(self):
        return max((b - a for a, b in zip(self.frames, self.frames[1:])), default=float("inf"))

    async def stop(self):
        assert self.closed is None, f"{self.label}: {self.closed}"
        await self.ws.close()
        await asyncio.wait_for(self.task, TIMEOUT)


def stale_copies_dropped(d):
    m = re.search(r"^skirmish_fleet_stale_copies_dropped_total (\S+)$", http_text(d.port, "/metrics")[1], re.M)
    return float(m.group(1))


async def walk_right(ws, player, from_x):
    """Walks `player` right for 1.2 s and stops; where the walk ended, as the frames say once the
    player has stood still for 0.4 s."""
    for seq in range(1, 25):
        await ws.send(json.dumps({"type": "input", "seq": seq, "move": [1, 0], "attack": False}))
        await asyncio.sleep(0.05)
    await ws.send(json.dumps({"type": "input", "seq": 25, "move": [0, 0], "attack": False}))
    final_x, still_since = from_x, time.monotonic()
    while time.monotonic() - still_since < 0.4:
        msg = await recv_json(ws)
        for e in msg.get("entities", []) if msg["type"] == "tick" else []:
            if e["id"] == player and "x" in e and e["x"] != final_x:
                final_x, still_since = e["x"], time.monotonic()
    return final_x


async def wait_async(predicate, timeout, what, step=0.05):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        await asyncio.sleep(step)


class Fleet(unittest.TestCase):
    def setUp(self):
        self.redis = RedisServer().start()
        self.addCleanup(self.redis.stop)
        self.daemons = []

    def tearDown(self):
        # Every process still running stops cleanly (exit 0), whatever state Redis is in.
        for d in self.daemons:
            if d.alive():
                self.assertEqual(d.stop(), 0, "".join(d.lines[-40:]))

    def start_daemon(self, *args, redis_url=None, worlds=WORLDS, monsters=20):
        port = free_port()
        d = Daemon("--worlds", str(worlds), "--monsters", str(monsters), "--state-file", "",
                   "--redis-url", redis_url or self.redis.url, "--public-url", f"http://127.0.0.1:{port}",
                   *args, port=port)
        self.addCleanup(d.kill)
        d.start()
        self.daemons.append(d)
        return d

    def start_fleet(self, *args):
        return [self.start_daemon(*args) for _ in range(PROCESSES)]

    def process_ids(self, daemons):
        """{process id: port}, from each process's own (local) worlds."""
        ids = {}
        for d in daemons:
            local = {w["process"] for w in worlds_of(d)["worlds"] if w["local"]}
            self.assertEqual(len(local), 1, local)
            ids[local.pop()] = d.port
        self.assertEqual(len(ids), len(daemons), "every process has an id of its own")
        return ids

    def player_record(self, token):
        """The player's record in Redis (None when there is none)."""
        raw = self.redis.command("GET", f"skirmish:player:{token}")
        return json.loads(raw) if raw else None

    async def await_record(self, token, process, what, also=lambda r: True, timeout=3.0):
        """The player's record once `process` wrote it (and `also` holds of it)."""
        r, _ = await asyncio.to_thread(
            poll_until, lambda: ((r := self.player_record(token)) is not None and r["process"] == process and also(r), r),
            timeout, what)
        return r

    async def walk_elsewhere(self, d, process, name, token, from_x):
        """Resumes `token` on d, walks it 150+ units right and closes: d's record as the
        connection closed (any refresh before would be short of it)."""
        ws, _, back = await join(d.ws_url("/ws"), name, token)
        self.assertIs(back["resumed"], True, back)
        final_x = await walk_right(ws, back["id"], from_x)
        self.assertGreater(final_x, from_x + 150, "the walk went 150+ units right")
        await ws.close()
        return await self.await_record(token, process, "the record at the walk's end",
                                       also=lambda r: abs(r["x"] - final_x) < 0.5)

    async def resume_as_recorded(self, d, name, token, record):
        """Resumes `token` on d and checks that the player is where `record` says (not where a
        stale copy on d was); the connection."""
        ws, _, again = await join(d.ws_url("/ws"), name, token)
        self.assertEqual(again["type"], "welcome", again)
        self.assertIs(again["resumed"], True, again)
        mine = await own_record(ws, again["id"])
        self.assertAlmostEqual(mine["x"], record["x"], delta=1.0, msg=f"a stale copy was resumed: {mine} vs {record}")
        return ws

    def wait_for_full_view(self, daemons, timeout, worlds=WORLDS):
        expected = len(daemons) * worlds

        def check():
            views = [worlds_of(d) for d in daemons]
            return all(len(v["worlds"]) == expected for v in views), views
        return poll_until(check, timeout, f"every process listing all {expected} worlds")

    # a. The fleet view.
    def test_every_process_lists_the_whole_fleet(self):
        daemons = self.start_fleet()
        views, _ = self.wait_for_full_view(daemons, 2.0)  # counted from the last start
        ports = self.process_ids(daemons)
        for d, view in zip(daemons, views):
            self.assertEqual(view["fleet"]["redis"], "up", view)
            self.assertEqual(view["fleet"]["processes"], PROCESSES, view)
            keys = [world_key(w) for w in view["worlds"]]
            self.assertEqual(len(set(keys)), PROCESSES * WORLDS, "each (process, world) once")
            self.assertEqual(set(keys), {(p, f"world-{i}") for p in ports for i in range(1, WORLDS + 1)})
            for w in view["worlds"]:
                port = ports[w["process"]]
                # Each world's URL points at the process that runs it, as its --public-url says.
                self.assertEqual(w["url"], f"ws://127.0.0.1:{port}/ws?world={w['name']}", w)
                self.assertEqual(w["local"], port == d.port, w)
                self.assertEqual((w["players"], w["capacity"], w["tick_rate"]), (0, 10000, 20), w)
                self.assertEqual(w.get("path"), f"/ws?world={w['name']}", w)
            health = fleet_health(d)
            self.assertEqual((health["redis"], health["processes"], health["worlds"]),
                             ("up", PROCESSES, PROCESSES * WORLDS), health)
            m = d.metrics()
            self.assertEqual(m["skirmish_fleet_redis_up"], 1)
            self.assertEqual(m["skirmish_fleet_processes"], PROCESSES)
            self.assertEqual(m["skirmish_fleet_worlds"], PROCESSES * WORLDS)
        # What the real Redis holds: the directory the processes read.
        members = {m.decode() for m in self.redis.command("SMEMBERS", "skirmish:processes")}
        self.assertEqual(members, set(ports))
        for pid, port in ports.items():
            entry = json.loads(self.redis.command("GET", f"skirmish:process:{pid}"))
            self.assertEqual(entry["id"], pid)
            self.assertIn(f"127.0.0.1:{port}", entry.get("url", ""), entry)
            self.assertEqual(sorted(w["name"] for w in entry["worlds"]), ["world-1", "world-2"])
            ttl = self.redis.command("PTTL", f"skirmish:process:{pid}")
            self.assertTrue(0 < ttl <= 3 * 1000, ttl)  # 3 heartbeats of the default 1000 ms
        # A browser sent to a remote world's URL reaches it.
        remote = next(w for w in views[0]["worlds"] if not w["local"])

        async def visit():
            ws, hello = await connect(remote["url"])
            self.assertEqual(hello["world"]["name"], remote["name"])
            await ws.close()
        run(visit())

    # b. Seat limits under a burst.
    def test_a_burst_of_placements_never_overfills_a_world(self):
        daemons = self.start_fleet("--max-players", str(CAPACITY), "--lively-players", str(CAPACITY),
                                   "--seat-hold-ms", "30000")
        self.wait_for_full_view(daemons, 2.0)
        ports = self.process_ids(daemons)
        total = PROCESSES * WORLDS * CAPACITY

        results = run(place_burst([d.port for d in daemons], BURST))
        granted = [(port, body) for port, status, body in results if status == 200]
        refused = [(port, status, body) for port, status, body in results if status != 200]
        for port, status, body in refused:
            self.assertEqual(status, 503, body)
            self.assertEqual(error_code(body), "server_full", body)
        per_world = {}
        for port, g in granted:
            self.assertIn("seat", g, g)
            self.assertEqual(g["local"], ports[g["process"]] == port, g)
            url = urlsplit(g["url"])
            q = parse_qs(url.query)
            self.assertEqual((url.scheme, url.netloc, url.path), ("ws", f"127.0.0.1:{ports[g['process']]}", "/ws"), g)
            self.assertEqual((q["world"], q["seat"]), ([g["world"]], [str(g["seat"])]), g)
            where = (g["process"], g["world"])
            per_world[where] = per_world.get(where, 0) + 1
        self.assertEqual(len({str(g["seat"]) for _, g in granted}), len(granted), "every seat is its own")
        self.assertLessEqual(max(per_world.values()), CAPACITY, per_world)
        # 503 only when no world in the fleet had room: every seat was given, none twice.
        self.assertEqual(len(granted), total, per_world)
        self.assertEqual(len(refused), BURST - total)

        # Every granted seat is honoured: its player connects where it was sent and is welcomed.
        async def take_seats():
            answers = await asyncio.gather(*(join(g["url"], f"p{i}") for i, (_, g) in enumerate(granted)))
            try:
                for (_, g), (ws, hello, answer) in zip(granted, answers):
                    self.assertEqual(answer["type"], "welcome", (g, answer))
                    self.assertEqual(answer["world"]["name"], g["world"], (g, answer))
                # Fresh for its own worlds, as of the last heartbeat for the others'.
                counted, _ = await asyncio.to_thread(
                    poll_until, lambda: self._fleet_players(daemons, total), 4.0, "every process counting every player")
                for d, view in zip(daemons, counted):
                    for w in view["worlds"]:
                        self.assertLessEqual(w["players"], w["capacity"], w)
                        self.assertEqual(w["capacity"], CAPACITY, w)
                        if w["local"]:
                            self.assertEqual(w["players"], per_world.get(world_key(w), 0), w)
                # The fleet is full: a placement anywhere is refused.
                for d in daemons:
                    status, body = await asyncio.to_thread(http_json, d.port, "/place", "POST")
                    self.assertEqual((status, error_code(body)), (503, "server_full"), body)
            finally:
                await asyncio.gather(*(ws.close() for ws, _, _ in answers))
        run(take_seats())
        # Each process counts the seats it reserved: one per placement it granted. (Which
        # process grants how many is a race: a slow one may find every place gone.)
        for d in daemons:
            mine = sum(1 for port, _ in granted if port == d.port)
            self.assertEqual(d.metrics().get('skirmish_seat_reservations_total{result="taken"}', 0), mine)

    # b'v. A placement asked by a client that half-closes at once (it has said all it will say)
    # is still answered: only a long poll's client that goes away is a client gone. (The
    # answer waits for Redis; the client's EOF came first and dropped it.)
    def test_a_placement_asked_with_a_half_close_is_answered(self):
        d = self.start_daemon(worlds=1)
        self.wait_for_full_view([d], 2.0, worlds=1)
        poll_until(redis_is([d], "up"), 3.0, "Redis up")

        def place_and_half_close():
            with socket.create_connection(("127.0.0.1", d.port), timeout=TIMEOUT) as s:
                s.sendall(b"POST /place HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
                s.shutdown(socket.SHUT_WR)
                data = b""
                while chunk := s.recv(65536):
                    data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            self.assertTrue(head.startswith(b"HTTP/1.1 200"), data[:200])
            return json.loads(body)

        # Every answer comes; at least one through Redis (with a seat), the deferred way. (A
        # first placement may be answered locally while the fleet's view settles.)
        answers = [place_and_half_close() for _ in range(3)]
        self.assertTrue(any("seat" in a for a in answers), answers)

    # b''. A new player's join takes its place in Redis, counted as /place's seats are.
    def test_a_join_counts_the_place_it_took_or_the_world_full(self):
        d = self.start_daemon("--max-players", "1", worlds=1)
        self.wait_for_full_view([d], 2.0, worlds=1)

        async def go():
            first, _, welcome = await join(d.ws_url("/ws"), "first")
            second, _, refused = await join(d.ws_url("/ws"), "second")
            self.assertEqual(welcome["type"], "welcome", welcome)
            self.assertEqual((refused["type"], refused.get("code")), ("error", "server_full"), refused)
            await first.close()
            await second.close()
        run(go())
        m = d.metrics()
        self.assertEqual(m.get('skirmish_seat_reservations_total{result="taken"}', 0), 1)
        self.assertEqual(m.get('skirmish_seat_reservations_total{result="full"}', 0), 1)

    # b'''. A connection placed in a world that has since reached its lively size is placed afresh
    # when it joins, and its seat is claimed in the world it moved to. (The join once went on
    # with the viewer it had before the move, freed by it: the ASan + UBSan build stops there.)
    def test_a_join_placed_afresh_claims_its_seat_in_the_world_it_moved_to(self):
        d = self.start_daemon("--lively-players", "1")
        self.wait_for_full_view([d], 2.0)

        async def go():
            waiting, hello = await connect(d.ws_url("/ws"))
            first, _, welcome = await join(d.ws_url("/ws"), "first")
            self.assertEqual(welcome["type"], "welcome", welcome)
            self.assertEqual(welcome["world"]["name"], hello["world"]["name"], "both placed in the first world")
            await waiting.send(json.dumps({"type": "join", "name": "second"}))
            moved = await recv_until(waiting, "welcome", "error")
            self.assertEqual(moved["type"], "welcome", moved)
            self.assertNotEqual(moved["world"]["name"], welcome["world"]["name"],
                                "the lively world's next player goes to the other")
            await waiting.close()
            await first.close()
        run(go())
        self.assertEqual(d.metrics().get('skirmish_seat_reservations_total{result="taken"}', 0), 2)
        self.assertEqual(http_json(d.port, "/healthz")[0], 200)

    # b'. A seat reserved from another process is not given to a player who comes without one.
    def test_a_join_without_a_seat_does_not_take_a_seat_reserved_elsewhere(self):
        daemons = [self.start_daemon("--max-players", "2", worlds=1) for _ in range(2)]
        self.wait_for_full_view(daemons, 2.0, worlds=1)
        ports = self.process_ids(daemons)
        a, b = daemons
        # b places until the fleet is full: two seats in its own world, two in a's.
        grants = []
        for _ in range(5):
            status, body = http_json(b.port, "/place", "POST")
            if status != 200:
                self.assertEqual((status, error_code(body)), (503, "server_full"), body)
                break
            grants.append(body)
        self.assertEqual(sorted(ports[g["process"]] for g in grants), sorted([a.port, a.port, b.port, b.port]), grants)

        async def go():
            # Straight to a's world right after b reserved all of it, with no seat or one that
            # was never reserved: a must say full (else a holder of a real seat is refused, or
            # the world overfills).
            intruders, answers = [], {}
            for label, path in (("no seat", "/ws?world=world-1"), ("a made-up seat", "/ws?world=world-1&seat=made-up")):
                ws, _, answer = await join(a.ws_url(path), "intruder")
                intruders.append(ws)
                answers[label] = (answer["type"], answer.get("code"))
            holders = []
            try:
                self.assertEqual(answers, {label: ("error", "server_full") for label in answers})
                # One seat lets in one player: two connections with the same seat at once (two
                # tabs, or a copied link) get one place between them.
                twice = await asyncio.gather(join(grants[0]["url"], "first"), join(grants[0]["url"], "second"))
                holders += [ws for ws, _, _ in twice]
                self.assertEqual(sorted((answer["type"], answer.get("code")) for _, _, answer in twice),
                                 [("error", "server_full"), ("welcome", None)], twice)
                for g in grants[1:]:
                    ws, _, welcome = await join(g["url"], "holder")
                    holders.append(ws)
                    self.assertEqual(welcome["type"], "welcome", (g, welcome))
            finally:
                for ws in holders + intruders:
                    await ws.close()
        run(go())

    # b''. Whoever can write to Redis can write anything there: it must not cost a process.
    def test_hostile_entries_in_redis_are_ignored(self):
        daemons = [self.start_daemon(worlds=1) for _ in range(2)]
        self.wait_for_full_view(daemons, 2.0, worlds=1)
        bad_world = {"name": "evil", "url": "ws://127.0.0.1:1/ws?world=evil", "capacity": 10, "tick_rate": 20}
        entries = {
            "aaaaaaaaaaaa": {"id": "x", "worlds": [dict(bad_world, players="many")]},  # a string for a count
            "bbbbbbbbbbbb": {"id": "x", "worlds": [dict(bad_world, players=None, capacity=[1])]},
            "cccccccccccc": {"id": "x", "worlds": [dict(bad_world, name="\u0001bad", players=1)]},  # unprintable
            "dddddddddddd": {"id": "x", "worlds": [dict(bad_world, name=f"w{i}", players=0) for i in range(500)]},  # under 64 KiB
            "eeeeeeeeeeee": "not an object",
            # No /ws?world= path: /place would append "&seat=" to the host.
            "ffffffffffff": {"id": "x", "worlds": [dict(bad_world, name="nopath", players=0, url="ws://127.0.0.1:1")]},
            # Over 64 KiB: not parsed at all (an audit's 9 MB entry held the loop 150-240 ms a beat).
            "abababababab": {"id": "x", "worlds": [dict(bad_world, name="huge", players=0)], "pad": "x" * 100_000},
        }
        for pid, entry in entries.items():
            self.redis.command("SET", f"skirmish:process:{pid}", json.dumps(entry), "PX", "60000")
            self.redis.command("SADD", "skirmish:processes", pid)
        self.redis.command("SADD", "skirmish:processes", b"\xff\xfenot-utf8", "../../etc")
        # Junk by the ten thousand: never read, and the real processes still seen every time
        # (a random 4,096 of the set, as a review found, would have missed them).
        self.redis.command("SADD", "skirmish:processes", *[f"junk-{i}" for i in range(50_000)])
        # Every process has read the hostile entries once it lists the worlds of the one entry
        # that is only too long (the others are refused whole).
        for d in daemons:
            poll_until(lambda d=d: (any(w["name"] == "w0" for w in worlds_of(d)["worlds"]), None),
                       3 * HEARTBEAT, "the hostile entries read")
        for d in daemons:
            self.assertIsNone(d.proc.poll(), "the daemon died")
            view = worlds_of(d)
            names = sorted(w["name"] for w in view["worlds"])
            # The two real worlds, and at most 64 of the one entry that publishes too many.
            self.assertEqual(names.count("world-1"), 2, names)
            self.assertLessEqual(len(names), 2 + 64, len(names))
            self.assertNotIn("evil", names)
            self.assertNotIn("nopath", names)
            self.assertNotIn("huge", names)
            d.wait_for_log(r"skipped the entry of process abababababab: 10\d{4} bytes, over 64 KiB", timeout=1)
            status, body = http_json(d.port, "/place", "POST")
            self.assertIn(status, (200, 503), body)
            self.assertEqual(http_json(d.port, "/healthz")[0], 200)

    def _fleet_players(self, daemons, total):
        views = [worlds_of(d) for d in daemons]
        sums = [sum(w["players"] for w in v["worlds"]) for v in views]
        return all(len(v["worlds"]) == PROCESSES * WORLDS and s == total for v, s in zip(views, sums)), views

    # c. kill -9 of one process.
    def test_a_killed_process_leaves_the_fleet_and_its_players_resume_elsewhere(self):
        daemons = self.start_fleet()
        self.wait_for_full_view(daemons, 2.0)
        ports = self.process_ids(daemons)
        pid_of = {port: pid for pid, port in ports.items()}
        victim, survivors = daemons[0], daemons[1:]
        victim_id = pid_of[victim.port]
        names = ["ann", "bob", "cid", "dee"]

        def gone():
            views = [worlds_of(d) for d in survivors]
            return all(not any(w["process"] == victim_id for w in v["worlds"]) and len(v["worlds"]) == 2 * WORLDS
                       and v["fleet"]["processes"] == PROCESSES - 1 for v in views), views

        async def go():
            players = []
            for i, name in enumerate(names):
                ws, _, welcome = await join(victim.ws_url(f"/ws?world=world-{i % WORLDS + 1}"), name)
                self.assertEqual(welcome["type"], "welcome", welcome)
                players.append((name, welcome, await own_record(ws, welcome["id"]), ws))
            # Written to Redis on join (asynchronously): wait until all are there before the kill.
            await asyncio.to_thread(poll_until, lambda: (all(self.player_record(w["token"]) for _, w, _, _ in players), None),
                                    3.0, "every player's record in Redis")

            victim.kill()  # SIGKILL: no goodbye to Redis, no state file
            killed = time.monotonic()
            await asyncio.to_thread(poll_until, gone, 5.0 - (time.monotonic() - killed),
                                    "the killed process's worlds leaving /worlds")
            for _, _, _, ws in players:
                await asyncio.wait_for(ws.wait_closed(), TIMEOUT)  # their process is gone

            for i, (name, welcome, first, _) in enumerate(players):
                d = survivors[i % len(survivors)]
                # Another name in the join: the player's own comes back with its record.
                ws, _, back = await join(d.ws_url("/ws"), "someone-else", welcome["token"])
                try:
                    self.assertEqual(back["type"], "welcome", back)
                    self.assertIs(back["resumed"], True, back)
                    self.assertEqual(back["token"], welcome["token"])
                    self.assertIn(back["world"]["name"], [f"world-{k}" for k in range(1, WORLDS + 1)])
                    mine = await own_record(ws, back["id"])
                    self.assertEqual(mine["name"], name, mine)
                    self.assertEqual(mine["score"], first["score"], mine)
                    # It lives in d now, and its record says so.
                    await self.await_record(welcome["token"], pid_of[d.port], "the record naming its new process")
                finally:
                    await ws.close()
        run(go())

    # c2. A player resumed on another process: the copy left behind is stale and goes.
    def test_a_player_resumed_elsewhere_is_dropped_where_it_was(self):
        # A refreshes its online players' records every 5 x 0.2 s; B first 20 s after it
        # started (a beat of 5 s), so that B's copy is still there for the `leave` at the end
        # however slow the run (a 1 s beat refreshed B's copy away first in a sanitizer run:
        # its refresh fell between A's taking the record and the leave, 1 run in 15 or so).
        beat = 0.2
        b = self.start_daemon("--obstacles", "0", "--fleet-heartbeat-ms", "5000", worlds=1, monsters=0)
        b_started = time.monotonic()
        a = self.start_daemon("--obstacles", "0", "--fleet-heartbeat-ms", str(int(beat * 1000)), worlds=1, monsters=0)
        poll_until(redis_is([a, b], "up"), 3.0, "both processes on Redis")  # resuming reads records: no view needed
        ids = {port: pid for pid, port in self.process_ids([a, b]).items()}

        async def go():
            ws, _, welcome = await join(a.ws_url("/ws"), "wanderer")
            self.assertEqual(welcome["type"], "welcome", welcome)
            token, first = welcome["token"], await own_record(ws, welcome["id"])
            await ws.close()  # away on A, for its reconnect window
            await self.await_record(token, ids[a.port], "the record written by A")

            # Resumed on B, walked 150+ units right there, and gone: B writes its newer record.
            walked = await self.walk_elsewhere(b, ids[b.port], "wanderer", token, first["x"])

            # Back on A within its window: B's player, not the copy A held away since.
            ws_a = await self.resume_as_recorded(a, "wanderer", token, walked)
            self.assertEqual(stale_copies_dropped(a), 1)
            await self.await_record(token, ids[a.port], "the record A took back")

            # Now played on A; resumed on B as well (its away copy there is stale too): A finds
            # at its next refresh (5 heartbeats) that the player is B's, and lets its connection go.
            ws_b, _, third = await join(b.ws_url("/ws"), "wanderer", token)
            self.assertIs(third["resumed"], True, third)
            self.assertEqual(stale_copies_dropped(b), 1)
            told = await asyncio.wait_for(recv_until(ws_a, "error"), 5 * beat * 3 + TIMEOUT)
            self.assertEqual(told["code"], "session_taken", told)
            self.assertEqual(stale_copies_dropped(a), 2)
            # B's copy is the one played: its record stays B's through A's next refreshes.
            await asyncio.sleep(6 * beat)
            self.assertEqual(self.player_record(token)["process"], ids[b.port])
            # That connection stays open, a watcher now, with no player of its own.
            await ws_a.send(json.dumps({"type": "input", "seq": 1, "move": [1, 0], "attack": False}))
            self.assertEqual((await recv_until(ws_a, "error"))["code"], "not_joined")
            await ws_a.close()

            # Back on A once more (A takes the record), and at once a `leave` on B's copy, now
            # stale: B deletes no record that A wrote since.
            ws_a, _, fourth = await join(a.ws_url("/ws"), "wanderer", token)
            self.assertIs(fourth["resumed"], True, fourth)
            await self.await_record(token, ids[a.port], "the record A took")
            self.assertLess(time.monotonic() - b_started, 19.0, "the run reached the leave before B's first refresh")
            self.assertEqual(stale_copies_dropped(b), 1, "B's copy is still there for the leave (B refreshes after 20 s)")
            await ws_b.send(json.dumps({"type": "leave"}))
            await ws_b.send(json.dumps({"type": "ping", "t": 1}))
            await recv_until(ws_b, "pong")
            await asyncio.sleep(0.5)  # B's delete would have reached Redis by now
            self.assertIsNotNone(self.player_record(token), "B deleted A's record")
            self.assertEqual(self.player_record(token)["process"], ids[a.port])
            await ws_a.close()
            await ws_b.close()
        run(go())

    def test_a_second_tab_where_a_stale_copy_is_played_gets_the_newest_state(self):
        # Played on A (its tab left open), then resumed on B, walked and closed there: A's copy
        # is stale but still played (A refreshes only every 5 x 10 s). A new tab on A gets B's
        # state, not A's copy, and the old tab is told its player was taken.
        b = self.start_daemon("--obstacles", "0", worlds=1, monsters=0)
        a = self.start_daemon("--obstacles", "0", "--fleet-heartbeat-ms", "10000", worlds=1, monsters=0)
        poll_until(redis_is([a, b], "up"), 3.0, "both processes on Redis")
        ids = {port: pid for pid, port in self.process_ids([a, b]).items()}

        async def go():
            old_tab, _, welcome = await join(a.ws_url("/ws"), "two-tabs")
            self.assertEqual(welcome["type"], "welcome", welcome)
            token, first = welcome["token"], await own_record(old_tab, welcome["id"])
            await self.await_record(token, ids[a.port], "the record A took at the join")

            walked = await self.walk_elsewhere(b, ids[b.port], "two-tabs", token, first["x"])
            self.assertEqual(stale_copies_dropped(a), 0, "A refreshed meanwhile: the old tab's copy is gone already")

            new_tab = await self.resume_as_recorded(a, "two-tabs", token, walked)
            self.assertEqual(stale_copies_dropped(a), 1)
            told = await recv_until(old_tab, "error")
            self.assertEqual(told["code"], "session_taken", told)
            await self.await_record(token, ids[a.port], "the record the new tab took")
            await old_tab.close()
            await new_tab.close()
        run(go())

    def test_a_player_resumed_while_redis_is_away_keeps_its_copy_when_it_is_back(self):
        # B wrote the player's record last; then, with Redis stalled, the player resumes on A
        # (A's copy, as it is: nobody to ask). That join is the newest: when Redis answers
        # again A takes the record, and does not drop its own copy as stale.
        beat = 0.2
        a, b = (self.start_daemon("--fleet-heartbeat-ms", str(int(beat * 1000)), worlds=1) for _ in range(2))
        self.wait_for_full_view([a, b], 3.0, worlds=1)
        ids = {port: pid for pid, port in self.process_ids([a, b]).items()}

        async def go():
            ws, _, welcome = await join(a.ws_url("/ws"), "patient")
            token = welcome["token"]
            await ws.close()
            ws, _, back = await join(b.ws_url("/ws"), "patient", token)
            self.assertIs(back["resumed"], True, back)
            await ws.close()
            await self.await_record(token, ids[b.port], "B's record")
            self.redis.pause()
            try:
                await asyncio.to_thread(poll_until, redis_is([a], "down"), 8.0, "A saying Redis is down")
                ws_a, _, again = await join(a.ws_url("/ws"), "patient", token)
                self.assertIs(again["resumed"], True, again)
            finally:
                self.redis.resume()
            await self.await_record(token, ids[a.port], "A taking the record once Redis is back", timeout=4.0 + BACK_WITHIN)
            # Several of A's refreshes later, the connection still plays its player.
            deadline = time.monotonic() + 8 * beat
            while time.monotonic() < deadline:
                msg = await recv_json(ws_a)
                self.assertNotEqual(msg["type"], "error", msg)
            await ws_a.send(json.dumps({"type": "ping", "t": 2}))
            await recv_until(ws_a, "pong")
            await ws_a.close()
        run(go())

    # d. Redis killed and restarted mid-game.
    def test_redis_killed_and_restarted_mid_game(self):
        daemons = self.start_fleet()
        self.wait_for_full_view(daemons, 2.0)
        outage = 2.5  # seconds Redis stays down once every process has noticed: 2+ heartbeats

        async def go():
            watchers, tokens = [], []
            for i, d in enumerate(daemons):
                ws, _, welcome = await join(d.ws_url("/ws"), f"steady{i}")
                self.assertEqual(welcome["type"], "welcome", welcome)
                watchers.append(Watcher(ws, f"player of process {i}"))
                tokens.append(welcome["token"])
            await wait_async(lambda: all(len(w.frames) >= 5 for w in watchers), TIMEOUT, "frames flowing")

            await asyncio.to_thread(self.redis.kill)
            await asyncio.to_thread(poll_until, redis_is(daemons, "down"), BACK_WITHIN, "/healthz saying Redis is down")
            down = time.monotonic()
            for d in daemons:
                # Alone, each still answers: its own worlds, a local placement without a seat.
                view = await asyncio.to_thread(worlds_of, d)
                self.assertEqual(view["fleet"]["redis"], "down", view)
                self.assertEqual(sorted(w["name"] for w in view["worlds"]), ["world-1", "world-2"], view)
                self.assertTrue(all(w["local"] for w in view["worlds"]), view)
                status, placed = await asyncio.to_thread(http_json, d.port, "/place", "POST")
                self.assertEqual(status, 200, placed)
                self.assertNotIn("seat", placed)
                self.assertIs(placed["local"], True, placed)
                self.assertEqual(d.metrics()["skirmish_fleet_redis_up"], 0)
            # Players are answered at once, and a new one can join.
            for i, w in enumerate(watchers):
                await w.ws.send(json.dumps({"type": "ping", "t": 1000 + i}))
            await wait_async(lambda: all(w.pongs for w in watchers), TIMEOUT, "pongs while Redis is down")
            ws, _, welcome = await join(daemons[0].ws_url("/ws"), "newcomer")
            self.assertEqual(welcome["type"], "welcome", welcome)
            await ws.close()
            await asyncio.sleep(max(0.0, outage - (time.monotonic() - down)))  # the outage itself

            restarted = time.monotonic()
            await asyncio.to_thread(self.redis.start)  # same port, empty (nothing was saved)
            await asyncio.to_thread(poll_until, redis_is(daemons, "up"), BACK_WITHIN, "/healthz saying Redis is up again")
            await asyncio.to_thread(self.wait_for_full_view, daemons, 2.0)
            # The new Redis is empty: each process wrote its players' records again.
            await asyncio.to_thread(poll_until, lambda: (all(self.redis.command("GET", f"skirmish:player:{t}") for t in tokens),
                                                         None), 2.0, "the players' records back in Redis")
            back = time.monotonic()
            await wait_async(lambda: all(len(w.frames_between(back, float("inf"))) >= 5 for w in watchers),
                             TIMEOUT, "frames after Redis came back")
            for w in watchers:
                # Nobody noticed: no close, frames all along, also while Redis was down.
                self.assertIsNone(w.closed, w.label)
                during = w.frames_between(down, restarted)
                self.assertGreaterEqual(len(during), 10 * outage, f"{w.label}: {len(during)} frames while Redis was down")
                self.assertLess(w.largest_gap(), 1.0, f"{w.label}: a {w.largest_gap():.2f} s gap between frames")
                await w.stop()
        run(go())
        for d in daemons:
            # Logged once each way, however many heartbeats found Redis away.
            lost = [i for i, line in enumerate(d.lines) if "lost Redis" in line]
            self.assertEqual(len(lost), 1, "".join(line for line in d.lines if "Redis" in line))
            back = [line for line in d.lines[lost[0]:] if re.search(r"Redis is back|connected to Redis", line)]
            self.assertEqual(len(back), 1, "".join(line for line in d.lines if "Redis" in line))
            m = d.metrics()
            self.assertEqual(m["skirmish_fleet_redis_up"], 1)
            self.assertEqual(m["skirmish_fleet_redis_losses_total"], 1)
        members = {m.decode() for m in self.redis.command("SMEMBERS", "skirmish:processes")}
        self.assertEqual(len(members), PROCESSES, "every process published itself again")

    # e. Redis down at start.
    def test_redis_down_at_start_still_serves_the_game(self):
        nowhere = free_port()  # nothing listens there
        d = self.start_daemon(redis_url=f"redis://127.0.0.1:{nowhere}")
        status, page = http_text(d.port, "/")
        self.assertEqual(status, 200)
        self.assertIn("<title>", page)
        poll_until(redis_is([d], "down"), 3.0, "/healthz saying Redis is down")
        self.assertEqual(http_json(d.port, "/healthz")[1]["status"], "ok")
        view = worlds_of(d)
        self.assertEqual(view["fleet"]["redis"], "down", view)
        self.assertEqual([w["name"] for w in view["worlds"]], ["world-1", "world-2"])
        self.assertEqual(http_json(d.port, "/place")[0], 405)  # a prefetching GET takes no seat
        status, placed = http_json(d.port, "/place", "POST")
        self.assertEqual(status, 200, placed)
        self.assertNotIn("seat", placed)
        self.assertIs(placed["local"], True, placed)
        url = urlsplit(placed["url"])
        self.assertEqual((url.netloc, url.path, parse_qs(url.query)), (f"127.0.0.1:{d.port}", "/ws", {"world": [placed["world"]]}))
        self.assertEqual(d.metrics()["skirmish_fleet_redis_up"], 0)

        async def play():
            ws, hello, welcome = await join(placed["url"], "alone")
            try:
                self.assertEqual(welcome["type"], "welcome", welcome)
                self.assertEqual(welcome["world"]["name"], placed["world"])
                ticks = 0
                while ticks < 10:
                    ticks += (await recv_json(ws))["type"] == "tick"
            finally:
                await ws.close()
        run(play())
        # Redis appears on that port: the process joins the fleet by itself.
        late = RedisServer(port=nowhere).start()
        self.addCleanup(late.stop)
        poll_until(redis_is([d], "up", processes=1), BACK_WITHIN, "/healthz saying Redis is up once it starts")
        # However many attempts failed before, the trouble was logged once.
        trouble = [line for line in d.lines if re.search(r"lost Redis|cannot reach Redis", line)]
        self.assertEqual(len(trouble), 1, "".join(trouble))
        self.assertEqual(len(late.command("SMEMBERS", "skirmish:processes")), 1)

    # f. A Redis that answers but will not keep what it is told.
    def test_a_redis_that_refuses_writes_leaves_placement_local(self):
        daemons = [self.start_daemon(worlds=1) for _ in range(2)]
        self.wait_for_full_view(daemons, 2.0, worlds=1)
        # Out of memory (the default policy, noeviction): every write is refused with OOM, and the
        # entries the processes can no longer renew expire.
        self.redis.command("CONFIG", "SET", "maxmemory", "1")
        poll_until(redis_is(daemons, "refusing writes"), 2.5 * HEARTBEAT, "/healthz saying Redis refuses writes")
        for d in daemons:
            health = fleet_health(d)
            self.assertIn("OOM", health.get("error", ""), health)
            # Every world is empty: this process places locally (not "every world of the fleet is full").
            for _ in range(3):
                status, placed = http_json(d.port, "/place", "POST")
                self.assertEqual(status, 200, placed)
                self.assertIs(placed["local"], True, placed)
                self.assertNotIn("seat", placed)
            self.assertEqual(worlds_of(d)["fleet"]["redis"], "refusing writes")
            m = d.metrics()
            self.assertEqual((m["skirmish_fleet_redis_up"], m["skirmish_fleet_listed"]), (1, 0))
            self.assertGreater(m["skirmish_fleet_redis_errors_total"], 0)
        time.sleep(3 * HEARTBEAT)  # more refused heartbeats: logged once all the same
        self.redis.command("CONFIG", "SET", "maxmemory", "0")
        poll_until(redis_is(daemons, "up"), BACK_WITHIN, "/healthz saying Redis is up again")
        self.wait_for_full_view(daemons, 2.0, worlds=1)
        for d in daemons:
            status, placed = http_json(d.port, "/place", "POST")
            self.assertEqual(status, 200, placed)
            self.assertIn("seat", placed)  # through Redis again
            refused = [line for line in d.lines if "refuses this process's entry" in line]
            self.assertEqual(len(refused), 1, "".join(refused))
            joined = [line for line in d.lines if "joined the directory" in line]
            self.assertEqual(len(joined), 2, "".join(joined))  # at start, and once Redis took it again
            self.assertEqual(d.metrics()["skirmish_fleet_listed"], 1)

    # f2. Refused writes of two kinds under one label (a record's SET and a refresh's EVAL answer
    # out of memory with different texts): still logged once a minute (an audit saw them take
    # turns, each logged every time: 13 lines in 30 s).
    def test_refused_writes_are_logged_once_a_minute_whatever_their_text(self):
        d = self.start_daemon("--fleet-heartbeat-ms", "200", worlds=1)
        self.wait_for_full_view([d], 2.0, worlds=1)

        async def scenario():
            ws, _, welcome = await join(d.ws_url("/ws"), "oom", None)
            self.assertEqual(welcome["type"], "welcome", welcome)
            self.redis.command("CONFIG", "SET", "maxmemory", "1")
            try:
                # 25 heartbeats: the player's record is refreshed every 5 (an EVAL), and closing
                # a second connection's player writes one (a SET) in between.
                ws2, _, welcome2 = await join(d.ws_url("/ws"), "oom2", None)
                self.assertEqual(welcome2["type"], "welcome", welcome2)
                await asyncio.sleep(10 * 0.2)
                await ws2.close()
                await asyncio.sleep(15 * 0.2)
            finally:
                self.redis.command("CONFIG", "SET", "maxmemory", "0")
            await ws.close()
        run(scenario())
        writes = [line for line in d.lines if "Redis refused a write" in line]
        self.assertEqual(len(writes), 1, "".join(writes))
        self.assertIn("OOM", writes[0])
        self.assertGreaterEqual(d.metrics()["skirmish_fleet_redis_errors_total"], 5)

    # f3. Something at the Redis address that sends an endless answer: the connection is dropped
    # past 16 MiB of one answer (an audit's fake server got 411 MB into the daemon in 0.6 s,
    # held until the 3 s watchdog), a string's or an array's of many small parts alike.
    def test_an_endless_answer_is_cut_off(self):
        self._endless_answer(b"$1000000000\r\n", b"a" * (1 << 20))

    def test_an_endless_array_is_cut_off(self):
        self._endless_answer(b"*1000000\r\n", b":0\r\n" * (1 << 18))

    def test_an_endless_line_is_cut_off(self):
        # hiredis looks for a line's end from its start at every read: 16 MiB of one line
        # would be gigabytes of searching. A line of ours is short.
        self._endless_answer(b"+", b"a" * (1 << 16), most=8 << 20)

    def test_an_endless_line_with_lone_newlines_is_cut_off(self):
        # A line ends at "\r\n" only: lone "\n" in it do not end it.
        self._endless_answer(b"+", b"a\n" * (1 << 15), most=8 << 20)

    def test_an_answer_to_nothing_we_sent_is_refused_without_a_crash(self):
        # hiredis 0.14 asserts on a reply no callback waits for: one more answer than we asked
        # for, from something at the Redis address, would have aborted the daemon (a review
        # found it). A proxy to the real Redis puts one in while the connection is quiet.
        listener = socket.create_server(("127.0.0.1", 0))
        self.addCleanup(listener.close)
        listener.settimeout(10)
        last = [time.monotonic()]
        injected = threading.Event()

        def pump(src, dst):
            try:
                while data := src.recv(65536):
                    last[0] = time.monotonic()
                    dst.sendall(data)
            except OSError:
                pass
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        def serve():
            conn, _ = listener.accept()
            upstream = socket.create_connection(("127.0.0.1", self.redis.port))
            accepted = last[0] = time.monotonic()
            threading.Thread(target=pump, args=(conn, upstream), daemon=True).start()
            threading.Thread(target=pump, args=(upstream, conn), daemon=True).start()
            deadline = accepted + 10
            while time.monotonic() < deadline:
                # Up (PING answered, a heartbeat done), then quiet for 0.2 s: all answered.
                if time.monotonic() - accepted > 1.0 and time.monotonic() - last[0] > 0.2:
                    conn.sendall(b"+OK\r\n")
                    injected.set()
                    return
                time.sleep(0.02)
        server = threading.Thread(target=serve, daemon=True)
        server.start()
        d = self.start_daemon(worlds=1, redis_url=f"redis://127.0.0.1:{listener.getsockname()[1]}")
        poll_until(redis_is([d], "up"), BACK_WITHIN, "/healthz saying Redis is up through the proxy")
        self.assertTrue(injected.wait(10), "no quiet moment to answer nothing in")
        line = d.wait_for_log(r"lost Redis.*it answered a command we did not send", timeout=5)
        self.assertIn("is it Redis", line)
        self.assertIsNone(d.proc.poll(), "".join(d.lines[-20:]))
        self.assertEqual(http_json(d.port, "/healthz")[0], 200)

    def _endless_answer(self, head, chunk, most=100 << 20):
        listener = socket.create_server(("127.0.0.1", 0))
        self.addCleanup(listener.close)
        listener.settimeout(10)
        sent = []

        def serve():
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(10)
                conn.recv(1024)  # the PING
                total = 0
                try:
                    conn.sendall(head)
                    while total < (400 << 20):  # bounded: 400 MiB at most
                        conn.sendall(chunk)
                        total += len(chunk)
                except OSError:
                    pass  # the daemon closed the connection
                sent.append(total)
        server = threading.Thread(target=serve, daemon=True)
        server.start()
        d = self.start_daemon(worlds=1, redis_url=f"redis://127.0.0.1:{listener.getsockname()[1]}")
        server.join(20)
        self.assertFalse(server.is_alive(), "the fake server still sending")
        line = d.wait_for_log(r"cannot reach Redis.*an answer over 16 MiB, of over 262144 parts or with a line over "
                              r"64 KiB", timeout=5)
        self.assertIn("is it Redis", line)
        self.assertLess(sent[0], most, f"{sent[0] >> 20} MiB sent before the daemon closed")
        # (Not under a sanitizer: AddressSanitizer keeps freed memory in quarantine, and
        # ThreadSanitizer's shadow memory is a multiple of the heap.)
        if not (built_with("SKIRMISH_SANITIZED") or built_with("SKIRMISH_TSAN")):
            with open(f"/proc/{d.proc.pid}/status") as f:
                peak = int(re.search(r"VmHWM:\s+(\d+) kB", f.read()).group(1))
            self.assertLess(peak, 100 * 1024, f"the daemon's peak RSS {peak} kB")
        self.assertEqual(fleet_health(d)["redis"], "down")
        self.assertEqual(http_json(d.port, "/healthz")[0], 200)

    # f'. While Redis cannot check a seat, a seat in the URL is worth nothing (found by an audit:
    # "?seat=x" was let in past the places held for others).
    def test_a_seat_redis_cannot_check_counts_for_nothing(self):
        d = self.start_daemon("--max-players", "3", "--seat-hold-ms", "30000", worlds=1)
        self.wait_for_full_view([d], 2.0, worlds=1)
        poll_until(redis_is([d], "up"), BACK_WITHIN, "/healthz saying Redis is up")
        grants = [http_json(d.port, "/place", "POST") for _ in range(3)]
        self.assertEqual([status for status, _ in grants], [200, 200, 200], grants)
        self.assertTrue(all("seat" in grant for _, grant in grants), grants)  # held in Redis, not placed locally
        grants = [grant for _, grant in grants]

        async def go():
            sockets = []
            try:
                # The first holder joins while Redis checks its seat, and uses it up.
                ws, _, welcome = await join(grants[0]["url"], "first")
                sockets.append(ws)
                self.assertEqual(welcome["type"], "welcome", welcome)
                self.redis.command("CONFIG", "SET", "maxmemory", "1")
                await asyncio.to_thread(poll_until, redis_is([d], "refusing writes"), 2.5 * HEARTBEAT,
                                        "/healthz saying Redis refuses writes")
                answers = {}
                for label, url in (("no seat", d.ws_url("/ws?world=world-1")),
                                   ("a made-up seat", d.ws_url("/ws?world=world-1&seat=x")),
                                   ("another", d.ws_url("/ws?world=world-1&seat=deadbeef")),
                                   ("a seat used already", grants[0]["url"])):
                    ws, _, answer = await join(url, "intruder")
                    sockets.append(ws)
                    answers[label] = (answer["type"], answer.get("code"))
                self.assertEqual(answers, {label: ("error", "server_full") for label in answers})
                # The seats this process gave out itself, not used yet, are known good without
                # asking Redis: each lets in its holder (they were refused too, as seats unchecked).
                for grant in grants[1:]:
                    ws, _, welcome = await join(grant["url"], "holder")
                    sockets.append(ws)
                    self.assertEqual(welcome["type"], "welcome", (grant, welcome))
            finally:
                self.redis.command("CONFIG", "SET", "maxmemory", "0")
                for ws in sockets:
                    await ws.close()
        run(go())

    # g. A Redis that stops answering without closing (SIGSTOP: the kernel still accepts).
    def test_a_stalled_redis_is_down_until_it_answers(self):
        d = self.start_daemon(worlds=1)
        poll_until(redis_is([d], "up"), 3.0, "/healthz saying Redis is up")

        async def go():
            ws, _, welcome = await join(d.ws_url("/ws"), "steady")
            self.assertEqual(welcome["type"], "welcome", welcome)
            watcher = Watcher(ws, "player")
            await wait_async(lambda: len(watcher.frames) >= 5, TIMEOUT, "frames flowing")
            self.redis.pause()
            try:
                # Noticed once the heartbeat's commands go unanswered (3 s), then down for good:
                # a new connection the kernel accepts for it is not up until Redis answers PING.
                await asyncio.to_thread(poll_until, redis_is([d], "down"), 6.0, "/healthz saying Redis is down")
                deadline = time.monotonic() + 5 * HEARTBEAT
                seen = set()
                while time.monotonic() < deadline:
                    seen.add(await asyncio.to_thread(lambda: fleet_health(d)["redis"]))
                    started = time.monotonic()
                    status, placed = await asyncio.to_thread(http_json, d.port, "/place", "POST")
                    self.assertEqual(status, 200, placed)
                    self.assertIs(placed["local"], True, placed)
                    self.assertLess(time.monotonic() - started, 1.0, "/place waited on the stalled Redis")
                    await asyncio.sleep(0.1)
                self.assertEqual(seen, {"down"})
            finally:
                self.redis.resume()
            await asyncio.to_thread(poll_until, redis_is([d], "up"), 4.0 + BACK_WITHIN, "/healthz saying Redis is up again")
            self.assertLess(watcher.largest_gap(), 1.0, "the game waited on Redis")
            await watcher.stop()
        run(go())
        trouble = [line for line in d.lines if re.search(r"lost Redis|cannot reach Redis", line)]
        self.assertEqual(len(trouble), 1, "".join(trouble))
        lost_at = d.lines.index(trouble[0])
        connected = [line for line in d.lines[lost_at:] if "connected to Redis" in line]
        self.assertEqual(len(connected), 1, "".join(line for line in d.lines if "Redis" in line))

    def test_a_stop_while_redis_stalls_says_what_may_not_have_been_written(self):
        d = self.start_daemon(worlds=1)
        poll_until(redis_is([d], "up"), 3.0, "/healthz saying Redis is up")
        self.redis.pause()
        try:
            self.assertEqual(d.stop(), 0)  # within the stop's own wait for Redis
        finally:
            self.redis.resume()
        said = [line for line in d.lines if "did not answer within" in line]
        self.assertEqual(len(said), 1, "".join(line for line in d.lines if "Redis" in line))
        self.assertIn("players' records", said[0])

    # h. Something at the Redis URL that is not a Redis we may use: never up, said once.
    def test_a_redis_that_wants_a_password_or_is_not_redis_is_never_up(self):
        locked = RedisServer(password="sekrit").start()
        self.addCleanup(locked.stop)
        d = self.start_daemon(worlds=1, redis_url=locked.url)
        # Pointed at another daemon's HTTP port, as a typo would.
        typo = self.start_daemon(worlds=1, redis_url=f"redis://127.0.0.1:{d.port}")
        deadline = time.monotonic() + 4 * HEARTBEAT  # several attempts, one a heartbeat
        seen = set()
        while time.monotonic() < deadline:
            seen |= {fleet_health(d)["redis"], fleet_health(typo)["redis"]}
            time.sleep(0.1)
        self.assertEqual(seen, {"down"})
        for daemon, why in ((d, "NOAUTH"), (typo, "Protocol error")):
            lines = [line for line in daemon.lines if "Redis" in line and "directory at" not in line]
            trouble = [line for line in lines if "cannot reach Redis" in line]
            self.assertEqual(len(trouble), 1, "".join(lines))
            self.assertIn(why, trouble[0])
            self.assertFalse([line for line in lines if "connected to Redis" in line], "".join(lines))
            status, placed = http_json(daemon.port, "/place", "POST")
            self.assertEqual((status, placed["local"]), (200, True), placed)
        self.assertEqual(locked.command("SMEMBERS", "skirmish:processes"), [])

    # h2. A Redis with a password: the URL carries it (or an ACL user and its password); it is
    # sent, and never written to the log. A wrong one is never up, and said once.
    def test_a_password_in_the_url_is_used_and_never_shown(self):
        locked = RedisServer(password="sekrit").start()
        self.addCleanup(locked.stop)
        self.assertEqual(locked.command("ACL", "SETUSER", "game", "on", ">p@ss:w/rd", "~*", "&*", "+@all"), "OK")
        plain = self.start_daemon(worlds=1, redis_url=f"redis://:sekrit@127.0.0.1:{locked.port}")
        user = self.start_daemon(worlds=1, redis_url=f"redis://game:{quote('p@ss:w/rd', safe='')}@127.0.0.1:{locked.port}")
        wrong = self.start_daemon(worlds=1, redis_url=f"redis://game:nope-nope@127.0.0.1:{locked.port}")
        poll_until(redis_is([plain, user], "up", processes=2), BACK_WITHIN, "both processes up with their credentials")
        self.wait_for_full_view([plain, user], BACK_WITHIN, worlds=1)
        self.assertEqual(len(locked.command("SMEMBERS", "skirmish:processes")), 2)
        deadline = time.monotonic() + 3 * HEARTBEAT  # several attempts, one a heartbeat
        seen = set()
        while time.monotonic() < deadline:
            seen.add(fleet_health(wrong)["redis"])
            time.sleep(0.1)
        self.assertEqual(seen, {"down"})
        trouble = [line for line in wrong.lines if "cannot reach Redis" in line]
        self.assertEqual(len(trouble), 1, "".join(line for line in wrong.lines if "Redis" in line))
        self.assertIn("WRONGPASS", trouble[0])
        for d, secret in ((plain, "sekrit"), (user, "p@ss"), (user, "p%40ss"), (wrong, "nope-nope")):
            self.assertFalse([line for line in d.lines if secret in line], f"{secret} in the log")
            self.assertTrue([line for line in d.lines if "directory at redis://" in line and ":***@" in line])

    # i. The fleet's set of processes overwritten with a key of another type.
    def test_an_unreadable_directory_empties_the_view_and_is_logged_once(self):
        daemons = [self.start_daemon(worlds=1) for _ in range(2)]
        self.wait_for_full_view(daemons, 2.0, worlds=1)
        self.redis.command("DEL", "skirmish:processes")
        self.redis.command("SET", "skirmish:processes", "junk")
        # The others' worlds can no longer be known alive: only this process's own are listed.
        for d in daemons:
            poll_until(lambda d=d: (len(worlds_of(d)["worlds"]) == 1, worlds_of(d)), 2.5 * HEARTBEAT,
                       "the view down to this process's own world")
        time.sleep(3 * HEARTBEAT)
        for d in daemons:
            self.assertEqual(len(worlds_of(d)["worlds"]), 1)
            # Nor can this process add itself: nobody else can see it, so it places locally.
            self.assertEqual(fleet_health(d)["redis"], "refusing writes")
            status, placed = http_json(d.port, "/place", "POST")
            self.assertEqual((status, placed.get("local")), (200, True), placed)
            self.assertNotIn("seat", placed)
            # Reading the set and adding to it fail each heartbeat; each is logged once.
            reads = [line for line in d.lines if "refused reading the fleet's processes" in line and "WRONGTYPE" in line]
            entries = [line for line in d.lines if "refuses this process's entry" in line and "WRONGTYPE" in line]
            self.assertEqual((len(reads), len(entries)), (1, 1), "".join(reads + entries))
            self.assertGreaterEqual(d.metrics()["skirmish_fleet_redis_errors_total"], 6)
        self.redis.command("DEL", "skirmish:processes")
        self.wait_for_full_view(daemons, 2.5 * HEARTBEAT, worlds=1)
        poll_until(redis_is(daemons, "up"), 2.5 * HEARTBEAT, "/healthz saying Redis is up again")


if __name__ == "__main__":
    unittest.main()
