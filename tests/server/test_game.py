"""The monster fight over real WebSockets: joining, ticks, attacks seen by everyone in view,
pacing, input limits, bad messages, reconnecting with a token, and surviving a restart."""
import asyncio
import json
import math
import os
import signal
import tempfile
import time
import unittest

import websockets

from daemon import Daemon

TIMEOUT = 5


class Client:
    """A game client that applies tick frames to its own copy of the world it can see."""

    def __init__(self, ws):
        self.ws = ws
        self.entities = {}
        self.last_tick = None
        self.gaps = 0
        self.ticks = []  # (tick, frame) in arrival order
        self.other = []  # non-tick messages

    @classmethod
    async def connect(cls, url):
        c = cls(await websockets.connect(url, max_size=None))
        hello = await c.recv_type("hello")
        c.hello = hello
        return c

    async def recv(self):
        msg = json.loads(await asyncio.wait_for(self.ws.recv(), TIMEOUT))
        if msg["type"] == "tick":
            self.apply(msg)
        else:
            self.other.append(msg)
        return msg

    async def recv_type(self, kind, limit=2000):
        for _ in range(limit):
            msg = await self.recv()
            if msg["type"] == kind:
                return msg
        raise AssertionError(f"no {kind} message")

    def apply(self, frame):
        if self.last_tick is not None and frame["tick"] != self.last_tick + 1:
            self.gaps += 1
        self.last_tick = frame["tick"]
        self.ticks.append((frame["tick"], frame))
        for e in frame["entities"]:
            self.entities.setdefault(e["id"], {}).update(e)
        for rid in frame["removed"]:
            self.entities.pop(rid, None)

    async def send(self, **msg):
        await self.ws.send(json.dumps(msg))

    async def join(self, name, token=None):
        msg = {"type": "join", "name": name}
        if token:
            msg["token"] = token
        await self.ws.send(json.dumps(msg))
        return await self.recv_type("welcome")

    async def close(self):
        await self.ws.close()


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


class Fight(unittest.TestCase):
    def test_walking_up_to_a_monster_gets_attacked_and_every_client_sees_the_same_attack(self):
        async def scenario(d):
            a = await Client.connect(d.ws_url())
            b = await Client.connect(d.ws_url())
            wa = await a.join("alice")
            wb = await b.join("bob")
            me = wa["id"]
            attack = None
            for _ in range(20 * 30):  # at most ~30 s of ticks
                frame = await a.recv_type("tick")
                mine = a.entities.get(me)
                monsters = [e for e in a.entities.values() if e["kind"] != "player" and e.get("hp", 0) > 0]
                hits = [ev for ev in frame["events"] if ev["type"] == "attack" and ev["target"] == me]
                if hits:
                    attack = (frame["tick"], hits[0])
                    break
                if mine and monsters:
                    m = min(monsters, key=lambda e: math.hypot(e["x"] - mine["x"], e["y"] - mine["y"]))
                    dx, dy = m["x"] - mine["x"], m["y"] - mine["y"]
                    n = math.hypot(dx, dy) or 1
                    await a.send(type="input", move=[dx / n, dy / n], attack=False)
            self.assertIsNotNone(attack, "alice walked to the monster but was never attacked")
            tick, event = attack
            self.assertNotEqual(event["attacker"], me)
            self.assertGreater(event["damage"], 0)
            # bob, also in view, must have the very same event in the very same tick.
            for _ in range(20 * 10):
                if b.last_tick is not None and b.last_tick >= tick:
                    break
                await b.recv()
            frames_b = dict(b.ticks)
            self.assertIn(tick, frames_b)
            self.assertIn(event, frames_b[tick]["events"])
            self.assertNotEqual(wb["id"], me)
            # alice's own hp went down in her view of the world.
            self.assertLess(a.entities[me]["hp"], a.entities[me]["max_hp"])
            await a.close()
            await b.close()

        # A small world where everyone sees everything, one monster, no rocks in the way.
        with Daemon("--world-size", "900", "--monsters", "1", "--obstacles", "0", "--view-radius", "2000") as d:
            run(scenario(d))


class Ticks(unittest.TestCase):
    def test_one_frame_per_tick_at_the_configured_rate_with_tick_and_ts(self):
        async def scenario(d):
            c = await Client.connect(d.ws_url())
            first_frame = await c.recv_type("tick")
            start = time.monotonic()
            first = c.last_tick
            while time.monotonic() - start < 2.0:
                frame = await c.recv_type("tick")
                self.assertIn("ts", frame)
                self.assertLess(abs(frame["ts"] - time.time() * 1000), 2000)
            # Between the first and the last frame's making (the server's clock): this client's
            # own delays in reading do not count.
            elapsed = (frame["ts"] - first_frame["ts"]) / 1000
            frames = c.last_tick - first
            # Every tick, except where the daemon chose not to send (a late turn's ticks go
            # out in one frame): game time is what counts.
            self.assertLessEqual(c.gaps, d.ticks_not_sent())
            self.assertLessEqual(abs(frames - 20 * elapsed), 1.5, (frames, elapsed))
            await c.close()

        with Daemon("--tick-rate", "20") as d:
            run(scenario(d))

    def test_spectator_sees_monsters_moving(self):
        async def scenario(d):
            c = await Client.connect(d.ws_url())
            await c.recv_type("tick")
            first = {i: (e["x"], e["y"]) for i, e in c.entities.items()}
            self.assertGreater(len(first), 0)
            for _ in range(40):
                await c.recv_type("tick")
            moved = [i for i, e in c.entities.items() if i in first and (e["x"], e["y"]) != first[i]]
            self.assertGreater(len(moved), 0)
            self.assertTrue(all(e["kind"] != "player" for e in c.entities.values()))
            await c.close()

        with Daemon("--tick-rate", "40") as d:
            run(scenario(d))


class Messages(unittest.TestCase):
    def test_bad_messages_get_errors_then_close_1008(self):
        async def scenario(d):
            c = await Client.connect(d.ws_url())
            await c.send(type="nope")
            err = await c.recv_type("error")
            self.assertEqual(err["code"], "unknown_type")
            await c.ws.send("{")
            self.assertEqual((await c.recv_type("error"))["code"], "bad_json")
            await c.send(type="input", move="left")
            self.assertEqual((await c.recv_type("error"))["code"], "bad_field")
            with self.assertRaises(websockets.ConnectionClosed):
                for _ in range(1000):
                    await c.recv()
            self.assertEqual(c.ws.close_code, 1008)

        with Daemon("--bad-message-limit", "3") as d:
            run(scenario(d))
            self.assertTrue(d.alive())

    def test_ping_is_answered_with_pong(self):
        async def scenario(d):
            c = await Client.connect(d.ws_url())
            await c.send(type="ping", t=12345.5)
            pong = await c.recv_type("pong")
            self.assertEqual(pong["t"], 12345.5)
            self.assertLess(abs(pong["server_ts"] - time.time() * 1000), 2000)
            await c.close()

        with Daemon() as d:
            run(scenario(d))

    def test_input_before_join_is_refused(self):
        async def scenario(d):
            c = await Client.connect(d.ws_url())
            await c.send(type="input", move=[1, 0])
            self.assertEqual((await c.recv_type("error"))["code"], "not_joined")
            await c.close()

        with Daemon() as d:
            run(scenario(d))

    def test_movement_is_clamped_to_player_speed(self):
        async def scenario(d):
            c = await Client.connect(d.ws_url())
            # The hello says the rules of a player's body, for a client's prediction.
            self.assertEqual(c.hello["player"], {"speed": 200, "max_hp": 100, "damage": 20, "attack_range": 80,
                                                 "attack_cooldown_ms": 500, "respawn_ms": 1500,
                                                 "spawn_protection_ms": 3000})
            me = (await c.join("runner"))["id"]
            await c.recv_type("tick")
            start = dict(c.entities[me])
            # A huge vector is clamped to a unit direction: speed stays 200 units/s.
            await c.send(type="input", move=[1000, 0])
            t0 = c.last_tick
            while c.last_tick < t0 + 20:
                await c.recv_type("tick")
            moved = math.hypot(c.entities[me]["x"] - start["x"], c.entities[me]["y"] - start["y"])
            ticks = c.last_tick - t0
            self.assertGreater(moved, 0)
            self.assertLessEqual(moved, 200 / 20 * ticks + 1e-6 + 10)
            await c.close()

        with Daemon("--monsters", "0", "--obstacles", "0", "--player-respawn-ms", "1500") as d:
            run(scenario(d))


class InputAck(unittest.TestCase):
    def test_frames_say_which_numbered_input_was_applied_and_from_which_tick_it_moved_us(self):
        # The demo's prediction rests on this: the position in a frame with tick T is where
        # the acknowledged input's motion has taken us after T - ack.tick + 1 steps.
        async def scenario(d):
            c = await Client.connect(d.ws_url())
            me = (await c.join("acker"))["id"]
            while me not in c.entities:
                await c.recv_type("tick")
            x0, y0 = c.entities[me]["x"], c.entities[me]["y"]
            await c.send(type="input", seq=41, move=[1, 0])
            frame = await c.recv_type("tick")
            while "ack" not in frame:
                frame = await c.recv_type("tick")
            self.assertEqual(frame["ack"]["seq"], 41)
            started = frame["ack"]["tick"]
            self.assertLessEqual(started, frame["tick"])
            # A repeat of the held movement (a held key) is acknowledged with the tick that
            # movement began at, not its own.
            await c.send(type="input", seq=43, move=[1, 0])
            frame = await c.recv_type("tick")
            while "ack" not in frame:
                frame = await c.recv_type("tick")
            self.assertEqual(frame["ack"], {"seq": 43, "tick": started})
            for _ in range(5):  # said once; every later position follows from it
                self.assertAlmostEqual(c.entities[me]["x"], x0 + 10 * (frame["tick"] - started + 1), delta=0.11)
                self.assertEqual(c.entities[me]["y"], y0)
                frame = await c.recv_type("tick")
                self.assertNotIn("ack", frame)
            # An input without a seq is applied, and not acknowledged.
            await c.send(type="input", move=[0, 1])
            moved_on = False
            for _ in range(10):
                frame = await c.recv_type("tick")
                self.assertNotIn("ack", frame)
                moved_on = moved_on or c.entities[me]["y"] > y0
            self.assertTrue(moved_on)
            await c.send(type="input", seq=42, move=[0, 0])
            frame = await c.recv_type("tick")
            while "ack" not in frame:
                frame = await c.recv_type("tick")
            self.assertEqual(frame["ack"]["seq"], 42)
            stopped_at = dict(c.entities[me])
            for _ in range(3):
                await c.recv_type("tick")
            self.assertEqual((c.entities[me]["x"], c.entities[me]["y"]), (stopped_at["x"], stopped_at["y"]))
            await c.close()

        with Daemon("--monsters", "0", "--obstacles", "0", "--safe-zone-radius", "0") as d:
            run(scenario(d))


class Reconnect(unittest.TestCase):
    def test_token_gives_back_the_same_player(self):
        async def scenario(d):
            c = await Client.connect(d.ws_url())
            w = await c.join("carol")
            me, token = w["id"], w["token"]
            await c.send(type="input", move=[1, 0])
            t0 = (await c.recv_type("tick"))["tick"]
            while c.last_tick < t0 + 10:
                await c.recv_type("tick")
            await c.send(type="input", move=[0, 0])
            t1 = c.last_tick
            while c.last_tick < t1 + 3:
                await c.recv_type("tick")
            before = dict(c.entities[me])
            await c.close()

            c2 = await Client.connect(d.ws_url())
            w2 = await c2.join("someone else", token=token)
            self.assertTrue(w2["resumed"])
            self.assertEqual(w2["id"], me)
            await c2.recv_type("tick")
            after = c2.entities[me]
            self.assertEqual(after["name"], "carol")
            self.assertAlmostEqual(after["x"], before["x"], delta=0.2)
            self.assertAlmostEqual(after["y"], before["y"], delta=0.2)
            self.assertEqual(after["hp"], before["hp"])
            self.assertEqual(after["score"], before["score"])
            await c2.close()

            # A made-up token just gives a new player.
            c3 = await Client.connect(d.ws_url())
            w3 = await c3.join("dave", token="0" * 32)
            self.assertFalse(w3["resumed"])
            self.assertNotEqual(w3["id"], me)
            await c3.close()

        with Daemon("--monsters", "0", "--obstacles", "0") as d:
            run(scenario(d))

    def test_after_the_window_the_player_is_gone(self):
        async def scenario(d):
            c = await Client.connect(d.ws_url())
            w = await c.join("erin")
            await c.close()
            watcher = await Client.connect(d.ws_url())
            # The player (away, so already not counted online) leaves the world once the
            # 300 ms window is over.
            for _ in range(200):
                frame = await watcher.recv_type("tick")
                if w["id"] in frame["removed"]:
                    break
            self.assertIn(w["id"], frame["removed"])
            self.assertEqual(frame["players"], 0)
            c2 = await Client.connect(d.ws_url())
            w2 = await c2.join("erin", token=w["token"])
            self.assertFalse(w2["resumed"])
            await c2.close()
            await watcher.close()

        with Daemon("--monsters", "0", "--reconnect-window-ms", "300", "--view-radius", "5000") as d:
            run(scenario(d))

    def test_players_survive_a_restart(self):
        async def join(url):
            c = await Client.connect(url)
            w = await c.join("frank")
            await c.recv_type("tick")
            pos = (c.entities[w["id"]]["x"], c.entities[w["id"]]["y"])
            await c.close()
            return w, pos

        async def rejoin(url, token):
            c = await Client.connect(url)
            w = await c.join("frank", token=token)
            await c.recv_type("tick")
            e = c.entities.get(w["id"])
            await c.close()
            return w, e

        with tempfile.TemporaryDirectory() as tmp:
            state = os.path.join(tmp, "players.json")
            args = ("--monsters", "0", "--state-file", state)
            # A temporary file left by a crash, readable by all: the save still ends up private.
            with open(state + ".tmp", "w") as f:
                f.write("{}")
            os.chmod(state + ".tmp", 0o644)
            d = Daemon(*args).start()
            try:
                w, pos = run(join(d.ws_url()))
                self.assertEqual(d.stop(), 0)
                self.assertTrue(os.path.exists(state))
                # It holds the players' tokens: for the daemon's user only.
                self.assertEqual(os.stat(state).st_mode & 0o077, 0, oct(os.stat(state).st_mode))
            finally:
                d.kill()
            d2 = Daemon(*args).start()
            try:
                w2, e = run(rejoin(d2.ws_url(), w["token"]))
                self.assertTrue(w2["resumed"])  # (under a fresh id: saved ids are not trusted)
                self.assertEqual(e["name"], "frank")
                self.assertAlmostEqual(e["x"], pos[0], delta=0.2)
                self.assertAlmostEqual(e["y"], pos[1], delta=0.2)
            finally:
                self.assertEqual(d2.stop(), 0)

    def test_a_save_is_restored_once_and_a_crash_after_it_restores_nothing(self):
        # Found by an audit: the file stayed, so a kill -9 (or a crash loop) within the window
        # brought back the save of two runs ago, with players who had left since.
        async def join(url, token=None):
            c = await Client.connect(url)
            w = await c.join("grace", token=token)
            await c.close()
            return w

        with tempfile.TemporaryDirectory() as tmp:
            state = os.path.join(tmp, "players.json")
            args = ("--monsters", "0", "--state-file", state)
            d = Daemon(*args).start()
            try:
                w = run(join(d.ws_url()))
                self.assertEqual(d.stop(), 0)
            finally:
                d.kill()
            os.chmod(state, 0o644)  # as an older build wrote it
            d2 = Daemon(*args).start()
            try:
                self.assertTrue(run(join(d2.ws_url(), w["token"]))["resumed"])
                self.assertFalse(os.path.exists(state))  # read, and moved aside
                self.assertTrue(os.path.exists(state + ".restored"))
                self.assertEqual(os.stat(state + ".restored").st_mode & 0o077, 0)
            finally:
                d2.kill()  # no save
            d3 = Daemon(*args).start()
            try:
                again = run(join(d3.ws_url(), w["token"]))
                self.assertFalse(again.get("resumed", False), again)
                self.assertNotEqual(again["token"], w["token"])
            finally:
                self.assertEqual(d3.stop(), 0)


class Signals(unittest.TestCase):
    """SIGHUP (a closed terminal) and SIGQUIT stop the daemon as SIGTERM does, SIGUSR1 and SIGUSR2
    are ignored, and signals that keep
    coming while it saves do not kill the save (found by an audit: both lost every player)."""

    def saved_tokens(self, state):
        with open(state) as f:
            return {p["token"] for p in json.load(f)["players"]}

    def stops_with_1001_saving_the_players(self, sig, meanwhile=None):
        """Joins a player, runs `meanwhile(d, client)` if given, stops the daemon with `sig`
        while the client answers the close: exit 0, close 1001, the player saved."""
        async def play(d):
            c = await Client.connect(d.ws_url())
            w = await c.join("signalled")
            await c.recv_type("tick")
            if meanwhile:
                await meanwhile(d, c)
            code = await asyncio.to_thread(d.stop, sig)
            await c.ws.wait_closed()
            return w, code, c.ws.close_code

        with tempfile.TemporaryDirectory() as tmp:
            state = os.path.join(tmp, "players.json")
            d = Daemon("--monsters", "0", "--state-file", state).start()
            try:
                w, code, close_code = run(play(d))
                self.assertEqual(code, 0, "".join(d.lines[-20:]))
                self.assertEqual(close_code, 1001)
                d.wait_for_log(rf"received {sig.name}, shutting down")
                self.assertIn(w["token"], self.saved_tokens(state))
            finally:
                d.kill()

    def test_sighup_closes_with_1001_and_saves_the_players(self):
        self.stops_with_1001_saving_the_players(signal.SIGHUP)

    def test_user_signals_are_ignored_and_sigquit_stops_saving_the_players(self):
        # An audit: SIGUSR1 (nginx's "reopen the logs", sent by many logrotate hooks) ended the
        # daemon at once with its default action, and every player since the start was lost.
        async def user_signals(d, c):
            for sig in (signal.SIGUSR1, signal.SIGUSR2):
                d.proc.send_signal(sig)
                d.wait_for_log(rf"received {sig.name}: ignored")
            # Still playing: ticks keep coming on the same connection.
            first = (await c.recv_type("tick"))["tick"]
            self.assertGreater((await c.recv_type("tick"))["tick"], first)

        self.stops_with_1001_saving_the_players(signal.SIGQUIT, user_signals)

    def test_under_nohup_sighup_is_ignored(self):
        # `nohup skirmishd`: started with SIGHUP ignored, it stays so (libuv would take it over).
        old = signal.signal(signal.SIGHUP, signal.SIG_IGN)
        try:
            d = Daemon("--monsters", "0", "--state-file", "").start()
        finally:
            signal.signal(signal.SIGHUP, old)
        try:
            # SIGHUP, then SIGTERM: the daemon's signals are read in the order they came, so
            # the stop is SIGTERM's and the first it heard of.
            d.proc.send_signal(signal.SIGHUP)
            self.assertEqual(d.stop(signal.SIGTERM), 0, "".join(d.lines[-20:]))
            d.wait_for_log(r"received SIGTERM, shutting down")
            self.assertNotIn("received SIGHUP", "".join(d.lines))
        finally:
            d.kill()

    def test_signals_that_keep_coming_while_it_saves_do_not_stop_the_save(self):
        async def leave_away(url, name):
            c = await Client.connect(url)
            w = await c.join(name)
            await c.close()  # away: held for its reconnect window, and saved at the stop
            return w["token"]

        with tempfile.TemporaryDirectory() as tmp:
            state = os.path.join(tmp, "players.json")
            d = Daemon("--monsters", "0", "--state-file", state).start()
            try:
                tokens = {run(leave_away(d.ws_url(), f"away{i}")) for i in range(3)}
                # With no connection left the stop reaches the save at once: a signal a
                # millisecond later lands in it.
                for _ in range(200):
                    try:
                        d.proc.send_signal(signal.SIGTERM)
                    except ProcessLookupError:
                        break
                    if d.proc.poll() is not None:
                        break
                    time.sleep(0.001)
                self.assertEqual(d.stop(), 0, "".join(d.lines[-20:]))
                self.assertEqual(self.saved_tokens(state), tokens)
            finally:
                d.kill()


class Ghosts(unittest.TestCase):
    def test_a_disconnected_player_is_away_and_not_online_until_it_comes_back(self):
        async def scenario(d):
            watcher = await Client.connect(d.ws_url())
            a = await Client.connect(d.ws_url())
            w = await a.join("ghost")
            me = w["id"]
            frame = await watcher.recv_type("tick")
            while me not in watcher.entities:
                frame = await watcher.recv_type("tick")
            self.assertIs(watcher.entities[me]["away"], False)
            self.assertEqual(frame["players"], 1)
            await a.close()
            for _ in range(100):
                frame = await watcher.recv_type("tick")
                if watcher.entities[me].get("away"):
                    break
            self.assertIs(watcher.entities[me]["away"], True, "a disconnected player still looks connected")
            self.assertEqual(frame["players"], 0, "an away player still counts as online")
            a2 = await Client.connect(d.ws_url())
            w2 = await a2.join("ghost", token=w["token"])
            self.assertTrue(w2["resumed"])
            for _ in range(100):
                frame = await watcher.recv_type("tick")
                if watcher.entities[me].get("away") is False:
                    break
            self.assertIs(watcher.entities[me]["away"], False)
            self.assertEqual(frame["players"], 1)
            await a2.close()
            await watcher.close()

        with Daemon("--monsters", "0", "--view-radius", "5000", "--reconnect-window-ms", "20000") as d:
            run(scenario(d))

    def test_a_dead_player_is_told_when_and_where_it_comes_back(self):
        deadly = {"game": {"monster_kinds": [{
            "name": "reaper", "speed": 400, "max_hp": 1000, "damage": 1000, "attack_range": 60,
            "aggro_radius": 3000, "leash_range": 5000, "attack_cooldown_ms": 100, "respawn_ms": 1000,
            "weight": 1}]}}
        folder = tempfile.mkdtemp()
        path = os.path.join(folder, "deadly.json")
        with open(path, "w") as f:
            json.dump(deadly, f)

        async def scenario(d):
            c = await Client.connect(d.ws_url())
            w = await c.join("doomed")
            me = w["id"]
            death = None
            for _ in range(20 * 20):
                frame = await c.recv_type("tick")
                mine = next((e for e in frame["entities"] if e["id"] == me and e.get("state") == "dead"), None)
                if mine:
                    death = (frame["tick"], mine)
                    break
            self.assertIsNotNone(death, "the reaper never killed the player")
            tick, mine = death
            # 2000 ms at 20 Hz: back 40 ticks after the step that killed it.
            self.assertEqual(mine["respawn_tick"], tick + 40)
            rx, ry = mine["respawn_x"], mine["respawn_y"]
            while c.last_tick < mine["respawn_tick"]:
                frame = await c.recv_type("tick")
                if c.last_tick < mine["respawn_tick"]:
                    self.assertEqual(c.entities[me]["state"], "dead")
            self.assertEqual(frame["tick"], mine["respawn_tick"])
            back = c.entities[me]
            self.assertNotEqual(back["state"], "dead")
            self.assertAlmostEqual(back["x"], rx, delta=0.11)
            self.assertAlmostEqual(back["y"], ry, delta=0.11)
            await c.close()

        with Daemon("--config", path, "--world-size", "1000", "--monsters", "1", "--obstacles", "0",
                    "--safe-zone-radius", "0", "--spawn-protection-ms", "0", "--player-respawn-ms", "2000",
                    "--view-radius", "3000") as d:
            run(scenario(d))

    def test_hello_describes_the_safe_camp(self):
        async def scenario(d):
            c = await Client.connect(d.ws_url())
            zone = c.hello["world"]["safe_zone"]
            self.assertEqual((zone["x"], zone["y"], zone["radius"]), (1600, 1600, 250))
            w = await c.join("camper")
            await c.recv_type("tick")
            mine = c.entities[w["id"]]
            self.assertLessEqual(math.hypot(mine["x"] - 1600, mine["y"] - 1600), 250)
            await c.close()

        with Daemon() as d:
            run(scenario(d))


if __name__ == "__main__":
    unittest.main()


class Overload(unittest.TestCase):
    def test_a_tick_loop_that_falls_behind_still_serves_sockets(self):
        # Ticks that take longer than their period (many monsters, 128 Hz): the loop is always
        # behind, and must still accept connections, answer HTTP and let players join.
        async def scenario(d):
            c = await Client.connect(d.ws_url())
            w = await c.join("patient")
            self.assertIn("id", w)
            await c.close()

        with Daemon("--tick-rate", "128", "--monsters", "60000", "--world-size", "30000", "--obstacles", "0",
                    "--max-catch-up-ticks", "3", log_level="info") as d:
            d.wait_for_log("tick loop fell behind", timeout=20)
            start = time.monotonic()
            with d.connect(timeout=5) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                self.assertTrue(s.recv(64).startswith(b"HTTP/1.1 200"))
            run(scenario(d))
            self.assertLess(time.monotonic() - start, 10)
