"""Several event loops (server.io_threads): connections dealt over the loops, one world's frames
built on all of them, and a stress of joins, leaves, reconnects with tokens and abrupt closes
across loops and worlds while the worlds tick. Watchers keep a view of their world the whole
time and check that every frame applies to what they hold (no delta for an entity they were
never sent, no removal of one they do not hold, tick numbers only going up). The test command
also runs this file against a ThreadSanitizer build of the daemon (scripts/tsan.sh)."""
import asyncio
import json
import math
import os
import random
import signal
import time
import unittest
import urllib.request

import websockets

from daemon import Daemon, built_with, wait_until

TIMEOUT = 10
# Everything is slower under a sanitizer: under ASan a tick of 10,000 monsters takes about the
# whole 50 ms period here, so a slower machine drops ticks; under TSan more still.
SANITIZED = built_with("SKIRMISH_SANITIZED") or built_with("SKIRMISH_TSAN")


def cgroup_cpu_quota():
    """This process's cgroup CPU quota in cores (v2 cpu.max or v1 cpu.cfs_quota_us), or None."""
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            names = [f"/sys/fs/cgroup{path}/cpu.max"] if not controllers else (
                [f"/sys/fs/cgroup/{controllers}{path}/cpu.cfs_quota_us"] if "cpu" in controllers.split(",") else [])
            for name in names:
                try:
                    with open(name) as q:
                        text = q.read().split()
                except OSError:
                    continue
                if name.endswith("cpu.max") and text and text[0] != "max":
                    return int(text[0]) / int(text[1])
                if name.endswith("cfs_quota_us") and text and int(text[0]) > 0:
                    with open(name.replace("cfs_quota_us", "cfs_period_us")) as p:
                        return int(text[0]) / int(p.read())
    return None


def run(coro, limit=120):
    return asyncio.run(asyncio.wait_for(coro, limit))


class Watcher:
    """A spectator that keeps its view and checks each frame against it."""

    def __init__(self, ws):
        self.ws = ws
        self.held = {}
        self.last_tick = None
        self.frames = 0
        self.problems = []

    def apply(self, frame):
        if self.last_tick is not None and frame["tick"] <= self.last_tick:
            self.problems.append(f"tick {frame['tick']} after {self.last_tick}")
        self.last_tick = frame["tick"]
        if frame.get("full"):
            self.held.clear()
        for e in frame["entities"]:
            if e["id"] not in self.held and "kind" not in e:
                self.problems.append(f"delta for entity {e['id']} never sent (tick {frame['tick']})")
            self.held.setdefault(e["id"], {}).update(e)
        for rid in frame["removed"]:
            if self.held.pop(rid, None) is None:
                self.problems.append(f"removed {rid} not held (tick {frame['tick']})")
        self.frames += 1

    async def watch(self, until):
        while time.monotonic() < until:
            try:
                msg = json.loads(await asyncio.wait_for(self.ws.recv(), TIMEOUT))
            except asyncio.TimeoutError:
                self.problems.append("no frame for 10 s")
                return
            if msg["type"] == "tick":
                self.apply(msg)


async def player_life(url, rng, until, outcome):
    """Joins, moves, leaves, rejoins, drops its connection and comes back with its token,
    over and over, until `until`."""
    token = None
    name = f"p{rng.randrange(1 << 30)}"
    while time.monotonic() < until:
        world = rng.choice(["", "?world=world-1", "?world=world-2"])
        ws = await websockets.connect(url + world, max_queue=None, open_timeout=TIMEOUT)
        try:
            hello = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
            assert hello["type"] == "hello", hello
            await ws.send(json.dumps({"type": "join", "name": name, **({"token": token} if token else {})}))
            while True:
                msg = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
                if msg["type"] == "welcome":
                    if token and not msg["resumed"]:
                        outcome["lost_tokens"] += 1
                    token = msg["token"]
                    outcome["joins"] += 1
                    break
                if msg["type"] == "error":
                    raise AssertionError(msg)
            for _ in range(rng.randrange(3, 15)):
                await ws.send(json.dumps({"type": "input", "move": [rng.uniform(-1, 1), rng.uniform(-1, 1)],
                                          "attack": rng.random() < 0.3}))
                await asyncio.sleep(rng.uniform(0.01, 0.08))
            choice = rng.random()
            if choice < 0.3:
                await ws.send(json.dumps({"type": "leave"}))  # gone for good: a new player next
                token = None
                await ws.close()
            elif choice < 0.6:
                ws.transport.abort()  # the connection just dies; the token brings the player back
            else:
                await ws.close()
        finally:
            if not ws.closed:
                ws.transport.abort()
    outcome["lives"] += 1


class IoThreads(unittest.TestCase):
    def test_loops_share_connections_and_frames_under_churn(self):
        d = Daemon("--io-threads", "3", "--worlds", "2", "--lively-players", "4", "--monsters", "60",
                   "--world-size", "1600", "--reconnect-window-ms", "30000", "--state-file", "state.json").start()
        try:
            health = json.loads(d_get(d, "/healthz"))
            self.assertEqual(health["loops"], 3)
            url = d.ws_url()
            duration = 12 if SANITIZED else 8
            outcome = {"joins": 0, "lives": 0, "lost_tokens": 0}

            async def go():
                watchers = []
                for world in ("world-1", "world-2", "world-1", "world-2", "world-1", "world-2"):
                    ws = await websockets.connect(f"{url}?world={world}&x=800&y=800", max_queue=None,
                                                  open_timeout=TIMEOUT)
                    await asyncio.wait_for(ws.recv(), TIMEOUT)  # hello
                    watchers.append(Watcher(ws))
                # Connections are dealt over the loops in turn: each loop holds some.
                per_loop = {k: v for k, v in d.metrics().items() if k.startswith("skirmish_loop_connections{")}
                self.assertEqual(len(per_loop), 3)
                self.assertTrue(all(v >= 1 for v in per_loop.values()), per_loop)
                until = time.monotonic() + duration
                rng = random.Random(15)
                players = [player_life(url, random.Random(rng.random()), until, outcome) for _ in range(24)]
                await asyncio.gather(*(w.watch(until) for w in watchers), *players)
                for w in watchers:
                    await w.ws.close()
                return watchers

            watchers = run(go(), limit=duration + 60)
            for i, w in enumerate(watchers):
                self.assertEqual(w.problems, [], f"watcher {i}")
                self.assertGreater(w.frames, duration * (5 if SANITIZED else 15), f"watcher {i} frames")
            self.assertEqual(outcome["lives"], 24)
            self.assertGreater(outcome["joins"], 24)
            self.assertEqual(outcome["lost_tokens"], 0, "a token did not bring its player back")
            # Every connection closed is gone from every loop.
            self.assertTrue(wait_until(lambda: d.metrics()["skirmish_connections"] <= 1, timeout=15))
            self.assertTrue(d.alive())
        finally:
            code = d.stop()
        self.assertEqual(code, 0)

    def test_one_world_is_built_on_every_loop(self):
        """Frames for one world's viewers on two loops: both loops' threads work during ticks."""
        d = Daemon("--io-threads", "2", "--monsters", "100", "--state-file", "").start()
        try:
            async def go():
                sockets = []
                for i in range(120):
                    ws = await websockets.connect(d.ws_url(f"/ws?x={400 + i * 20}&y=1600"), max_queue=None,
                                                  open_timeout=TIMEOUT)
                    sockets.append(ws)
                before = thread_cpu(d.proc.pid)
                # Until the daemon's threads have done enough work to see how it was shared
                # (CPU time in /proc counts 10 ms ticks; a fast machine needs longer), at most 20 s.
                deadline = time.monotonic() + 20
                enough = asyncio.Event()

                async def measure():
                    while time.monotonic() < deadline:
                        await asyncio.sleep(0.25)
                        now = thread_cpu(d.proc.pid)
                        if sum(now[t] - before.get(t, 0) for t in now) >= 16:
                            break
                    enough.set()

                async def drain(ws):
                    while not enough.is_set():
                        await asyncio.wait_for(ws.recv(), TIMEOUT)
                await asyncio.gather(measure(), *(drain(ws) for ws in sockets))
                after = thread_cpu(d.proc.pid)
                for ws in sockets:
                    await ws.close()
                return {tid: after[tid] - before.get(tid, 0) for tid in after}

            used = run(go())
            # The connections are dealt half and half, and each loop writes its own half's
            # frames: the two busiest threads each did a good share of the work.
            ticks = sorted(used.values(), reverse=True)
            self.assertGreaterEqual(sum(ticks), 8, f"CPU ticks by thread: {used}")
            self.assertGreaterEqual(len(ticks), 2, f"CPU ticks by thread: {used}")
            self.assertGreaterEqual(ticks[1], 0.25 * sum(ticks), f"CPU ticks by thread: {used}")
        finally:
            self.assertEqual(d.stop(), 0)

    @unittest.skipIf(len(os.sched_getaffinity(0)) < 2, "needs two CPUs to run on")
    def test_by_default_one_loop_per_cpu_the_daemon_may_run_on(self):
        """server.io_threads 0: as many loops as CPUs the daemon may run on (its affinity, as
        taskset or docker run --cpuset-cpus sets it), not as many as the machine has: two loops
        taking turns on one CPU only add hand-offs, and count a core that is not there."""
        cpus = sorted(os.sched_getaffinity(0))
        with Daemon("--state-file", "", cpus={cpus[0]}) as d:
            self.assertEqual(d.metrics()["skirmish_event_loops"], 1)
        quota = cgroup_cpu_quota()
        with Daemon("--state-file", "", cpus=set(cpus[:2])) as d:
            self.assertEqual(d.metrics()["skirmish_event_loops"], 2 if quota is None or quota >= 2 else math.ceil(quota))

    def test_each_loop_thread_is_named_for_its_loop(self):
        # How an operator (or a check) tells the loops' CPU apart in /proc and top -H; the main
        # thread is loop 0 and keeps the process's name.
        with Daemon("--state-file", "", "--io-threads", "3") as d:
            task = f"/proc/{d.proc.pid}/task"
            names = sorted(open(os.path.join(task, t, "comm")).read().strip() for t in os.listdir(task))
            self.assertIn("skirmish-loop1", names)
            self.assertIn("skirmish-loop2", names)
            self.assertIn("skirmishd", names)
            self.assertNotIn("skirmish-loop3", names)

    @unittest.skipIf(len(os.sched_getaffinity(0)) < 2, "needs two CPUs to run on")
    def test_one_loop_per_cpu_keeps_each_loop_to_a_cpu_of_its_own(self):
        """server.pin_loops auto: with as many loops as CPUs the daemon may run on, each loop's
        thread keeps to one of those CPUs, each to another (left to the scheduler, two loops were
        often stacked on one CPU while the other ran something else); with more loops than
        CPUs, or pin_loops off, every loop may run on every CPU."""
        cpus = set(sorted(os.sched_getaffinity(0))[:2])

        def loop_cpus(d):
            # Loop 0 is the main thread (its tid is the pid); others may share its name (a
            # sanitizer's background thread does), so it is found by tid, loop k by its name.
            task = f"/proc/{d.proc.pid}/task"
            found = {}
            for tid in os.listdir(task):
                with open(os.path.join(task, tid, "comm")) as f:
                    name = f.read().strip()
                if int(tid) == d.proc.pid:
                    found["skirmishd"] = os.sched_getaffinity(int(tid))
                elif name.startswith("skirmish-loop"):
                    found[name] = os.sched_getaffinity(int(tid))
            return found

        with Daemon("--state-file", "", "--io-threads", "2", cpus=cpus) as d:
            # Each loop's thread names and pins itself as it starts: wait for both (bounded).
            self.assertTrue(wait_until(lambda: len(loop_cpus(d)) == 2 and all(len(c) == 1 for c in loop_cpus(d).values())),
                            loop_cpus(d))
            found = loop_cpus(d)
            self.assertEqual(sorted(found), ["skirmish-loop1", "skirmishd"])
            self.assertEqual(found["skirmishd"] | found["skirmish-loop1"], cpus)
            d.wait_for_log(r"each kept to its own CPU: \d+, \d+ \(server.pin_loops\)")
            # The send scheduler's load counts both loops' CPUs, not the one its own thread keeps
            # to (that read twice the load, and shed frames at half the load it should).
            quota = cgroup_cpu_quota()
            want = 2 if quota is None or quota >= 2 else quota
            self.assertTrue(wait_until(lambda: d.metrics()["skirmish_cpu_allowed_cores"] > 0))
            self.assertAlmostEqual(d.metrics()["skirmish_cpu_allowed_cores"], want, places=2)
        for args in (["--io-threads", "2", "--pin-loops", "off"], ["--io-threads", "3"]):
            with Daemon("--state-file", "", *args, cpus=cpus) as d:
                n = int(args[1])
                # Each further loop's thread names itself as it starts: until then it is "skirmishd".
                self.assertTrue(wait_until(lambda: len(loop_cpus(d)) == n), loop_cpus(d))
                for name, allowed in loop_cpus(d).items():
                    self.assertEqual(allowed, cpus, f"{args}: {name}")
                # Serving, before it is stopped: a ThreadSanitizer build sent SIGTERM within
                # milliseconds of its start sometimes never handles it (seen 1 in 3 on the
                # daemon from before server.pin_loops too).
                self.assertEqual(d.metrics()["skirmish_event_loops"], n)


class WorldsOnLoops(unittest.TestCase):
    def test_two_worlds_step_on_two_loops_at_their_own_rate(self):
        """World i lives on loop i mod io_threads: with two loops, each world's simulation runs
        on its own thread (seen from /proc), and both keep 20 ticks a second."""
        monsters = "3000" if SANITIZED else "10000"  # a simulation heavy enough to show in /proc
        d = Daemon("--io-threads", "2", "--worlds", "2", "--monsters", monsters, "--state-file", "").start()
        try:
            with urllib.request.urlopen(d.url("/worlds"), timeout=TIMEOUT) as r:
                listed = {w["name"]: w for w in json.load(r)["worlds"]}
            self.assertEqual(listed["world-1"]["loop"], 0)
            self.assertEqual(listed["world-2"]["loop"], 1)
            m0, before, t0 = d.metrics(), thread_cpu(d.proc.pid), time.monotonic()
            # Bounded: the window ends after 4 s of wall time whatever the daemon does.
            time.sleep(4)
            m1, after, t1 = d.metrics(), thread_cpu(d.proc.pid), time.monotonic()
            for world in ("world-1", "world-2"):
                self.assertEqual(m1[f'skirmish_world_loop{{world="{world}"}}'], listed[world]["loop"])
                key = f'skirmish_ticks_total{{world="{world}"}}'
                rate = (m1[key] - m0[key]) / (t1 - t0)
                self.assertGreater(rate, 18, f"{world}: {rate:.1f} ticks/s")
                self.assertLess(rate, 22, f"{world}: {rate:.1f} ticks/s")
            used = sorted((after[t] - before.get(t, 0) for t in after), reverse=True)
            # Nobody is connected: the work is the two simulations. On one loop one thread
            # would do both; here each of the two busiest threads does a good share.
            self.assertGreaterEqual(sum(used), 10, f"CPU ticks by thread: {used}")
            self.assertGreaterEqual(used[1], 0.3 * sum(used), f"CPU ticks by thread: {used}")
        finally:
            self.assertEqual(d.stop(), 0)


    def test_inputs_from_every_loop_reach_each_world_in_arrival_order(self):
        """Inputs read on any loop go to their world's queue, without the game's lock, and are
        applied at its next tick in the order they came: the last of a burst wins."""
        d = Daemon("--io-threads", "2", "--worlds", "2", "--monsters", "0", "--obstacles", "0",
                   "--state-file", "").start()
        try:
            async def player(world, name):
                ws = await websockets.connect(d.ws_url(f"/ws?world={world}"), max_queue=None, open_timeout=TIMEOUT)
                await ws.send(json.dumps({"type": "join", "name": name}))
                me, pos, tick = None, None, None
                while pos is None:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
                    if msg["type"] == "welcome":
                        me = msg["id"]
                    elif msg["type"] == "tick" and me is not None:
                        for e in msg["entities"]:
                            if e["id"] == me:
                                pos, tick = (e["x"], e["y"]), msg["tick"]
                start = pos
                # One burst: right, left, then down. Applied in order, "down" is what holds.
                for move in ([1, 0], [-1, 0], [0, 1]):
                    await ws.send(json.dumps({"type": "input", "move": move}))
                while msg["type"] != "tick" or msg["tick"] < tick + 12:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
                    if msg["type"] == "tick":
                        for e in msg["entities"]:
                            if e["id"] == me and "x" in e:
                                pos = (e.get("x", pos[0]), e.get("y", pos[1]))
                await ws.close()
                return pos[0] - start[0], pos[1] - start[1]

            # Four connections dealt over two loops: each world has players read on both loops.
            async def all_players():
                return await asyncio.gather(*(player(w, f"p{i}") for i, w in
                                              enumerate(["world-1", "world-1", "world-2", "world-2"])))
            moves = run(all_players())
            for dx, dy in moves:
                self.assertGreater(dy, 50, moves)        # about 10 units a tick for 10+ ticks
                self.assertLessEqual(abs(dx), 10.5, moves)  # at most one tick of an earlier move
            m = d.metrics()
            self.assertEqual(m["skirmish_inputs_total"] + m.get("skirmish_inputs_dropped_total", 0), 12)
        finally:
            self.assertEqual(d.stop(), 0)


class Stopping(unittest.TestCase):
    def test_a_graceful_stop_reaches_every_loop(self):
        """SIGTERM with WebSockets and long polls on every loop: each WebSocket gets 1001, each
        polling session the notice `closing` with Connection: close, and the daemon is done well inside its
        grace (nothing waits for the grace to run out)."""
        d = Daemon("--io-threads", "3", "--shutdown-grace-ms", "8000", "--state-file", "").start()

        async def keep_polling(session, stopped, polling):
            """Long polls one after another on one connection, as the polling client does: a tick
            answers each (every tick is news), and the next one is asked at once. Returns the
            answer that came with Connection: close (head, body), or None if the daemon closed the
            connection while no poll was waiting on it (between an answer and the next request)."""
            reader, writer = await asyncio.open_connection("127.0.0.1", d.port)
            try:
                for _ in range(2000):
                    writer.write(f"GET /session/{session}/longpoll?timeout=20 HTTP/1.1\r\nHost: t\r\n\r\n".encode())
                    try:
                        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
                    except asyncio.IncompleteReadError as e:
                        self.assertTrue(stopped.is_set(), "closed before the stop")
                        self.assertEqual(e.partial, b"")
                        return None
                    length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
                    body = await reader.readexactly(length)
                    if b"Connection: close" in head:
                        self.assertTrue(stopped.is_set(), head)
                        return head, json.loads(body)
                    if not polling.done():
                        polling.set_result(True)
                self.fail("the long polls never saw the stop")
            finally:
                writer.close()

        async def go():
            sockets = []
            for _ in range(6):
                ws = await websockets.connect(d.ws_url(), max_queue=None, open_timeout=TIMEOUT)
                await asyncio.wait_for(ws.recv(), TIMEOUT)
                sockets.append(ws)
            loop = asyncio.get_running_loop()
            stopped = asyncio.Event()
            polls, polling = [], []
            for _ in range(6):
                # Each session's long polls on a connection of its own: dealt over the loops.
                status, body = await loop.run_in_executor(None, lambda: http(d, "POST", "/session", {"type": "watch"}))
                assert status == 200, body
                polling.append(loop.create_future())
                polls.append(asyncio.create_task(keep_polling(json.loads(body)["session"], stopped, polling[-1])))
            await asyncio.wait_for(asyncio.gather(*polling), TIMEOUT)  # each has had an answer
            per_loop = {k: v for k, v in d.metrics().items() if k.startswith("skirmish_loop_connections{")}
            self.assertTrue(all(v >= 2 for v in per_loop.values()), per_loop)
            started = time.monotonic()
            stopped.set()
            d.proc.send_signal(signal.SIGTERM)
            codes = []
            for ws in sockets:
                try:
                    while True:
                        await asyncio.wait_for(ws.recv(), TIMEOUT)
                except websockets.exceptions.ConnectionClosed as e:
                    codes.append(e.code)
            answers = await asyncio.gather(*polls)
            return codes, answers, started

        codes, answers, started = run(go())
        self.assertEqual(codes, [1001] * 6)
        # Each session, whichever loop holds it, is told: its waiting poll at once, or (between
        # an answer and its next poll) the next poll, which the stop's last call still answers.
        self.assertNotIn(None, answers)
        for head, body in answers:
            self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
            self.assertEqual(body[0], {"type": "closing", "code": 1001, "reason": "server shutting down"}, body)
        self.assertEqual(d.proc.wait(timeout=15), 0)
        self.assertLess(time.monotonic() - started, 5, "the stop waited for its grace to run out")


def http(d, method, path, body=None):
    payload = json.dumps(body).encode() if body is not None else b""
    with d.connect() as s:
        s.sendall(f"{method} {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                  f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode() + payload)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), rest


def thread_cpu(pid):
    """CPU time (clock ticks) of each thread of `pid`, from /proc."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[int(tid)] = int(fields[11]) + int(fields[12])  # utime + stime
        except OSError:
            pass
    return out


def d_get(d, path):
    with d.connect() as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data.partition(b"\r\n\r\n")[2]


if __name__ == "__main__":
    unittest.main()
