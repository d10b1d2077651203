"""Defects found by hostile testing (issue 11), each against the real daemon: a stalled
client that used to crash it, a failed start that wiped the saved players, long polls cut
without an answer at SIGTERM, file paths that aborted it, unbounded polling sessions, a state
file trusted as-is, floods that silenced a connection, repeated handshake headers, and ids
that counted up."""
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest

import websockets

from daemon import Daemon, built_with, wait_until
from raw_ws import FrameReader, ResponseReader, client_frame, close_code, http_request, open_websocket, upgrade_request

BINARY = os.path.abspath(os.environ.get("SKIRMISHD", "build/server/skirmishd"))


def run_daemon(*args, cwd=None, timeout=15):
    """Runs skirmishd to its exit; returns (exit code, output)."""
    host = [] if "--host" in args else ["--host", "127.0.0.1"]
    p = subprocess.run([BINARY, *host, *args], cwd=cwd or tempfile.mkdtemp(prefix="skirmishd-test-"),
                       capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def ping_burst(s, reader, n, tail=b"", forbid=()):
    """Sends n `ping` messages (t = 0 .. n-1) and then `tail`, in one write, and reads until the
    n-th pong or a close frame: (the pongs' t in the order they came, the close's payload or
    None). A frame whose opcode is in `forbid` fails the test."""
    s.sendall(b"".join(client_frame(0x1, b'{"type":"ping","t":%d}' % i) for i in range(n)) + tail)
    seen = []
    while len(seen) < n:
        _, op, payload = reader.read_frame()
        assert op not in forbid, (op, payload)
        if op == 0x8:
            return seen, payload
        if op == 0x1 and (m := json.loads(payload))["type"] == "pong":
            seen.append(m["t"])
    return seen, None


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


class StalledClients(unittest.TestCase):
    """A client that never reads, pinging so that pongs are due even over the soft limit."""

    def stall(self, soft, hard):
        args = ("--world-size", "1600", "--monsters", "1500", "--view-radius", "3000", "--obstacles", "0",
                "--soft-limit-bytes", str(soft), "--hard-limit-bytes", str(hard), "--close-timeout-ms", "5000",
                "--slow-client-timeout-ms", "60000", "--send-buffer-bytes", "4096")
        with Daemon(*args, log_level="info") as d:
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(("127.0.0.1", d.port))
            s.settimeout(10)
            s.sendall(upgrade_request())
            # Pings until the daemon gives up on us for the hard limit (or 20 s).
            deadline = time.monotonic() + 20
            dropped = False
            while time.monotonic() < deadline and not dropped:
                s.sendall(client_frame(0x9, b"p"))
                dropped = d.metrics().get('skirmish_connections_ended_total{reason="slow_hard_limit"}', 0) >= 1
            self.assertTrue(dropped, "the stalled client was never dropped")
            self.assertTrue(d.alive(), "the daemon died")
            # Now read: what the kernel already had, then our close frame with its reason.
            data = b""
            while b"\r\n\r\n" not in data:
                data += s.recv(65536)
            reader = FrameReader(s, data.partition(b"\r\n\r\n")[2])
            payload = reader.read_until(0x8, limit=100000)
            # 1013 "try again later": a browser may reconnect (it broke no rule).
            self.assertEqual(close_code(payload), 1013)
            self.assertIn(b"too slow", payload)
            s.sendall(client_frame(0x8, payload[:2]))
            s.close()
            self.assertTrue(d.alive())
            self.assertEqual(d.stop(), 0)

    def test_a_stalled_pinging_client_is_closed_with_1013_and_cannot_crash_the_daemon(self):
        self.stall(64 * 1024, 96 * 1024)

    def test_the_same_with_equal_soft_and_hard_limits(self):
        self.stall(64 * 1024, 64 * 1024)

    def test_sigterm_with_stalled_clients_exits_cleanly(self):
        args = ("--world-size", "1600", "--monsters", "600", "--view-radius", "3000", "--obstacles", "0",
                "--soft-limit-bytes", "65536", "--hard-limit-bytes", "1048576", "--send-buffer-bytes", "4096",
                "--slow-client-timeout-ms", "60000", "--shutdown-grace-ms", "1000")
        with Daemon(*args, log_level="info") as d:
            socks = []
            for _ in range(5):
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.connect(("127.0.0.1", d.port))
                s.sendall(upgrade_request())
                socks.append(s)
            # Every one of them over the soft limit: their close frames must pass their queues.
            self.assertTrue(wait_until(lambda: d.metrics()["skirmish_queued_bytes"] > 5 * 65536, timeout=10))
            self.assertEqual(d.stop(), 0)
            for s in socks:
                s.close()


class SavedPlayers(unittest.TestCase):
    def saved_world(self):
        """A folder whose state file holds one saved player; returns (folder, file bytes, token)."""
        cwd = tempfile.mkdtemp(prefix="skirmishd-state-")

        async def join(d):
            async with websockets.connect(d.ws_url()) as ws:
                await ws.send(json.dumps({"type": "join", "name": "keeper"}))
                while True:
                    m = json.loads(await asyncio.wait_for(ws.recv(), 5))
                    if m["type"] == "welcome":
                        return m["token"]

        with Daemon(cwd=cwd) as d:
            token = asyncio.run(join(d))
            self.assertEqual(d.stop(), 0)
        with open(os.path.join(cwd, "skirmishd-state.json"), "rb") as f:
            content = f.read()
        self.assertIn(token.encode(), content)
        return cwd, content, token

    def test_a_start_that_cannot_listen_keeps_the_saved_players(self):
        cwd, before, _ = self.saved_world()
        with Daemon("--state-file", "") as other:  # holds the port
            code, out = run_daemon("--port", str(other.port), cwd=cwd)
            self.assertEqual(code, 1, out)
            self.assertIn("cannot listen", out)
        # An address this machine does not have (TEST-NET-1): it cannot listen there.
        code, out = run_daemon("--host", "192.0.2.1", "--port", "0", cwd=cwd)
        self.assertEqual(code, 1, out)
        code, out = run_daemon("--host", "not-an-address", "--port", "0", cwd=cwd)
        self.assertEqual(code, 2, out)  # refused with the configuration
        with open(os.path.join(cwd, "skirmishd-state.json"), "rb") as f:
            self.assertEqual(f.read(), before, "a daemon that never ran its world replaced the saved players")

    def test_players_saved_longer_ago_than_the_window_are_named_when_dropped(self):
        cwd = tempfile.mkdtemp(prefix="skirmishd-state-")
        player = {"token": "a" * 32, "id": 5, "name": "late", "x": 100, "y": 100, "hp": 50, "score": 3}
        with open(os.path.join(cwd, "skirmishd-state.json"), "w") as f:
            json.dump({"version": 1, "saved_at_ms": int(time.time() * 1000) - 60000, "players": [player]}, f)
        with Daemon("--reconnect-window-ms", "15000", cwd=cwd) as d:
            line = d.wait_for_log(r"not restored")
            self.assertRegex(line, r"1 saved player\(s\) not restored: saved \d+ s ago, past game.reconnect_window_ms \(15 s\)")

    def test_a_save_that_fails_at_the_stop_is_not_a_clean_exit(self):
        cwd = tempfile.mkdtemp(prefix="skirmishd-state-")
        folder = os.path.join(cwd, "state")
        os.mkdir(folder)
        d = Daemon("--state-file", os.path.join(folder, "players.json"), cwd=cwd).start()
        try:
            shutil.rmtree(folder)  # the save at the stop cannot write its file
            self.assertEqual(d.stop(), 1)
            d.wait_for_log(r"could not save 0 player\(s\)")
        finally:
            d.kill()

    def test_restored_players_are_checked_as_a_join_and_ids_never_collide(self):
        cwd = tempfile.mkdtemp(prefix="skirmishd-state-")
        now = int(time.time() * 1000)
        good = {"token": "a" * 32, "id": 4294967290, "name": "goodie", "x": 100, "y": 100, "hp": 50, "score": 3}
        players = [
            good,
            {"token": "b" * 32, "id": 7, "name": "x" * 100000, "x": 10, "y": 10, "hp": 50, "score": 1},
            {"token": "c" * 32, "id": 8, "name": "\u3164\u00ad\U000E0041", "x": 10, "y": 10, "hp": 50, "score": 1},
            {"token": "d" * 32, "id": 9, "name": "hugehp", "x": 10, "y": 10, "hp": 1e30, "score": 1},
            {"token": "", "id": 10, "name": "notoken", "x": 10, "y": 10, "hp": 5, "score": 1},
            {"token": "e" * 32, "id": 11, "name": "nan", "x": "NaN", "y": 10, "hp": 5, "score": 1},
        ]
        with open(os.path.join(cwd, "skirmishd-state.json"), "w") as f:
            json.dump({"version": 1, "saved_at_ms": now, "players": players}, f)

        async def scenario(d):
            ids = []
            async with websockets.connect(d.ws_url(), max_size=None) as ws:
                await ws.send(json.dumps({"type": "join", "name": "again", "token": "a" * 32}))
                welcome = await self.until(ws, "welcome")
                self.assertTrue(welcome["resumed"])
                ids.append(welcome["id"])
                async with websockets.connect(d.ws_url(), max_size=None) as ws2:
                    # Its 100 KB name was cut as a join's would be.
                    await ws2.send(json.dumps({"type": "join", "name": "other", "token": "b" * 32}))
                    w2 = await self.until(ws2, "welcome")
                    self.assertTrue(w2["resumed"])
                    ids.append(w2["id"])
                    async with websockets.connect(d.ws_url(), max_size=None) as ws3:
                        await ws3.send(json.dumps({"type": "join", "name": "fresh", "token": "c" * 32}))
                        w3 = await self.until(ws3, "welcome")
                        self.assertFalse(w3["resumed"], "a saved player with an invisible name was restored")
                        ids.append(w3["id"])
                    tick = await self.until(ws2, "tick")
                    seen = [e["id"] for e in tick["entities"]]
                    self.assertEqual(len(seen), len(set(seen)), "two entities share an id")
                    names = {e["id"]: e.get("name") for e in tick["entities"]}
                    self.assertEqual(names.get(welcome["id"]), "goodie")
                    self.assertEqual(names.get(w2["id"]), "x" * 24)
            return ids

        with Daemon("--view-radius", "5000", "--monsters", "50", cwd=cwd) as d:
            d.wait_for_log(r"restored 2 player")
            d.wait_for_log(r"skipped 4 saved player")
            ids = asyncio.run(scenario(d))
            self.assertNotEqual(ids[0], 4294967290, "the saved id was kept")
            self.assertEqual(d.stop(), 0)
        with open(os.path.join(cwd, "skirmishd-state.json")) as f:
            saved = json.load(f)["players"]
        self.assertTrue(all(len(p["name"]) <= 24 and len(p["name"].encode()) <= 96 for p in saved), saved)

    @staticmethod
    async def until(ws, kind):
        while True:
            m = json.loads(await asyncio.wait_for(ws.recv(), 5))
            if m["type"] == kind:
                return m

    @unittest.skipUnless(shutil.which("strace"), "needs strace (scripts/install-deps.sh --test installs it)")
    def test_a_save_is_fsynced_before_and_after_its_rename(self):
        cwd = tempfile.mkdtemp(prefix="skirmishd-state-")
        trace = os.path.join(cwd, "trace")
        d = Daemon(cwd=cwd)  # for its binary and arguments; started under strace instead
        cmd = ["strace", "-f", "-e", "trace=fsync,fdatasync,rename,renameat,renameat2", "-o", trace, d.binary, *d.args]
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        daemon_pid = None
        try:
            for line in proc.stdout:
                if "listening on" in line:
                    break
            with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as f:
                daemon_pid = int(f.read().split()[0])  # strace's one child: the daemon
            os.kill(daemon_pid, signal.SIGTERM)
            proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                if daemon_pid:
                    os.kill(daemon_pid, signal.SIGKILL)  # killing strace alone would leave it running
                proc.kill()
                proc.wait(timeout=5)
        with open(trace) as f:
            calls = [re.sub(r"^\d+\s+", "", line) for line in f if re.search(r"fsync|rename", line)]
        renames = [i for i, c in enumerate(calls) if c.startswith("rename") and "skirmishd-state.json" in c]
        self.assertEqual(len(renames), 1, calls)
        before = [c for c in calls[:renames[0]] if "sync(" in c]
        after = [c for c in calls[renames[0] + 1:] if "sync(" in c]
        self.assertTrue(before, f"the temporary file was not fsynced before the rename: {calls}")
        self.assertTrue(after, f"the folder was not fsynced after the rename: {calls}")

    def test_an_oversized_state_file_is_not_read_and_is_kept_aside(self):
        cwd = tempfile.mkdtemp(prefix="skirmishd-state-")
        path = os.path.join(cwd, "skirmishd-state.json")
        with open(path, "w") as f:
            f.write('{"version":1,"saved_at_ms":0,"players":[' + " " * 200000 + "]}")
        with Daemon("--max-players", "10", cwd=cwd) as d:
            d.wait_for_log(r"over the limit")
            self.assertEqual(d.stop(), 0)
        self.assertTrue(os.path.exists(path + ".rejected"))
        self.assertEqual(os.path.getsize(path + ".rejected"), 200000 + len('{"version":1,"saved_at_ms":0,"players":[]}'))


class FilePaths(unittest.TestCase):
    def test_a_directory_as_config_is_a_clear_error(self):
        folder = tempfile.mkdtemp()
        code, out = run_daemon("--config", folder)
        self.assertEqual(code, 2, out)
        self.assertIn(folder, out)
        self.assertIn("is a directory", out)

    def test_a_directory_as_state_file_is_a_clear_error_before_listening(self):
        folder = tempfile.mkdtemp()
        code, out = run_daemon("--state-file", folder, "--port", "0")
        self.assertEqual(code, 2, out)
        self.assertIn("game.state_file", out)
        self.assertIn(folder, out)
        self.assertNotIn("listening", out)

    def test_a_state_file_in_a_missing_folder_is_a_clear_error(self):
        code, out = run_daemon("--state-file", "/nonexistent-skirmish/state.json", "--port", "0")
        self.assertEqual(code, 2, out)
        self.assertIn("does not exist", out)

    def test_a_config_file_with_a_key_twice_is_an_error_naming_it(self):
        folder = tempfile.mkdtemp()
        path = os.path.join(folder, "c.json")
        with open(path, "w") as f:
            f.write('{"server": {"port": 9001, "port": 9002}}')
        code, out = run_daemon("--config", path)
        self.assertEqual(code, 2, out)
        self.assertIn("'server.port' more than once", out)


class LongPollsAtShutdown(unittest.TestCase):
    def test_sigterm_answers_every_waiting_long_poll_before_closing(self):
        # A frame every 3 s: a long poll sent right after one waits for most of 3 s.
        with Daemon("--tick-rate", "1", "--send-every-ticks", "3", log_level="info") as d:
            conns = []
            for _ in range(3):
                s = d.connect(timeout=10)
                reader = ResponseReader(s)
                body = b'{"type":"watch"}'
                s.sendall(b"POST /session HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                status, _, answer = reader.read()
                self.assertEqual(status, 200)
                conns.append((s, reader, json.loads(answer)["session"]))
            # Emptied just after a frame (the first session's long poll is answered by one), so
            # that the next is most of 3 s away while the long polls below wait.
            first = conns[0]
            for what in ("poll", "longpoll?timeout=5"):
                first[0].sendall(f"GET /session/{first[2]}/{what} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
                first[1].read()
            for s, reader, sid in conns[1:]:
                s.sendall(f"GET /session/{sid}/poll HTTP/1.1\r\nHost: t\r\n\r\n".encode())
                reader.read()
            for s, reader, sid in conns:
                s.sendall(f"GET /session/{sid}/longpoll?timeout=20 HTTP/1.1\r\nHost: t\r\n\r\n".encode())
            self.assertTrue(wait_until(lambda: d.metrics()["skirmish_polls_waiting"] == 3, timeout=5))
            d.proc.send_signal(signal.SIGTERM)
            told = 0
            for s, reader, sid in conns:
                status, headers, body = reader.read()
                self.assertIn(status, (200, 503), "a waiting long poll got no answer")
                if status == 200:
                    answer = json.loads(body)
                    self.assertIsInstance(answer, list)
                    # Told why, as a WebSocket is by 1001 (so a page says "restarting"), first.
                    self.assertEqual(answer[0], {"type": "closing", "code": 1001, "reason": "server shutting down"}, answer)
                    told += 1
                s.close()
            self.assertGreater(told, 0, "no waiting long poll was answered with 200")
            self.assertEqual(d.proc.wait(timeout=15), 0)  # (a second SIGTERM is not what we test)


class PollingSessions(unittest.TestCase):
    def create(self, h_sock, reader):
        body = b'{"type":"watch"}'
        h_sock.sendall(b"POST /session HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        status, headers, answer = reader.read()
        return status, headers, json.loads(answer) if answer else None

    def test_sessions_are_capped_overall_and_per_address(self):
        with Daemon("--max-sessions", "30", "--max-sessions-per-ip", "20") as d:
            a = d.connect()
            ra = ResponseReader(a)
            for _ in range(20):
                self.assertEqual(self.create(a, ra)[0], 200)
            status, headers, body = self.create(a, ra)
            self.assertEqual(status, 503)
            self.assertIn("retry-after", headers)
            self.assertIn("max_sessions_per_ip", body["message"])
            # Another loopback address still gets its share, up to the overall cap.
            b = socket.socket()
            b.bind(("127.0.0.2", 0))
            b.connect(("127.0.0.1", d.port))
            b.settimeout(5)
            rb = ResponseReader(b)
            for _ in range(10):
                self.assertEqual(self.create(b, rb)[0], 200)
            status, _, body = self.create(b, rb)
            self.assertEqual(status, 503)
            self.assertIn("polling.max_sessions", body["message"])
            self.assertEqual(d.metrics()["skirmish_http_sessions_refused_total"], 2)
            a.close()
            b.close()

    def test_a_crowd_of_idle_sessions_costs_bounded_memory_that_comes_back(self):
        # Backlogs capped at one second of ticks, so they go dormant well before the sessions
        # expire (8 s without a request).
        with Daemon("--max-sessions", "2000", "--max-sessions-per-ip", "0", "--reconnect-window-ms", "8000",
                    "--tick-rate", "20", "--max-backlog-ticks", "20", log_level="info") as d:
            base = rss_kib(d.proc.pid)
            conns = [(s, ResponseReader(s)) for s in (d.connect() for _ in range(10))]
            for i in range(2000):
                s, r = conns[i % 10]
                self.assertEqual(self.create(s, r)[0], 200)
            self.assertEqual(self.create(*conns[0])[0], 503)
            # Nobody polls: after the backlog cap the sessions stop costing frames.
            self.assertTrue(wait_until(lambda: d.metrics()["skirmish_backlog_resyncs_total"] >= 2000, timeout=7))
            # What stays is a session's own state, not its frames. (Not under AddressSanitizer,
            # whose allocator keeps freed memory in quarantine.)
            sanitized = built_with("SKIRMISH_SANITIZED")
            if not sanitized:
                self.assertTrue(wait_until(lambda: rss_kib(d.proc.pid) - base < 24 * 1024, timeout=5),
                                f"2,000 dormant sessions hold {rss_kib(d.proc.pid) - base} KiB of RSS")
            self.assertTrue(wait_until(lambda: d.metrics()["skirmish_http_sessions"] == 0, timeout=20))
            if not sanitized:
                self.assertTrue(wait_until(lambda: rss_kib(d.proc.pid) - base < 16 * 1024, timeout=5),
                                f"RSS {rss_kib(d.proc.pid)} KiB after expiry, {base} KiB before")
            for s, _ in conns:
                s.close()


class Floods(unittest.TestCase):
    def test_a_ping_flood_is_slowed_never_silenced(self):
        with Daemon("--max-messages-per-second", "200", log_level="info") as d:
            with d.connect(timeout=20) as s:
                reader = open_websocket(s)
                for burst in range(100):
                    s.sendall(b"".join(client_frame(0x9, b"%d" % (burst * 100 + i)) for i in range(100)))
                s.sendall(client_frame(0x9, b"the last one"))
                pongs = []
                while True:
                    _, op, payload = reader.read_frame()
                    if op == 0xA:
                        pongs.append(payload)
                        if payload == b"the last one":
                            break
                # How many pongs come before it depends on how the bursts were read (several
                # may arrive in one read and share a pong); their order may not change.
                numbers = [int(p) for p in pongs[:-1]]
                self.assertEqual(numbers, sorted(numbers), "pongs out of order")
            self.assertGreater(d.metrics()["skirmish_pings_coalesced_total"], 0)

    def assert_burst_then_quiet_is_served(self, rate, flood_ms, n, quiet_s):
        """A burst of n pings at `rate` a second with a flood limit of `flood_ms`: every pong, in
        order; then the client is quiet for `quiet_s` and still served, never closed as a flood.
        The daemon's metrics at the end."""
        with Daemon("--max-messages-per-second", str(rate), "--flood-close-ms", str(flood_ms), log_level="info") as d:
            with d.connect(timeout=20) as s:
                reader = open_websocket(s)
                seen, _ = ping_burst(s, reader, n, forbid=(0x8,))
                self.assertEqual(seen, list(range(n)))
                time.sleep(quiet_s)  # (nothing to await: the daemon must *not* act)
                s.sendall(client_frame(0x9, b"still here"))
                self.assertEqual(reader.read_until(0xA), b"still here")
            m = d.metrics()
            self.assertEqual(m.get('skirmish_connections_ended_total{reason="flood"}', 0), 0)
            return m

    def test_a_burst_over_the_allowance_waits_and_loses_nothing(self):
        # 300 messages at 100 a second: slowed for 2 s, then quiet; not a flood to close at 4 s.
        m = self.assert_burst_then_quiet_is_served(100, 4000, 300, quiet_s=3)
        self.assertGreater(m["skirmish_reads_paused_total"], 0)

    def test_a_burst_read_whole_is_handled_to_its_close_past_the_flood_limit(self):
        # 70 pings and a close in one write at 20 a second: 2.5 s to handle, past the 2 s flood
        # limit, but the client stopped after it (an audit: the daemon before closed with 1008
        # after 57 pongs, dropping the rest and the client's own close).
        with Daemon("--max-messages-per-second", "20", "--flood-close-ms", "2000", log_level="info") as d:
            with d.connect(timeout=20) as s:
                reader = open_websocket(s)
                seen, close = ping_burst(s, reader, 70, tail=client_frame(0x8, struct.pack("!H", 1000) + b"done"))
                self.assertEqual(seen, list(range(70)))
                if close is None:  # the 70th pong came first: the close's echo follows
                    close = reader.read_until(0x8)
                self.assertEqual(close_code(close), 1000, close)
            self.assertEqual(d.metrics().get('skirmish_connections_ended_total{reason="flood"}', 0), 0)

    def test_a_burst_read_whole_then_quiet_stays_open_past_the_flood_limit(self):
        # The same burst with no close after it: handled to its end (2.5 s, past the 2 s limit),
        # then the client is quiet and served (a review: the first mend closed it at the sweep
        # after its last pong).
        self.assert_burst_then_quiet_is_served(20, 2000, 70, quiet_s=1)

    def test_a_burst_waiting_its_turn_is_not_pinged_for_liveness(self):
        # 2.5 s of pongs to give at 20 a second, with a liveness ping after 0.5 s of silence
        # and 1 s for its answer: the client was heard, and a pong it sent would wait unread
        # behind its burst (a review: the daemon dropped it as mute mid-burst).
        with Daemon("--max-messages-per-second", "20", "--ping-interval-ms", "500", "--ping-timeout-ms", "1000",
                    log_level="info") as d:
            with d.connect(timeout=20) as s:
                seen, _ = ping_burst(s, open_websocket(s), 70, forbid=(0x8, 0x9))  # neither closed nor pinged
                self.assertEqual(seen, list(range(70)))
            self.assertEqual(d.metrics().get('skirmish_connections_ended_total{reason="ping_timeout"}', 0), 0)

    def test_bursts_sent_one_after_another_are_a_flood(self):
        # A burst of 30 each time the last one's final pong comes: every burst is read whole,
        # but it never stops, so it is closed as a flood.
        with Daemon("--max-messages-per-second", "20", "--flood-close-ms", "2000", log_level="info") as d:
            with d.connect(timeout=20) as s:
                reader = open_websocket(s)
                deadline = time.monotonic() + 10
                close = None
                burst = 0
                while close is None and time.monotonic() < deadline:
                    s.sendall(b"".join(client_frame(0x1, b'{"type":"ping","t":%d}' % (burst * 30 + i))
                                       for i in range(30)))
                    last = burst * 30 + 29
                    burst += 1
                    while True:
                        _, op, payload = reader.read_frame()
                        if op == 0x8:
                            close = payload
                            break
                        if op == 0x1 and (m := json.loads(payload))["type"] == "pong" and m["t"] == last:
                            break
                self.assertIsNotNone(close, "bursts without end were never closed")
                self.assertEqual(close_code(close), 1008)
            self.assertEqual(d.metrics()['skirmish_connections_ended_total{reason="flood"}'], 1)

    def test_a_sustained_flood_is_closed_with_1008_and_a_reason(self):
        with Daemon("--max-messages-per-second", "50", "--flood-close-ms", "1500", log_level="info") as d:
            with d.connect(timeout=20) as s:
                reader = open_websocket(s)
                s.setblocking(False)
                frame = client_frame(0x1, b'{"type":"input","move":[1,0]}')
                deadline = time.monotonic() + 10
                payload = None
                while time.monotonic() < deadline and payload is None:
                    try:
                        s.send(frame * 20)
                    except BlockingIOError:
                        pass  # TCP pushes back: reading is paused
                    try:
                        reader.buf += s.recv(65536)
                    except BlockingIOError:
                        continue
                    while len(reader.buf) >= 2 and payload is None:
                        try:
                            s.setblocking(True)
                            _, op, p = reader.read_frame()
                        finally:
                            s.setblocking(False)
                        if op == 0x8:
                            payload = p
                self.assertIsNotNone(payload, "a sustained flood was never closed")
                self.assertEqual(close_code(payload), 1008)
                self.assertIn(b"too many messages", payload)
            self.assertEqual(d.metrics()['skirmish_connections_ended_total{reason="flood"}'], 1)


class HandshakeHeaders(unittest.TestCase):
    def test_headers_that_must_be_single_are_refused_when_repeated(self):
        with Daemon() as d:
            for extra, name in [("Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==\r\n", b"Sec-WebSocket-Key"),
                                ("Sec-WebSocket-Version: 13\r\n", b"Sec-WebSocket-Version"),
                                ("Upgrade: websocket\r\n", b"Upgrade"),
                                ("Host: other\r\n", b"Host")]:
                with self.subTest(name=name), d.connect() as s:
                    status, _, body = http_request(s, upgrade_request(extra=extra))
                    self.assertEqual(status, 400)
                    self.assertIn(name, body)


class ResetDuringHandshake(unittest.TestCase):
    """Clients that send their upgrade and reset the connection before the daemon answers (a
    daemon held off its CPU: here SIGSTOP). The 101's write fails; the connection was then
    marked open after that write had closed it, and the hello's write closed it again: libuv
    aborted the daemon (SIGABRT at the first burst, seen on the commit before)."""

    def test_a_reset_before_the_101_is_written_closes_that_connection_only(self):
        with Daemon() as d:
            for burst in range(3):
                os.kill(d.proc.pid, signal.SIGSTOP)
                try:
                    socks = []
                    for _ in range(20):
                        s = d.connect()
                        s.sendall(upgrade_request())
                        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        socks.append(s)
                    for s in socks:
                        s.close()  # with a zero linger: a reset, after the request
                finally:
                    os.kill(d.proc.pid, signal.SIGCONT)
                # Every one of them gone, and none counted as an open WebSocket (no more closes
                # than opens): the gauge must come back to 0, not below.
                self.assertTrue(wait_until(lambda: d.metrics().get("skirmish_connections") == 1, timeout=10),
                                d.metrics().get("skirmish_connections"))
                self.assertEqual(d.metrics().get("skirmish_websockets"), 0)
                self.assertIsNone(d.proc.poll(), f"the daemon died at burst {burst}")
            with d.connect() as s:  # and it still serves
                self.assertEqual(json.loads(open_websocket(s).read_until(0x1))["type"], "hello")


class Ids(unittest.TestCase):
    def test_tokens_and_session_ids_carry_no_counter(self):
        with Daemon() as d:
            with d.connect() as s:
                reader = ResponseReader(s)
                ids = []
                for i in range(40):
                    body = json.dumps({"name": f"p{i}"}).encode()
                    s.sendall(b"POST /session HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                    status, _, answer = reader.read()
                    self.assertEqual(status, 200)
                    w = json.loads(answer)
                    ids += [w["session"], w["token"]]
        for a, b in zip(ids, ids[1:]):
            self.assertRegex(a, r"^[0-9a-f]{32}$")
        # A counter XOR-ed with a salt changes only its low bits from one id to the next.
        tails = [int(x[-8:], 16) for x in ids]
        close = sum(1 for a, b in zip(tails, tails[1:]) if a ^ b < 1 << 16)
        self.assertLess(close, 3, "consecutive ids differ only in their low bits")


if __name__ == "__main__":
    unittest.main()
