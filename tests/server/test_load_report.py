"""skirmish-load's report tells the truth about what it measured.

Runs the real skirmish-load against the real daemon (clients dropped mid-window, a daemon
killed, Ctrl-C, fast inputs) and against a scripted WebSocket server that sends exactly known
frames (resyncs, a second hello, no ticks at all), and checks the view, the delivered ratio,
the window's length, the exit status and the options it refuses.
"""
import asyncio
import base64
import hashlib
import json
import os
import re
import resource
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from daemon import Daemon

LOAD = os.path.abspath(os.environ.get("SKIRMISH_LOAD", "build/loadtest/skirmish-load"))
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TICK_RATE = 20


# ---- a scripted server: every connection gets the same messages, one every 50 ms

def hello(kinds=("slime",)):
    return json.dumps({"type": "hello", "protocol": 1, "tick_rate": TICK_RATE, "view_radius": 800,
                       "world": {"name": "w", "width": 3200, "height": 3200, "obstacles": []},
                       "monster_kinds": [{"name": k} for k in kinds]})


def tick(n, entities=(), full=False):
    head = f'{{"type":"tick","tick":{n},"ts":{int(time.time() * 1000)},"players":1,'
    return head + ('"full":true,' if full else "") + f'"entities":{json.dumps(list(entities))},"removed":[]}}'


def monster(i):
    return {"id": i, "kind": "slime", "name": "", "max_hp": 40, "x": 100.0 + i, "y": 200.0, "hp": 40,
            "state": "idle", "facing": 0}


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def svarint(n):
    return varint((n << 1) ^ (n >> 63) if n < 0 else n << 1)


V2_FULL, V2_ABSOLUTE, V2_PLAYERS = 0x10, 0x20, 0x40


def v2_tick(n, entering=(), full=False, absolute=False, move_first=False):
    """A v2 tick (docs/protocol.md): entering monsters of kind 1 (slime), or (move_first) one
    update of held[0] by its prediction; tick and ts absolute or +1 tick, +50 ms."""
    head = 0x01 | (V2_FULL if full else 0) | ((V2_ABSOLUTE | V2_PLAYERS) if absolute or full else 0)
    out = bytearray([head])
    if head & V2_ABSOLUTE:
        out += varint(n) + varint(int(time.time() * 1000)) + varint(1)
    else:
        out += varint(1) + svarint(50)
    out += varint(1) + bytes([0x08, 0x00]) if move_first else varint(0)  # held[0]: form 1, no correction
    out += varint(0)  # no removals
    out += varint(len(entering))
    previous = 0
    for i in entering:
        out += varint(i - previous) + varint(1) + svarint(1000 + i * 10) + svarint(2000) + bytes([0])
        out += varint(40) + varint(40) + bytes([0]) + varint(0)
        previous = i
    out += varint(0)  # no events
    return bytes(out)


def script_resync():
    # Ten monsters, then a resync that lists one: the other nine are gone. The tick jumps (the
    # frames the server skipped), so the run also has missing ticks and must still pass.
    yield hello()
    yield tick(1, [monster(i) for i in range(1, 11)])
    n = 40
    yield tick(n, [monster(1)], full=True)
    while True:
        n += 1
        yield tick(n)


def script_second_hello():
    yield hello()
    yield tick(1, [monster(i) for i in range(1, 11)])
    yield hello()  # another world: everything held is gone
    yield tick(2, [monster(50)])
    n = 2
    while True:
        n += 1
        yield tick(n)


def script_v2_full():
    yield hello()
    yield v2_tick(1, entering=range(1, 11), absolute=True)
    yield v2_tick(40, entering=[5], full=True)
    while True:
        yield v2_tick(0, move_first=True)  # held[0]: the one monster left


def script_v2_second_hello():
    # After the second hello the held list starts over: held[0] is monster 50, not monster 1.
    yield hello()
    yield v2_tick(1, entering=range(1, 11), absolute=True)
    yield hello()
    yield v2_tick(2, entering=[50], absolute=True)
    while True:
        yield v2_tick(0, move_first=True)


def script_no_ticks():
    yield hello()
    while True:
        yield None


class ScriptedServer:
    """A WebSocket server on a loopback port, on its own thread, that plays a script to every
    connection: one message (text for str, binary for bytes, nothing for None) every 50 ms,
    until the client closes (answered as RFC 6455 asks)."""

    def __init__(self, script, subprotocol=None):
        self.script = script
        self.subprotocol = subprotocol
        self.loop = asyncio.new_event_loop()
        self.server = None
        started = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(started,), daemon=True)
        self.thread.start()
        if not started.wait(10):
            raise RuntimeError("scripted server did not start")
        self.port = self.server.sockets[0].getsockname()[1]

    def _run(self, started):
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        started.set()
        self.loop.run_forever()

    def url(self, path="/ws"):
        return f"ws://127.0.0.1:{self.port}{path}"

    def close(self):
        async def shut():
            self.server.close()
            await self.server.wait_closed()
        asyncio.run_coroutine_threadsafe(shut(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    @staticmethod
    def _frame(opcode, payload):
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([n])
        elif n < 65536:
            head += bytes([126]) + n.to_bytes(2, "big")
        else:
            head += bytes([127]) + n.to_bytes(8, "big")
        return head + payload

    async def _read_frames(self, reader, writer, closed):
        try:
            while True:
                b0, b1 = await reader.readexactly(2)
                n = b1 & 0x7F
                if n == 126:
                    n = int.from_bytes(await reader.readexactly(2), "big")
                elif n == 127:
                    n = int.from_bytes(await reader.readexactly(8), "big")
                mask = await reader.readexactly(4) if b1 & 0x80 else b"\0\0\0\0"
                payload = bytes(c ^ mask[i % 4] for i, c in enumerate(await reader.readexactly(n)))
                if b0 & 0x0F == 8:
                    writer.write(self._frame(8, payload[:2]))
                    await writer.drain()
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        closed.set()

    async def _handle(self, reader, writer):
        try:
            request = await reader.readuntil(b"\r\n\r\n")
            key = re.search(rb"(?im)^Sec-WebSocket-Key:\s*(\S+)", request).group(1)
            accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest()).decode()
            protocol = f"Sec-WebSocket-Protocol: {self.subprotocol}\r\n" if self.subprotocol else ""
            writer.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          f"Sec-WebSocket-Accept: {accept}\r\n{protocol}\r\n").encode())
            closed = asyncio.Event()
            reading = asyncio.ensure_future(self._read_frames(reader, writer, closed))
            for message in self.script():
                if closed.is_set():
                    break
                if message is not None:
                    binary = isinstance(message, bytes)
                    writer.write(self._frame(2 if binary else 1, message if binary else message.encode()))
                    await writer.drain()
                await asyncio.sleep(1 / TICK_RATE)
            await reading
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


def run_load(url, *args, timeout=60, **kwargs):
    return subprocess.run([LOAD, "--url", url, *args], capture_output=True, text=True, timeout=timeout, **kwargs)


def read_report(path):
    with open(path) as f:
        return json.load(f)


def wait_for_marker(path, word, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                if any(line.split()[:1] == [word] for line in f):
                    return True
        except FileNotFoundError:
            pass
        time.sleep(0.02)
    return False


class Scratch(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="skirmish-load-report-")

    def path(self, name):
        return os.path.join(self.tmp, name)


class ViewStartsOver(Scratch):
    """The view (entities per view, what fight bots chase) follows docs/protocol.md: a resync
    frame or a second hello replaces everything the client held."""

    def run_script(self, script, *extra, subprotocol=None):
        server = ScriptedServer(script, subprotocol)
        self.addCleanup(server.close)
        report = self.path("r.json")
        proc = run_load(server.url(), "--clients", "2", "--duration", "2", "--behavior", "watch", "--report",
                        report, *extra)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        r = read_report(report)
        for part in ("measured", "total"):
            self.assertEqual(r[part]["errors"], {}, r[part])
            self.assertEqual(r[part]["unparsed_frames"], 0, r[part])
            self.assertEqual(r[part]["view_inconsistent"], 0, r[part])
        self.assertGreater(r["measured"]["view_frames"], 40)
        return r

    def test_a_json_resync_frame_drops_what_it_does_not_list(self):
        r = self.run_script(script_resync)
        # The window (after the ramp's first second) sees only frames after the resync.
        self.assertEqual(r["measured"]["entities_per_view_avg"], 1.0, r["measured"])
        self.assertLess(r["total"]["entities_per_view_avg"], 1.5, r["total"])
        # Frames the server skipped are missing ticks: a shedding server still gives a result.
        self.assertEqual(r["total"]["missing"], 2 * 38)

    def test_a_second_hello_starts_the_view_over(self):
        r = self.run_script(script_second_hello)
        self.assertEqual(r["measured"]["entities_per_view_avg"], 1.0, r["measured"])

    def test_a_v2_full_frame_drops_what_it_does_not_list(self):
        r = self.run_script(script_v2_full, "--protocol", "v2", subprotocol="skirmish.v2")
        self.assertEqual(r["measured"]["entities_per_view_avg"], 1.0, r["measured"])
        self.assertEqual(r["measured"]["moved_per_view_avg"], 1.0, r["measured"])

    def test_a_second_hello_starts_the_v2_held_list_over(self):
        # Updates name held[0]: monster 50 for a decoder that started over, monster 1 (unknown
        # to the view, so inconsistent) for one that kept the old list.
        r = self.run_script(script_v2_second_hello, "--protocol", "v2", subprotocol="skirmish.v2")
        self.assertEqual(r["measured"]["entities_per_view_avg"], 1.0, r["measured"])


class ExitStatus(Scratch):
    """A run that measured nothing exits 1 and says why; a normal run exits 0."""

    def test_no_tick_frame_in_the_window_fails_and_says_so(self):
        server = ScriptedServer(script_no_ticks)
        self.addCleanup(server.close)
        report = self.path("r.json")
        proc = run_load(server.url(), "--clients", "2", "--duration", "1", "--behavior", "watch", "--report", report)
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn("no tick frame arrived in the measured window", proc.stderr)
        self.assertEqual(read_report(report)["clients"]["connected_at_window_start"], 2)

    def test_a_daemon_killed_mid_window_fails_and_counts_only_its_time(self):
        daemon = Daemon("--state-file", "", "--tick-rate", str(TICK_RATE), log_level="info").start()
        self.addCleanup(daemon.kill)
        report, marker = self.path("r.json"), self.path("m")
        proc = subprocess.Popen([LOAD, "--url", daemon.ws_url(), "--clients", "20", "--ramp", "200", "--duration",
                                 "4", "--behavior", "idle", "--report", report, "--marker", marker],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            self.assertTrue(wait_for_marker(marker, "start"))
            time.sleep(1.5)  # mid-second: a count taken at the end of each second is wrong here
            daemon.kill()
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertEqual(proc.returncode, 1, out + err)
        self.assertIn("every client connected at the window's start was disconnected before its end", err)
        m = read_report(report)["measured"]
        self.assertEqual(m["disconnects"], {"1006": 20})
        self.assertGreater(m["frames"], 20 * TICK_RATE)
        # Expected frames: the tick rate x each client's time connected in the window (~1.5 s).
        self.assertGreater(m["delivered_ratio_by_time"], 0.9, m)
        self.assertLess(m["delivered_ratio_by_time"], 1.05, m)
        self.assertAlmostEqual(m["clients_avg"] * m["seconds"], 20 * 1.5, delta=20 * 0.5)


class WhoIsSlow(Scratch):
    """Found by an audit: a stall of the tester read as server delay, a stall of the server as health."""

    def run_paused(self, pause, *extra):
        """A 6 s run of 40 clients, with the tester stopped for a second, or the daemon to the
        window's end, from 1.5 s into the window; (the measured report, stdout)."""
        daemon = Daemon("--state-file", "", "--tick-rate", str(TICK_RATE), log_level="info").start()
        self.addCleanup(daemon.kill)
        report, marker = self.path("r.json"), self.path("m")
        proc = subprocess.Popen([LOAD, "--url", daemon.ws_url(), "--clients", "40", "--ramp", "400", "--duration",
                                 "6", "--report", report, "--marker", marker, *extra],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            self.assertTrue(wait_for_marker(marker, "start"))
            time.sleep(1.5)  # into the window, as the scenario needs (no event to wait for)
            stopped = proc.pid if pause == "tester" else daemon.proc.pid
            os.kill(stopped, signal.SIGSTOP)
            try:
                if pause == "tester":
                    time.sleep(1.0)
                else:
                    self.assertTrue(wait_for_marker(marker, "end", timeout=30))
            finally:
                os.kill(stopped, signal.SIGCONT)
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertEqual(proc.returncode, 0, out + err)
        return read_report(report)["measured"], out

    def test_a_stalled_tester_is_not_counted_as_server_delay(self):
        m, out = self.run_paused("tester", "--kernel-timestamps")
        # What the clients saw includes the second the tester stood still...
        self.assertGreater(m["delay_ms"]["max"], 800, m["delay_ms"])
        # ...the server-side delay does not: the frames that waited for the tester are left out.
        self.assertLess(m["server_delay_ms"]["p99"], 300, m["server_delay_ms"])
        self.assertLess(m["server_delay_ms"]["count"], m["delay_ms"]["count"])
        self.assertIn("frames: those that ended a read", out)
        # The tester knows it stood still: its own loop's lateness, and a warning.
        self.assertGreater(m["tester_loop_lag_ms"]["max"], 800, m["tester_loop_lag_ms"])
        self.assertIn("WARNING: this tester's own event loop ran late", out)

    def test_a_server_frozen_to_the_end_of_the_window_shows_in_game_rate_and_a_warning(self):
        m, out = self.run_paused("daemon")
        # Frozen for the last 4.5 s of 6 (or less, if this machine is slow to stop it): a quarter
        # of the ticks, and no more than three quarters.
        self.assertLess(m["per_client"]["game_rate"]["max"], 0.75 * TICK_RATE, m["per_client"])
        self.assertLess(m["delivered_ratio_by_time"], 0.75, m)
        self.assertIn("WARNING: game time advanced at", out)


class DeliveredByTime(Scratch):
    def test_clients_closed_mid_window_count_for_the_time_they_were_open(self):
        # The daemon closes every flooding client with 1008 a second or two into the window:
        # the frames they got are what they should have got while connected.
        daemon = Daemon("--state-file", "", "--tick-rate", str(TICK_RATE), "--max-messages-per-second", "10",
                        "--flood-close-ms", "2000", log_level="info").start()
        self.addCleanup(daemon.kill)
        report = self.path("r.json")
        proc = run_load(daemon.ws_url(), "--clients", "10", "--ramp", "100", "--duration", "5", "--input-rate", "50",
                        "--report", report)
        r = read_report(report)
        m = r["measured"]
        self.assertEqual(r["clients"]["connected_at_window_start"], 10, proc.stderr)
        self.assertEqual(m["disconnects"], {"1008": 10})
        self.assertGreater(m["frames"], 0)
        self.assertGreater(m["delivered_ratio_by_time"], 0.9, m)
        self.assertLess(m["delivered_ratio_by_time"], 1.1, m)
        # Everyone left before the window's end: the server went away from every client.
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)

    def test_a_normal_run_delivers_everything_in_the_window_and_the_whole_run(self):
        daemon = Daemon("--state-file", "", "--tick-rate", str(TICK_RATE), log_level="info").start()
        self.addCleanup(daemon.kill)
        report = self.path("r.json")
        proc = run_load(daemon.ws_url(), "--clients", "5", "--ramp", "100", "--duration",
                        "2", "--behavior", "watch", "--report", report)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        r = read_report(report)
        for part in ("measured", "total"):
            with self.subTest(part=part):
                self.assertGreater(r[part]["delivered_ratio_by_time"], 0.9, r[part])
                self.assertLess(r[part]["delivered_ratio_by_time"], 1.05, r[part])
        with self.subTest("summary"):
            # A spectator sends no input, and the summary says so and calls the average what it is.
            self.assertEqual(r["measured"]["inputs_sent"], 0)
            self.assertIn(" 0.0 inputs/s sent per client", proc.stdout)
            self.assertRegex(proc.stdout, r"connected at window start\s+5 / 5 \(avg connected 5\.0\)")
            self.assertNotIn("avg joined", proc.stdout)
            # Five spectators keep the tester's loop on time: a sample every 50 ms, few late.
            lag = r["measured"]["tester_loop_lag_ms"]
            self.assertGreater(lag["count"], 30, lag)
            self.assertLess(lag["p50"], 10, lag)
            self.assertRegex(proc.stdout, r"tester loop lag \(its 50 ms timer\)\s+p50 \d")


class WindowLength(Scratch):
    def test_ctrl_c_counts_the_last_second_at_its_true_length(self):
        daemon = Daemon("--state-file", "", "--tick-rate", str(TICK_RATE), log_level="info").start()
        self.addCleanup(daemon.kill)
        report, marker, csv = self.path("r.json"), self.path("m"), self.path("r.csv")
        clients = 10
        proc = subprocess.Popen([LOAD, "--url", daemon.ws_url(), "--clients", str(clients), "--ramp", "200",
                                 "--duration", "10", "--behavior", "idle", "--report", report, "--marker", marker,
                                 "--csv", csv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            self.assertTrue(wait_for_marker(marker, "start"))
            time.sleep(2.5)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertEqual(proc.returncode, 130, out + err)
        with open(marker) as f:
            marks = dict(line.split() for line in f)
        window = (int(marks["end"]) - int(marks["start"])) / 1000
        m = read_report(report)["measured"]
        self.assertAlmostEqual(m["seconds"], window, delta=0.1)
        self.assertNotEqual(m["seconds"], round(m["seconds"]), "a partial second counted as a whole one")
        self.assertAlmostEqual(m["frames_per_s"], clients * TICK_RATE, delta=clients * TICK_RATE * 0.08)
        self.assertAlmostEqual(m["delivered_ratio_by_time"], 1.0, delta=0.08)
        self.assertAlmostEqual(m["frames_per_s"] / clients, m["per_client"]["frame_rate"]["p50"], delta=1.0)
        with open(csv) as f:
            rows = [line.split(",") for line in f.read().splitlines()]
        last = dict(zip(rows[0], rows[-1]))
        self.assertEqual(last["phase"], "measure")
        self.assertAlmostEqual(float(last["frames_per_s"]), clients * TICK_RATE, delta=clients * TICK_RATE * 0.2)

    def test_a_fractional_duration_is_rounded_up_and_says_so(self):
        daemon = Daemon("--state-file", "", "--tick-rate", str(TICK_RATE), log_level="info").start()
        self.addCleanup(daemon.kill)
        report = self.path("r.json")
        proc = run_load(daemon.ws_url(), "--clients", "2", "--duration", "1.2", "--behavior", "idle", "--report", report)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertEqual(read_report(report)["measured"]["seconds"], 2)
        self.assertIn("window starts (2/2 connected), 2 s (--duration rounded up to whole seconds)", proc.stderr)
        self.assertIn("measured 2 s", proc.stdout)


class InputRate(Scratch):
    def test_rates_above_the_timer_are_sent(self):
        daemon = Daemon("--state-file", "", "--max-messages-per-second", "0", log_level="info").start()
        self.addCleanup(daemon.kill)
        report = self.path("r.json")
        proc = run_load(daemon.ws_url(), "--clients", "2", "--duration", "3", "--behavior", "wander", "--input-rate",
                        "400", "--report", report)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        m = read_report(report)["measured"]
        self.assertAlmostEqual(m["inputs_per_s"] / 2, 400, delta=40)
        self.assertAlmostEqual(m["inputs_per_client_per_s"], 400, delta=40)
        self.assertEqual(m["errors"], {})


class RefusedAtStartUp(Scratch):
    """Bad values and paths fail at once, before any connection."""
    CLOSED_URL = "ws://127.0.0.1:1/ws"

    def out_of_range_status(self):
        return run_load(self.CLOSED_URL, "--duration", "0", timeout=10).returncode

    def test_nan_and_infinity_are_refused_for_every_floating_point_option(self):
        bad = self.out_of_range_status()
        self.assertNotIn(bad, (0, 1, 2))
        for option in ("--ramp", "--duration", "--input-rate", "--view-fraction", "--handshake-timeout"):
            for value in ("nan", "NaN", "-nan", "inf"):
                with self.subTest(option=option, value=value):
                    try:
                        proc = run_load(self.CLOSED_URL, "--clients", "1", option, value, timeout=10)
                    except subprocess.TimeoutExpired:
                        self.fail(f"{option} {value} was taken: the run did not end")
                    self.assertEqual(proc.returncode, bad, proc.stderr)
                    self.assertIn(f"{option}: must be a finite number, got {value}", proc.stderr)

    def test_unwritable_report_and_marker_fail_before_the_run(self):
        for option in ("--report", "--marker", "--csv"):
            with self.subTest(option=option):
                started = time.monotonic()
                proc = run_load(self.CLOSED_URL, "--clients", "1", "--duration", "1", option,
                                "/nonexistent-dir/out", timeout=30)
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertIn("cannot write /nonexistent-dir/out", proc.stderr)
                self.assertNotIn("window starts", proc.stderr)
                self.assertLess(time.monotonic() - started, 2)

    def test_the_file_limit_warning_counts_descriptors(self):
        def low_limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
        proc = run_load(self.CLOSED_URL, "--clients", "300", "--ramp", "100000", "--duration", "1",
                        "--kernel-timestamps", preexec_fn=low_limit)
        self.assertIn("open-file limit 256 is below the 664 descriptors this run needs (300 clients x 2 + 64)",
                      proc.stderr)

    def test_an_upper_case_scheme_is_the_same_url(self):
        # RFC 3986: the scheme is case-insensitive. Nothing listens there: no client connects.
        proc = run_load(self.CLOSED_URL.replace("ws://", "WS://"), "--clients", "1", "--duration", "1")
        self.assertNotIn("--url must be", proc.stderr)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("connect: ECONNREFUSED", proc.stdout)

    def test_help_states_the_exit_status(self):
        out = run_load(self.CLOSED_URL, "--help", timeout=10).stdout
        self.assertIn("Exit status:", out)
        self.assertRegex(out, r"\n  1 +it has none")


if __name__ == "__main__":
    unittest.main()
