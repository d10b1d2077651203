"""skirmish-load against the real daemon: 5 players for ~3 s, and the counts must add up.

The tester's numbers are checked against themselves (no gaps, frames = ticks elapsed) and
against the daemon's own count of tick frames sent (/metrics), so a tester that miscounts
fails here rather than in a benchmark table.
"""
import json
import os
import re
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from daemon import Daemon

LOAD = os.path.abspath(os.environ.get("SKIRMISH_LOAD", "build/loadtest/skirmish-load"))
CLIENTS = 5
DURATION = 3
TICK_RATE = 20


def tick_frames_sent(daemon):
    """skirmish_tick_frames_sent_total from /metrics, or None while the daemon has none."""
    try:
        with urllib.request.urlopen(daemon.url("/metrics"), timeout=5) as r:
            text = r.read().decode()
    except urllib.error.HTTPError:
        return None
    m = re.search(r"^skirmish_tick_frames_sent_total(?:\{[^}]*\})? ([0-9.e+]+)$", text, re.M)
    return int(float(m.group(1))) if m else None


class LoadIntegrationTest(unittest.TestCase):
    def setUp(self):
        self.daemon = Daemon("--state-file", "", "--tick-rate", str(TICK_RATE), log_level="info").start()
        self.addCleanup(self.daemon.kill)
        self.tmp = tempfile.mkdtemp(prefix="skirmish-load-test-")

    def run_load(self, behavior, *extra):
        report = os.path.join(self.tmp, f"{behavior}.json")
        csv = os.path.join(self.tmp, f"{behavior}.csv")
        marker = os.path.join(self.tmp, f"{behavior}.marker")
        started = time.monotonic()
        proc = subprocess.run(
            [LOAD, "--url", self.daemon.ws_url(), "--clients", str(CLIENTS), "--ramp", "50", "--duration",
             str(DURATION), "--behavior", behavior, "--input-rate", "5", "--threads", "2", "--report", report,
             "--csv", csv, "--marker", marker, "--name-prefix", "it-", *extra],
            capture_output=True, text=True, timeout=60)
        elapsed = time.monotonic() - started
        self.assertEqual(proc.returncode, 0, proc.stderr + proc.stdout)
        with open(report) as f:
            r = json.load(f)
        with open(marker) as f:
            marks = [line.split() for line in f]
        with open(csv) as f:
            rows = f.read().splitlines()
        return r, marks, rows, elapsed, proc

    def check_report(self, r, marks, rows, elapsed):
        m = r["measured"]
        t = r["total"]
        # Frames the daemon chose not to send (a late turn's ticks go out as one frame): on a
        # quiet machine none; a busy one may show a few, and no more than the daemon counted.
        not_sent = self.daemon.ticks_not_sent()
        # Everyone got in, nothing went wrong.
        self.assertEqual(r["clients"]["connected_at_window_start"], CLIENTS)
        self.assertEqual(t["connects_ok"], CLIENTS)
        self.assertEqual(t["connect_failures"], 0)
        self.assertEqual(t["error_total"], 0, t["errors"])
        self.assertEqual(t["disconnect_total"], 0, t["disconnects"])
        self.assertEqual(t["unparsed_frames"], 0)
        self.assertEqual(t["view_inconsistent"], 0)
        self.assertEqual(r["tick_rate"], TICK_RATE)
        # The marker brackets the measured window.
        self.assertEqual([k for k, _ in marks], ["start", "end"])
        self.assertAlmostEqual((int(marks[1][1]) - int(marks[0][1])) / 1000, DURATION, delta=0.5)
        self.assertEqual(m["seconds"], DURATION)
        self.assertGreaterEqual(len(rows), 1 + DURATION + 1)  # header, ramp, window
        # No missing ticks but those, and the window holds clients x rate x time frames.
        self.assertLessEqual(t["missing"], not_sent * CLIENTS)
        self.assertEqual(t["stale"], 0)
        self.assertGreater(m["delivered_ratio_by_time"], 0.9, m)
        self.assertLess(m["delivered_ratio_by_time"], 1.1, m)
        self.assertEqual(m["delay_ms"]["count"], m["frames"])
        if r["options"]["kernel_timestamps"]:
            # Every frame came with the kernel's receive time, which is before the tester read it.
            self.assertEqual(m["server_delay_ms"]["count"], m["frames"])
            self.assertEqual(t["server_delay_ms"]["count"], t["frames"])
            self.assertGreater(m["server_delay_ms"]["p50"], 0)
            self.assertLessEqual(m["server_delay_ms"]["p50"], m["delay_ms"]["p50"])
            self.assertEqual(rows[0].split(",")[-2:], ["server_delay_p50_ms", "server_delay_p99_ms"])
        else:
            self.assertIsNone(m["server_delay_ms"])
            self.assertEqual(rows[0].split(",")[-1], "tester_cpu_pct")
        # Per client over the window: every client got every tick, at the tick rate, and game
        # time advanced at the tick rate.
        w = m["per_client"]
        self.assertEqual(w["clients"], CLIENTS)
        self.assertGreater(w["frame_rate"]["min"], TICK_RATE * 0.9, w)
        self.assertLess(w["frame_rate"]["p50"], TICK_RATE * 1.1, w)
        self.assertEqual(w["game_rate"]["clients"], CLIENTS)
        self.assertAlmostEqual(w["game_rate"]["min"], TICK_RATE, delta=TICK_RATE * 0.1)
        self.assertAlmostEqual(w["game_rate"]["max"], TICK_RATE, delta=TICK_RATE * 0.1)
        if not_sent == 0:
            self.assertEqual(w["tick_gap"]["max"], 1, w)
            self.assertEqual(w["tick_gap"]["p99"], 1, w)
        else:
            self.assertLessEqual(w["tick_gap"]["max"], 1 + not_sent, w)
        self.assertGreater(m["entities_per_view_avg"], 1)  # at least ourselves
        # Per client: every tick from the first to the last arrived exactly once, and that
        # is as many ticks as the client's time connected allows.
        pc = r["per_client"]
        self.assertEqual(len(pc), CLIENTS)
        for c in pc:
            self.assertTrue(c["joined"], c)
            self.assertEqual(c["frames"] + c["missing"], c["last_tick"] - c["first_tick"] + 1, c)
            self.assertLessEqual(c["missing"], not_sent, c)
            self.assertGreaterEqual(c["frames"], DURATION * TICK_RATE * 0.9, c)
            self.assertLessEqual(c["frames"], elapsed * TICK_RATE + 2, c)
        # The clients' windows add up to the window's frames: both are cut at the same take.
        self.assertEqual(sum(c["window"]["frames"] for c in pc), m["frames"])
        totals = r["per_client_totals"]
        self.assertEqual(totals["frames"], sum(c["frames"] for c in pc))
        self.assertEqual(totals["frames"], t["frames"])
        self.assertLessEqual(totals["span"] - totals["frames"], not_sent * CLIENTS)
        return totals["frames"]

    def check_against_daemon(self, received, before):
        after = tick_frames_sent(self.daemon)
        if after is None:
            # The daemon has no /metrics counter yet: the tester's own span check above
            # (frames == last - first + 1 for every client) is what we can compare.
            self.skipTest("daemon has no skirmish_tick_frames_sent_total in /metrics yet")
        # Every frame the daemon handed to the kernel for our clients arrived: the tester
        # reads until the daemon answers its close frame, and the daemon stops sending then.
        self.assertEqual(after - before, received)

    def test_idle_clients_count_every_frame(self):
        before = tick_frames_sent(self.daemon) or 0
        r, marks, rows, elapsed, _ = self.run_load("idle")
        self.assertEqual(r["measured"]["inputs_sent"], 0)
        received = self.check_report(r, marks, rows, elapsed)
        self.check_against_daemon(received, before)

    def test_fighting_clients_count_every_frame(self):
        before = tick_frames_sent(self.daemon) or 0
        r, marks, rows, elapsed, proc = self.run_load("fight")
        # 5 inputs per second per client, give or take the window's edges.
        self.assertGreater(r["measured"]["inputs_per_s"], CLIENTS * 5 * 0.8)
        self.assertLess(r["measured"]["inputs_per_s"], CLIENTS * 5 * 1.2)
        self.assertIn("skirmish-load summary", proc.stdout)
        self.assertIn("tester CPU", proc.stdout)
        received = self.check_report(r, marks, rows, elapsed)
        self.check_against_daemon(received, before)

    def test_kernel_timestamps_count_every_frame(self):
        # Reads through recvmsg on a dup of each socket (uv_poll): the same counts as libuv's reads.
        before = tick_frames_sent(self.daemon) or 0
        r, marks, rows, elapsed, proc = self.run_load("wander", "--kernel-timestamps")
        self.assertIn("server-side delay (frame ts -> kernel receive)", proc.stdout)
        received = self.check_report(r, marks, rows, elapsed)
        self.check_against_daemon(received, before)

    def test_a_run_where_no_client_connects_fails_and_says_why(self):
        # A wrong path: every handshake gets 404, nothing is measured, and that is not a result.
        proc = subprocess.run([LOAD, "--url", self.daemon.ws_url("/nope"), "--clients", "2", "--duration", "1",
                               "--handshake-timeout", "5"], capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn("no client was connected", proc.stderr)
        whole = re.search(r"errors in the whole run\s+(\{.*\})", proc.stdout)
        self.assertIsNotNone(whole, proc.stdout)
        self.assertNotEqual(json.loads(whole.group(1)), {}, "the summary hides why the clients failed")

    def test_help_shows_the_defaults(self):
        out = subprocess.run([LOAD, "--help"], capture_output=True, text=True, timeout=10).stdout
        self.assertRegex(out, r"--clients INT[^\n]*=100\n")


if __name__ == "__main__":
    unittest.main()
