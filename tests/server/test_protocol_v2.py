"""Protocol v2 against the real daemon: the subprotocol skirmish.v2 is negotiated as
docs/protocol.md says, its ticks arrive as one binary message per tick while everything else
stays JSON text, clients that offer nothing keep v1 unchanged, and the same players cost far
fewer bytes on v2. skirmish-load's C++ decoder follows a v2 stream of fighting players with
its view consistent (a delta for an unknown entity or a bad frame would count)."""
import asyncio
import json
import os
import subprocess
import tempfile
import unittest

import websockets

from daemon import Daemon

LOAD = os.path.abspath(os.environ.get("SKIRMISH_LOAD", "build/loadtest/skirmish-load"))


def read_varint(b, i):
    v, shift = 0, 0
    while True:
        byte = b[i]
        i += 1
        v |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return v, i


def unzigzag(u):
    return (u >> 1) ^ -(u & 1)


class TickHeaders:
    """Reads the head, tick and ts of v2 tick messages (the rest is the C++ and JS decoders'
    business): enough to check one message per tick. `ack` is the last frame's ACK, as
    (seq, tick), or None."""

    def __init__(self):
        self.tick = None
        self.ts = None
        self.ack = None

    def read(self, b):
        head = b[0]
        assert head & 0x0F == 1, f"not a tick: head {head:#x}"
        tick, i = read_varint(b, 1)
        ts, i = read_varint(b, i)
        if head & 0x20:  # ABSOLUTE
            self.tick, self.ts = tick, ts
        else:
            assert self.tick is not None, "a relative frame first"
            self.tick += tick
            self.ts += unzigzag(ts)
        self.ack = None
        if head & 0x40:  # PLAYERS
            _, i = read_varint(b, i)
        if head & 0x80:  # ACK
            seq, i = read_varint(b, i)
            ago, i = read_varint(b, i)
            self.ack = (seq, self.tick - ago)
        return head, self.tick, self.ts


async def collect(url, subprotocols, frames, join=None):
    """Connects offering `subprotocols`, optionally joins, and returns (selected subprotocol,
    the first message, the next `frames` tick messages, the bytes of those messages)."""
    async with websockets.connect(url, subprotocols=subprotocols, max_size=None) as ws:
        hello = await asyncio.wait_for(ws.recv(), 5)
        if join:
            await ws.send(json.dumps({"type": "join", "name": join}))
        ticks = []
        while len(ticks) < frames:
            m = await asyncio.wait_for(ws.recv(), 5)
            if isinstance(m, bytes) or json.loads(m).get("type") == "tick":
                ticks.append(m)
        return ws.subprotocol, hello, ticks


class Negotiation(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon("--state-file", "", log_level="info").start()

    @classmethod
    def tearDownClass(cls):
        assert cls.d.stop() == 0

    def run_collect(self, subprotocols, frames=40, join=None):
        return asyncio.run(collect(self.d.ws_url(), subprotocols, frames, join))

    def test_v2_is_selected_and_ticks_are_binary_one_per_tick(self):
        selected, hello, ticks = self.run_collect(["skirmish.v2"], join="vee")
        self.assertEqual(selected, "skirmish.v2")
        self.assertIsInstance(hello, str)  # hello stays JSON text
        self.assertEqual(json.loads(hello)["type"], "hello")
        headers = TickHeaders()
        seen = []
        for t in ticks:
            self.assertIsInstance(t, bytes)
            head, tick, ts = headers.read(t)
            seen.append(tick)
        self.assertEqual(seen, list(range(seen[0], seen[0] + len(seen))), "one binary message per tick")
        self.assertTrue(ticks[0][0] & 0x20, "the first frame is ABSOLUTE")
        self.assertGreater(headers.ts, 1_600_000_000_000)

    def test_v2_frames_acknowledge_a_numbered_input_once(self):
        async def scenario():
            async with websockets.connect(self.d.ws_url(), subprotocols=["skirmish.v2"], max_size=None) as ws:
                await asyncio.wait_for(ws.recv(), 5)
                await ws.send(json.dumps({"type": "join", "name": "acker"}))
                headers, acks, sent = TickHeaders(), [], False
                for _ in range(200):
                    m = await asyncio.wait_for(ws.recv(), 5)
                    if not isinstance(m, bytes):
                        if json.loads(m)["type"] == "welcome":
                            await ws.send(json.dumps({"type": "input", "seq": 300, "move": [0, 1]}))
                            sent = True
                        continue
                    headers.read(m)
                    if headers.ack:
                        acks.append((headers.tick, headers.ack))
                    if acks and headers.tick >= acks[0][0] + 10:
                        return sent, acks
                return sent, acks

        sent, acks = asyncio.run(scenario())
        self.assertTrue(sent)
        self.assertEqual(len(acks), 1, acks)
        frame_tick, (seq, tick) = acks[0]
        self.assertEqual(seq, 300)
        self.assertLessEqual(tick, frame_tick)
        self.assertGreaterEqual(tick, frame_tick - 20)  # a late turn steps up to 20 owed ticks

    def test_no_offer_keeps_v1_json_text(self):
        selected, hello, ticks = self.run_collect(None, frames=5)
        self.assertIsNone(selected)
        for t in ticks:
            self.assertIsInstance(t, str)
            self.assertEqual(json.loads(t)["type"], "tick")

    def test_unknown_offer_alone_is_accepted_without_a_subprotocol(self):
        selected, _, ticks = self.run_collect(["skirmish.v9"], frames=3)
        self.assertIsNone(selected)
        self.assertIsInstance(ticks[0], str)

    def test_v2_among_other_offers_is_picked(self):
        selected, _, ticks = self.run_collect(["chat", "skirmish.v2"], frames=3)
        self.assertEqual(selected, "skirmish.v2")
        self.assertIsInstance(ticks[0], bytes)


class OperatorTurnsV2Off(unittest.TestCase):
    def test_without_skirmish_v2_in_the_list_everyone_gets_v1(self):
        d = Daemon("--state-file", "", "--subprotocols", "", log_level="info").start()
        try:
            selected, _, ticks = asyncio.run(collect(d.ws_url(), ["skirmish.v2"], 3))
            self.assertIsNone(selected)
            self.assertIsInstance(ticks[0], str)
        finally:
            self.assertEqual(d.stop(), 0)


class Bandwidth(unittest.TestCase):
    def test_the_same_players_cost_far_fewer_bytes_on_v2(self):
        """Half the players offer skirmish.v2, half nothing, all joined and moving in the same
        place: the v2 half receives less than a quarter of the v1 half's bytes."""
        d = Daemon("--state-file", "", log_level="info").start()
        try:
            async def player(i, v2, totals):
                subs = ["skirmish.v2"] if v2 else None
                async with websockets.connect(d.ws_url(), subprotocols=subs, max_size=None) as ws:
                    await ws.recv()
                    await ws.send(json.dumps({"type": "join", "name": f"bw{i}"}))
                    got = 0
                    seq = 0
                    while got < 60:
                        m = await asyncio.wait_for(ws.recv(), 5)
                        if isinstance(m, bytes) or json.loads(m).get("type") == "tick":
                            got += 1
                            totals[v2] += len(m.encode() if isinstance(m, str) else m)
                            if got % 10 == 0:  # change direction now and then, as a player does
                                seq += 1
                                dx = [1, 0, -1, 0][seq % 4]
                                await ws.send(json.dumps({"type": "input", "seq": seq, "dx": dx,
                                                          "dy": 1 - abs(dx), "attack": False}))

            async def run():
                totals = {True: 0, False: 0}
                await asyncio.gather(*(player(i, i % 2 == 0, totals) for i in range(8)))
                return totals

            totals = asyncio.run(run())
            self.assertGreater(totals[False], 0)
            self.assertLess(totals[True] * 4, totals[False], totals)
        finally:
            self.assertEqual(d.stop(), 0)


class LoadTesterDecodesV2(unittest.TestCase):
    def test_fighting_players_on_v2_keep_a_consistent_view(self):
        d = Daemon("--state-file", "", log_level="info").start()
        try:
            report = os.path.join(tempfile.mkdtemp(prefix="skirmish-v2-"), "r.json")
            proc = subprocess.run(
                [LOAD, "--url", d.ws_url(), "--clients", "20", "--ramp", "100", "--duration", "3",
                 "--behavior", "fight", "--protocol", "v2", "--report", report],
                capture_output=True, text=True, timeout=60)
            self.assertEqual(proc.returncode, 0, proc.stderr + proc.stdout)
            with open(report) as f:
                r = json.load(f)
            m = r["measured"]
            self.assertEqual(r["options"]["protocol"], "v2")
            self.assertEqual(m["errors"], {})
            self.assertEqual(m["unparsed_frames"], 0)
            self.assertEqual(m["view_inconsistent"], 0)
            # Ticks no frame carried: a daemon held off its CPU past a tick period (a noisy
            # machine) steps the owed ticks in one turn and frames only the last, and the next
            # v2 frame carries everything since (a 150 ms stop: 2 ticks a client, 40 in all).
            # Skipped ticks are the overload tests' business; here up to 5 % are allowed.
            self.assertLessEqual(m["missing"], m["view_frames"] // 20, m)
            self.assertGreater(m["view_frames"], 500)
            self.assertGreater(m["entities_per_view_avg"], 5)
            self.assertLess(m["bytes_per_client_per_s"], 5000)
        finally:
            self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
