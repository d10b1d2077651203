"""The game over plain HTTP: sessions, short polls, long polls (answered within a tick of
news, empty after their timeout, freed when the client goes away), caps and bad requests."""
import json
import statistics
import socket
import threading
import time
import unittest

from daemon import Daemon, wait_until
from raw_ws import ResponseReader


class Http:
    """One keep-alive HTTP/1.1 connection that sends JSON and reads JSON."""

    def __init__(self, d, timeout=10):
        self.sock = d.connect(timeout=timeout)
        self.reader = ResponseReader(self.sock)

    def request(self, method, path, body=None):
        data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        head = f"{method} {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {len(data)}\r\n"
        if data:
            head += "Content-Type: application/json\r\n"
        self.sock.sendall(head.encode() + b"\r\n" + data)
        status, headers, body = self.reader.read()
        return status, headers, (json.loads(body) if body else None)

    def close(self):
        self.sock.close()


def metric(d, name):
    return d.metrics()[name]


class Sessions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon("--tick-rate", "20").start()

    @classmethod
    def tearDownClass(cls):
        assert cls.d.stop() == 0

    def setUp(self):
        self.h = Http(self.d)

    def tearDown(self):
        self.h.close()

    def join(self, name="poller"):
        status, _, welcome = self.h.request("POST", "/session", {"name": name})
        self.assertEqual(status, 200)
        return welcome

    def test_join_answers_welcome_with_session_and_world(self):
        w = self.join()
        self.assertEqual(w["type"], "welcome")
        self.assertIn("token", w)
        self.assertEqual(len(w["session"]), 32)
        self.assertEqual(w["hello"]["type"], "hello")
        self.assertIn("obstacles", w["hello"]["world"])

    def test_short_polls_deliver_every_tick_in_order(self):
        sid = self.join()["session"]
        ticks = []
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            status, _, frames = self.h.request("GET", f"/session/{sid}/poll")
            self.assertEqual(status, 200)
            ticks += [f["tick"] for f in frames]
            time.sleep(0.2)  # a short poller: asks on its own schedule
        self.assertGreater(len(ticks), 15)
        # In order, and every tick but those the daemon chose not to send (a late turn's
        # ticks go out as one frame, which carries all their changes).
        self.assertEqual(ticks, sorted(set(ticks)))
        missing = (ticks[-1] - ticks[0] + 1) - len(ticks)
        self.assertLessEqual(missing, self.d.ticks_not_sent())

    def test_long_poll_answers_within_a_tick_of_news(self):
        sid = self.join()["session"]
        self.h.request("GET", f"/session/{sid}/poll")  # drain
        waits = []
        for _ in range(5):
            start = time.monotonic()
            status, _, frames = self.h.request("GET", f"/session/{sid}/longpoll?timeout=5")
            waits.append(time.monotonic() - start)
            self.assertEqual(status, 200)
            self.assertGreaterEqual(len(frames), 1)
            self.assertLess(waits[-1], 1.0, waits)  # a tick, not the 5 s timeout
            self.assertLess(abs(frames[-1]["ts"] - time.time() * 1000), 1000)
        # Typically within one tick period (+ slack); the median, so that one stall of a slow
        # (sanitizer) build or of this client does not decide.
        self.assertLess(statistics.median(waits), 0.05 * 2 + 0.05, waits)

    def test_inputs_move_the_player(self):
        w = self.join("walker")
        sid, me = w["session"], w["id"]
        status, _, frames = self.h.request("GET", f"/session/{sid}/longpoll?timeout=5")
        start = next(e for f in frames for e in f["entities"] if e["id"] == me)
        self.assertEqual(self.h.request("POST", f"/session/{sid}/input", {"type": "input", "move": [1, 0]})[0], 204)
        x = start["x"]
        for _ in range(40):
            _, _, frames = self.h.request("GET", f"/session/{sid}/longpoll?timeout=5")
            for f in frames:
                for e in f["entities"]:
                    if e["id"] == me and "x" in e:
                        x = e["x"]
            if x > start["x"] + 20:
                break
        self.assertGreater(x, start["x"] + 20)

    def test_ping_is_answered_through_input(self):
        sid = self.join()["session"]
        status, _, replies = self.h.request("POST", f"/session/{sid}/input", {"type": "ping", "t": 7})
        self.assertEqual(status, 200)
        self.assertEqual(replies[0]["type"], "pong")
        self.assertEqual(replies[0]["t"], 7)

    def test_spectator_session_can_join_later(self):
        status, _, watching = self.h.request("POST", "/session", {"type": "watch", "x": 100, "y": 100})
        self.assertEqual(status, 200)
        self.assertEqual(watching["type"], "watching")
        status, _, replies = self.h.request("POST", f"/session/{watching['session']}/input",
                                            {"type": "join", "name": "late"})
        self.assertEqual(status, 200)
        self.assertEqual(replies[0]["type"], "welcome")

    def test_leave_ends_the_session(self):
        sid = self.join()["session"]
        self.assertEqual(self.h.request("DELETE", f"/session/{sid}")[0], 204)
        self.assertEqual(self.h.request("GET", f"/session/{sid}/poll")[0], 404)

    def test_bad_session_ids_are_404(self):
        for path in ["/session/nope/poll", "/session/nope/longpoll", "/session/nope/input", "/session/nope"]:
            method = "POST" if path.endswith("input") else "DELETE" if path.endswith("nope") else "GET"
            status, _, body = self.h.request(method, path, {"type": "ping"} if method == "POST" else None)
            self.assertEqual(status, 404, path)
            self.assertEqual(body["type"], "error")

    def test_bad_bodies_are_400(self):
        self.assertEqual(self.h.request("POST", "/session", b"{not json")[0], 400)
        self.assertEqual(self.h.request("POST", "/session", {"name": ""})[0], 400)
        self.assertEqual(self.h.request("POST", "/session", [1, 2])[0], 400)
        # A NUL ends the text for nlohmann's parser: what follows it must not make it JSON.
        self.assertEqual(self.h.request("POST", "/session", b'{"name":"a"}\x00')[0], 400)
        sid = self.join()["session"]
        self.assertEqual(self.h.request("POST", f"/session/{sid}/input", {"type": "input", "move": "up"})[0], 400)
        self.assertEqual(self.h.request("POST", f"/session/{sid}/input", b'{"type":"input","move":[1,0]}\x00junk')[0], 400)
        self.assertEqual(self.h.request("GET", f"/session/{sid}/longpoll?timeout=soon")[0], 400)
        # A value that does not decode is refused too, not taken as absent (the default wait).
        self.assertEqual(self.h.request("GET", f"/session/{sid}/longpoll?timeout=%zz")[0], 400)
        # "A number of seconds": not strtod's hex or infinity.
        for odd in ("0x5", "inf", "nan", "1e999"):
            self.assertEqual(self.h.request("GET", f"/session/{sid}/longpoll?timeout={odd}")[0], 400, odd)

    def test_requests_pipelined_behind_a_long_poll_are_answered_in_order(self):
        sid = self.join()["session"]
        self.h.request("GET", f"/session/{sid}/poll")
        self.h.sock.sendall(f"GET /session/{sid}/longpoll?timeout=5 HTTP/1.1\r\nHost: t\r\n\r\n"
                            f"POST /session/{sid}/input HTTP/1.1\r\nHost: t\r\nContent-Length: 24\r\n\r\n"
                            f'{{"type":"ping","t":42.0}}'.encode())
        first = self.h.reader.read()
        second = self.h.reader.read()
        self.assertEqual(first[0], 200)
        self.assertEqual(json.loads(first[2])[0]["type"], "tick")
        self.assertEqual(second[0], 200)
        self.assertEqual(json.loads(second[2])[0]["t"], 42.0)

    def test_requests_pipelined_behind_a_long_poll_past_a_request_s_worth_wait_and_are_all_answered(self):
        # Four inputs of 40 KiB each behind a long poll: more than a request may be (header and
        # body limits, 72 KiB) waits with the socket unread. The daemon before closed the
        # connection at that point, answering nothing, not even the long poll.
        sid = self.join()["session"]
        self.h.request("GET", f"/session/{sid}/poll")
        pipelined = f"GET /session/{sid}/longpoll?timeout=5 HTTP/1.1\r\nHost: t\r\n\r\n".encode()
        for i in range(4):
            body = f'{{"type":"ping","t":{i}}}'.encode().ljust(40 * 1024)  # JSON may end in spaces
            pipelined += (f"POST /session/{sid}/input HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                          f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        sender = threading.Thread(target=self.h.sock.sendall, args=(pipelined,), daemon=True)
        sender.start()
        answers = [self.h.reader.read() for _ in range(5)]
        sender.join(10)
        self.assertEqual(answers[0][0], 200)
        self.assertEqual(json.loads(answers[0][2])[0]["type"], "tick")
        for i, (status, _, body) in enumerate(answers[1:]):
            self.assertEqual(status, 200, f"input {i}")
            self.assertEqual(json.loads(body)[0]["t"], i)
        # The connection goes on.
        self.assertEqual(self.h.request("POST", f"/session/{sid}/input", {"type": "ping", "t": 9})[2][0]["t"], 9)

    def test_delete_with_away_leaves_the_player_away_for_its_token_and_plain_delete_removes_it(self):
        # A page that closes says ?away=1: its player stays, away (as a closed WebSocket's),
        # and a join with its token takes it back; a plain DELETE is a player leaving.
        watch = Http(self.d)
        try:
            status, _, watching = watch.request("POST", "/session", {"type": "watch", "x": 1600, "y": 1600})
            self.assertEqual(status, 200)
            wid = watching["session"]

            def seen(pid):
                # The player as the watcher's next polls show it (None once removed), waiting
                # for the ticks that follow the change.
                state = {}
                for _ in range(40):
                    _, _, msgs = watch.request("GET", f"/session/{wid}/longpoll?timeout=1")
                    for m in msgs or []:
                        for e in m.get("entities", []) if m.get("type") == "tick" else []:
                            if e["id"] == pid:
                                state = {**state, **e}
                        if m.get("type") == "tick" and pid in m.get("removed", []):
                            return None
                    if state.get("away"):
                        return state
                return state

            w = self.join("closing")
            self.assertEqual(self.h.request("DELETE", f"/session/{w['session']}?away=1")[0], 204)
            self.assertIs(seen(w["id"])["away"], True)
            status, _, back = self.h.request("POST", "/session", {"name": "closing", "token": w["token"]})
            self.assertEqual((status, back["id"], back["resumed"]), (200, w["id"], True))

            self.assertEqual(self.h.request("DELETE", f"/session/{back['session']}")[0], 204)
            self.assertIsNone(seen(w["id"]), "a plain DELETE removes the player")
            status, _, fresh = self.h.request("POST", "/session", {"name": "closing", "token": w["token"]})
            self.assertEqual((status, fresh["resumed"]), (200, False))
            self.assertNotEqual(fresh["id"], w["id"])
            for bad in ("2", "yes", "%zz"):
                self.assertEqual(self.h.request("DELETE", f"/session/{fresh['session']}?away={bad}")[0], 400, bad)
        finally:
            watch.close()

    def test_wrong_methods_are_405_naming_what_the_path_takes(self):
        status, h, _ = self.h.request("GET", "/session")
        self.assertEqual((status, h.get("allow")), (405, "POST"))
        sid = self.join()["session"]
        for method, path, allow in [("POST", f"/session/{sid}/poll", "GET"), ("DELETE", f"/session/{sid}/longpoll", "GET"),
                                    ("GET", f"/session/{sid}/input", "POST"), ("GET", f"/session/{sid}", "DELETE")]:
            status, h, _ = self.h.request(method, path, {} if method == "POST" else None)
            self.assertEqual((status, h.get("allow")), (405, allow), f"{method} {path}")


class LongPollLimits(unittest.TestCase):
    def test_timeout_is_answered_empty(self):
        with Daemon("--tick-rate", "1") as d:
            h = Http(d)
            sid = h.request("POST", "/session", {"name": "patient"})[2]["session"]
            h.request("GET", f"/session/{sid}/longpoll?timeout=5")  # now right after a tick
            start = time.monotonic()
            status, _, frames = h.request("GET", f"/session/{sid}/longpoll?timeout=0.3")
            elapsed = time.monotonic() - start
            self.assertEqual(status, 200)
            self.assertEqual(frames, [])
            self.assertGreater(elapsed, 0.25)
            self.assertLess(elapsed, 0.7)
            h.close()

    def test_long_polls_that_time_out_back_to_back_keep_their_sessions(self):
        # A long poll answered at its timeout stamps its session seen with a clock a little
        # ahead of the sweep's: that must not read as idle for ever (unsigned wrap-around).
        with Daemon("--tick-rate", "1", "--reconnect-window-ms", "15000", "--max-sessions-per-ip", "0") as d:
            lost, answered = [], []

            def poller(i):
                h = Http(d)
                try:
                    sid = h.request("POST", "/session", {"type": "watch"})[2]["session"]
                    deadline = time.monotonic() + 4
                    while time.monotonic() < deadline:
                        status, _, _ = h.request("GET", f"/session/{sid}/longpoll?timeout=0.1")
                        answered.append(status)
                        if status != 200:
                            lost.append((i, status))
                            return
                finally:
                    h.close()

            threads = [threading.Thread(target=poller, args=(i,)) for i in range(40)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            self.assertGreater(len(answered), 40 * 10)
            self.assertEqual(lost, [])
            self.assertEqual(metric(d, "skirmish_http_sessions_expired_total"), 0)

    def test_a_client_gone_mid_wait_is_freed(self):
        with Daemon("--tick-rate", "1") as d:
            h = Http(d)
            sid = h.request("POST", "/session", {"name": "quitter"})[2]["session"]
            h.request("GET", f"/session/{sid}/longpoll?timeout=5")
            h.sock.sendall(f"GET /session/{sid}/longpoll?timeout=20 HTTP/1.1\r\nHost: t\r\n\r\n".encode())
            self.assertTrue(wait_until(lambda: metric(d, "skirmish_polls_waiting") == 1))
            h.close()
            self.assertTrue(wait_until(lambda: metric(d, "skirmish_polls_waiting") == 0, timeout=2))

    def test_waiting_long_polls_are_capped(self):
        with Daemon("--tick-rate", "1", "--max-waiting-polls", "1") as d:
            a, b = Http(d), Http(d)
            sa = a.request("POST", "/session", {"name": "a"})[2]["session"]
            sb = b.request("POST", "/session", {"name": "b"})[2]["session"]
            a.request("GET", f"/session/{sa}/longpoll?timeout=5")
            b.request("GET", f"/session/{sb}/poll")
            a.sock.sendall(f"GET /session/{sa}/longpoll?timeout=20 HTTP/1.1\r\nHost: t\r\n\r\n".encode())
            self.assertTrue(wait_until(lambda: metric(d, "skirmish_polls_waiting") == 1))
            status, headers, body = b.request("GET", f"/session/{sb}/longpoll?timeout=20")
            self.assertEqual(status, 503)
            self.assertIn("retry-after", headers)
            a.close()
            b.close()

    def test_backlog_is_capped_and_coalesced_into_a_full_frame(self):
        with Daemon("--tick-rate", "50", "--max-backlog-ticks", "5") as d:
            h = Http(d)
            w = h.request("POST", "/session", {"name": "slowpoke"})[2]
            sid = w["session"]
            h.request("GET", f"/session/{sid}/poll")
            self.assertTrue(wait_until(lambda: metric(d, "skirmish_backlog_resyncs_total") >= 1, timeout=5))
            status, _, frames = h.request("GET", f"/session/{sid}/poll")
            self.assertEqual(status, 200)
            self.assertLessEqual(len(frames), 5)
            self.assertTrue(frames[0].get("full"))
            self.assertIn(w["id"], [e["id"] for e in frames[0]["entities"]])
            h.close()


if __name__ == "__main__":
    unittest.main()


class Takeover(unittest.TestCase):
    def test_a_polling_session_hears_that_its_player_was_resumed_elsewhere(self):
        with Daemon() as d:
            a, b = Http(d), Http(d)
            wa = a.request("POST", "/session", {"name": "alice"})[2]
            wb = b.request("POST", "/session", {"name": "alice", "token": wa["token"]})[2]
            self.assertTrue(wb["resumed"])
            self.assertEqual(wb["id"], wa["id"])
            status, _, messages = a.request("GET", f"/session/{wa['session']}/poll")
            self.assertEqual(status, 200)
            self.assertIn("session_taken", [m.get("code") for m in messages])
            a.close()
            b.close()

    def test_a_token_taken_back_and_forth_does_not_pile_up_notices(self):
        # A hostile-client audit: two sessions taking one token from each other, neither ever
        # polling, grew each session's notices by a session_taken a round, without end (3,219
        # in 15 s; RSS +5.9 MB with 8 pairs). The same news again is kept once.
        with Daemon() as d:
            a, b = Http(d), Http(d)
            wa = a.request("POST", "/session", {"name": "alice"})[2]
            sb = b.request("POST", "/session", {"type": "watch"})[2]["session"]
            join = {"type": "join", "name": "alice", "token": wa["token"]}
            for _ in range(60):
                for h, sid in ((b, sb), (a, wa["session"])):
                    status, _, replies = h.request("POST", f"/session/{sid}/input", join)
                    self.assertEqual(status, 200, replies)
                    self.assertTrue([m for m in replies if m.get("type") == "welcome" and m["resumed"]], replies)
            for h, sid in ((a, wa["session"]), (b, sb)):
                status, _, messages = h.request("GET", f"/session/{sid}/poll")
                self.assertEqual(status, 200)
                taken = [m for m in messages if m.get("code") == "session_taken"]
                self.assertEqual(len(taken), 1, f"{sid}: {len(taken)} session_taken notices")
            a.close()
            b.close()

    def test_a_held_long_poll_hears_of_the_takeover_at_once_not_at_the_next_tick(self):
        # A tick every 2 s: news that is not a tick must not wait for one.
        with Daemon("--tick-rate", "1", "--send-every-ticks", "2") as d:
            a, b = Http(d), Http(d)
            wa = a.request("POST", "/session", {"name": "alice"})[2]
            sid = wa["session"]
            a.request("GET", f"/session/{sid}/poll")
            # Emptied just after a frame (a long poll is answered by one): the next is 2 s away.
            a.request("GET", f"/session/{sid}/longpoll?timeout=5")
            a.sock.sendall(f"GET /session/{sid}/longpoll?timeout=20 HTTP/1.1\r\nHost: t\r\n\r\n".encode())
            self.assertTrue(wait_until(lambda: metric(d, "skirmish_polls_waiting") == 1))
            start = time.monotonic()
            self.assertTrue(b.request("POST", "/session", {"name": "alice", "token": wa["token"]})[2]["resumed"])
            status, _, body = a.reader.read()
            elapsed = time.monotonic() - start
            self.assertEqual(status, 200)
            self.assertIn("session_taken", [m.get("code") for m in json.loads(body)])
            self.assertLess(elapsed, 0.5)
            a.close()
            b.close()

    def test_a_watch_session_without_a_point_looks_at_the_centre(self):
        with Daemon() as d:
            h = Http(d)
            status, _, body = h.request("POST", "/session", {"type": "watch"})
            self.assertEqual(status, 200)
            self.assertEqual(body["type"], "watching")
            h.close()


class Origins(unittest.TestCase):
    def test_the_websocket_origin_allow_list_holds_for_polling_too(self):
        # A page on another site could make players blind with a text/plain POST (no preflight).
        with Daemon("--allowed-origins", "http://good.example") as d:
            def post(origin):
                with d.connect() as s:
                    body = b'{"name":"x"}'
                    extra = f"Origin: {origin}\r\n" if origin else ""
                    s.sendall(f"POST /session HTTP/1.1\r\nHost: t\r\n{extra}Content-Type: text/plain\r\n"
                              f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
                    status, _, answer = ResponseReader(s).read()
                    return status, json.loads(answer)
            status, answer = post("http://evil.example")
            self.assertEqual((status, answer.get("code")), (403, "origin_not_allowed"), answer)
            status, good = post("HTTP://GOOD.example")
            self.assertEqual(status, 200, good)
            status, _ = post(None)  # no browser, or a same-origin GET: nothing to judge
            self.assertEqual(status, 200)
            with d.connect() as s:
                s.sendall(f"GET /session/{good['session']}/poll HTTP/1.1\r\nHost: t\r\nOrigin: http://evil.example\r\n\r\n".encode())
                self.assertEqual(ResponseReader(s).read()[0], 403)
            self.assertEqual(metric(d, "skirmish_http_sessions"), 2)


class RequestRate(unittest.TestCase):
    def test_a_long_poll_held_by_a_rate_pause_still_lets_the_connection_read_afterwards(self):
        # One tick a second and 4 requests a second: the pause below ends long before the next tick.
        with Daemon("--tick-rate", "1", "--max-messages-per-second", "4") as d:
            h = Http(d)
            sid = h.request("POST", "/session", {"name": "paced"})[2]["session"]
            h.request("GET", f"/session/{sid}/poll")
            status, _, ticks = h.request("GET", f"/session/{sid}/longpoll?timeout=5")  # returns at a tick
            self.assertEqual(status, 200)
            # Right after that tick: five requests use up the allowance, so reading pauses with the
            # long poll held; it is taken up when the allowance refills and then waits for the
            # next tick, with nothing held behind it.
            h.sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n" * 5 +
                           f"GET /session/{sid}/longpoll?timeout=5 HTTP/1.1\r\nHost: t\r\n\r\n".encode())
            for _ in range(5):
                self.assertEqual(h.reader.read()[0], 200)
            status, _, body = h.reader.read()
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(body)[0]["type"], "tick")
            self.assertGreater(metric(d, "skirmish_reads_paused_total"), 0)
            # The connection reads again: a new request is answered.
            status, _, _ = h.request("GET", f"/session/{sid}/poll")
            self.assertEqual(status, 200)
            h.close()
