"""The daemon under Agones, against a stand-in for the Agones SDK sidecar: no Agones SDK server
can run on our machines (it needs a Kubernetes cluster), so AgonesSdkStandIn below serves the
documented REST endpoints (POST /ready, /health, /shutdown; PUT /metadata/label; GET
/gameserver) on a free loopback port and records every call. It checks: Ready once listening
(also when the sidecar starts after the daemon), Health every 2 s, the player count as a label,
Shutdown at the end of a graceful stop, an allocation's label skirmish/world picking the world
new players go to, and that a sidecar that fails never costs the game."""
import asyncio
import json
import threading
import time
import unittest
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import websockets

from daemon import Daemon, wait_until
from nginx_front import free_port


class AgonesSdkStandIn:
    """A STAND-IN for Agones' SDK sidecar (not the real one): records (time, method, path, body)."""

    def __init__(self, port=0, status=200):
        self.calls = []
        self.status = status
        self.labels = {}  # the GameServer's labels, as an allocation would set them
        self.delays = {}  # path -> seconds to wait before answering (a slow sidecar)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # for the chunked GameServer below

            def do_GET(self):
                outer.calls.append((time.monotonic(), self.command, self.path, ""))
                if self.path != "/gameserver":
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                # As the SDK server's REST gateway (Go's net/http) sends a body of some size:
                # chunked, in more than one chunk.
                body = json.dumps({"object_meta": {"name": "stand-in-gameserver", "labels": dict(outer.labels)},
                                   "status": {"state": "Ready", "address": "127.0.0.1"}}).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                half = len(body) // 2
                for chunk in (body[:half], body[half:], b""):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))

            def _serve(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode() if length else ""
                outer.calls.append((time.monotonic(), self.command, self.path, body))
                time.sleep(outer.delays.get(self.path, 0))
                known = (self.command, self.path) in {("POST", "/ready"), ("POST", "/health"), ("POST", "/shutdown"),
                                                      ("PUT", "/metadata/label")}
                code = outer.status if known else 404
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_POST = do_PUT = _serve

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def paths(self, method, path):
        return [c for c in list(self.calls) if c[1] == method and c[2] == path]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def join_players(d, n):
    """Joins n players and leaves them connected until the returned function is awaited."""
    async def go():
        sockets = []
        for i in range(n):
            ws = await websockets.connect(d.ws_url(), max_queue=None)
            await ws.recv()
            await ws.send(json.dumps({"type": "join", "name": f"agones{i}"}))
            while json.loads(await ws.recv())["type"] != "welcome":
                pass
            sockets.append(ws)
        return sockets
    return go


class Agones(unittest.TestCase):
    def test_ready_health_players_and_shutdown(self):
        sdk = AgonesSdkStandIn()
        d = Daemon("--monsters", "10", "--state-file", "", env={"AGONES_SDK_HTTP_PORT": str(sdk.port)}).start()
        try:
            wait_until(lambda: sdk.paths("POST", "/ready"), timeout=5)
            self.assertEqual(len(sdk.paths("POST", "/ready")), 1)  # taken once: not sent again

            async def play():
                sockets = await join_players(d, 2)()
                wait_labels = lambda: any(json.loads(c[3]) == {"key": "players", "value": "2"}
                                          for c in sdk.paths("PUT", "/metadata/label"))
                await asyncio.get_running_loop().run_in_executor(None, lambda: wait_until(wait_labels, timeout=6))
                for ws in sockets:
                    await ws.close()
            asyncio.run(asyncio.wait_for(play(), 30))

            # Health on a 2 s beat.
            start = time.monotonic()
            wait_until(lambda: len([c for c in sdk.paths("POST", "/health") if c[0] > start]) >= 2, timeout=6)
            beats = [c[0] for c in sdk.paths("POST", "/health")]
            gaps = [b - a for a, b in zip(beats, beats[1:])]
            self.assertTrue(all(1.5 < g < 2.6 for g in gaps), gaps)
            m = d.metrics()
            self.assertEqual(m["skirmish_agones_ready"], 1)
            self.assertEqual(m["skirmish_agones_failures_total"], 0)
            self.assertEqual(sdk.paths("POST", "/shutdown"), [])
        finally:
            code = d.stop()
            sdk.stop()
        self.assertEqual(code, 0)
        shutdown = sdk.paths("POST", "/shutdown")
        self.assertEqual(len(shutdown), 1, "Shutdown at the end of the graceful stop")
        # ... after everything else it told the sidecar.
        self.assertEqual(max(c[0] for c in sdk.calls), shutdown[0][0])

    def test_a_sidecar_that_starts_late_or_fails_costs_the_game_nothing(self):
        port = free_port()
        d = Daemon("--monsters", "10", "--state-file", "", env={"AGONES_SDK_HTTP_PORT": str(port)}).start()
        sdk = None
        try:
            # No sidecar yet: the game plays anyway.
            async def play_alone():
                for ws in await join_players(d, 1)():
                    await ws.close()
            asyncio.run(asyncio.wait_for(play_alone(), 15))
            self.assertEqual(d.metrics()["skirmish_agones_ready"], 0)
            # It comes up answering 500: still not ready, and counted.
            sdk = AgonesSdkStandIn(port, status=500)
            wait_until(lambda: len(sdk.paths("POST", "/ready")) >= 2, timeout=5)
            self.assertEqual(d.metrics()["skirmish_agones_ready"], 0)
            self.assertGreater(d.metrics()["skirmish_agones_failures_total"], 0)
            # It recovers: Ready is taken (Health went on all along).
            sdk.status = 200
            self.assertTrue(wait_until(lambda: d.metrics()["skirmish_agones_ready"] == 1, timeout=5))
            self.assertTrue(sdk.paths("POST", "/health"))
            self.assertTrue(any("no answer" in line for line in d.lines), "the missing sidecar was logged")
        finally:
            code = d.stop()
            if sdk:
                sdk.stop()
        self.assertEqual(code, 0)

    def test_an_allocation_label_picks_the_world_of_new_players(self):
        sdk = AgonesSdkStandIn()
        d = Daemon("--agones", "on", "--worlds", "2", "--state-file", "",
                   env={"AGONES_SDK_HTTP_PORT": str(sdk.port)}).start()

        def placement():
            with urllib.request.urlopen(d.url("/worlds"), timeout=5) as r:
                return json.load(r)["placement"]

        async def join_one():
            ws = await websockets.connect(d.ws_url(), max_queue=None)
            await ws.recv()
            await ws.send(json.dumps({"type": "join", "name": "allocated"}))
            while (msg := json.loads(await ws.recv()))["type"] != "welcome":
                pass
            await ws.close()
            return msg["world"]["name"]

        try:
            wait_until(lambda: sdk.paths("GET", "/gameserver"), timeout=5)
            self.assertEqual(placement(), "world-1")
            # The allocator sets the label; the daemon reads it with its next Health.
            sdk.labels["skirmish/world"] = "world-2"
            wait_until(lambda: placement() == "world-2", timeout=5)
            self.assertEqual(asyncio.run(join_one()), "world-2")
            # A name the process does not have is no pick; the label gone, placing as usual:
            # world-2 has the one player (away) now, so company takes new players there.
            sdk.labels["skirmish/world"] = "world-9"
            d.wait_for_log(r"the allocation names world 'world-9', which this process does not have")
            self.assertEqual(placement(), "world-2")
            sdk.labels.clear()
            self.assertEqual(asyncio.run(join_one()), "world-2")
            self.assertEqual(d.metrics()["skirmish_agones_failures_total"], 0)
        finally:
            self.assertEqual(d.stop(), 0)
            sdk.stop()

    def test_a_slow_ready_is_waited_for_not_sent_again(self):
        # A Ready that timed out may have been taken; one more landing after an allocation
        # would put the allocated server back in the Ready pool.
        sdk = AgonesSdkStandIn()
        sdk.delays["/ready"] = 3.5
        d = Daemon("--agones", "on", "--state-file", "", env={"AGONES_SDK_HTTP_PORT": str(sdk.port)}).start()
        try:
            self.assertTrue(wait_until(lambda: d.metrics()["skirmish_agones_ready"] == 1, timeout=8))
            time.sleep(1.5)
            self.assertEqual(len(sdk.paths("POST", "/ready")), 1)
            # Health went on meanwhile: Agones counts it from the container's start.
            ready_at = sdk.paths("POST", "/ready")[0][0]
            self.assertTrue([c for c in sdk.paths("POST", "/health") if c[0] < ready_at + 3.4])
        finally:
            self.assertEqual(d.stop(), 0)
            sdk.stop()

    def test_a_ready_still_waiting_does_not_hold_the_stop(self):
        sdk = AgonesSdkStandIn()
        sdk.delays["/ready"] = 60
        d = Daemon("--agones", "on", "--state-file", "", env={"AGONES_SDK_HTTP_PORT": str(sdk.port)}).start()
        try:
            self.assertTrue(wait_until(lambda: sdk.paths("POST", "/ready"), timeout=5))
            start = time.monotonic()
            self.assertEqual(d.stop(timeout=40), 0)
            self.assertLess(time.monotonic() - start, 5)
            self.assertEqual(len(sdk.paths("POST", "/shutdown")), 1)
        finally:
            sdk.stop()

    def test_a_large_gameserver_document_is_read(self):
        # Labels, annotations and lists make a GameServer of 100 KB and more.
        sdk = AgonesSdkStandIn()
        sdk.labels.update({f"team.example.com/label-{i}": "x" * 200 for i in range(500)})
        sdk.labels["skirmish/world"] = "world-2"
        d = Daemon("--agones", "on", "--worlds", "2", "--state-file", "",
                   env={"AGONES_SDK_HTTP_PORT": str(sdk.port)}).start()

        def placement():
            with urllib.request.urlopen(d.url("/worlds"), timeout=5) as r:
                return json.load(r)["placement"]

        try:
            self.assertTrue(wait_until(lambda: placement() == "world-2", timeout=6))
            self.assertEqual(d.metrics()["skirmish_agones_failures_total"], 0)
        finally:
            self.assertEqual(d.stop(), 0)
            sdk.stop()

    def test_off_means_off(self):
        sdk = AgonesSdkStandIn()
        d = Daemon("--agones", "off", "--state-file", "", env={"AGONES_SDK_HTTP_PORT": str(sdk.port)}).start()
        try:
            # A second and a half of game time: Ready would have come by then (it is sent once
            # listening), and Health too.
            wait_until(lambda: d.metrics()["skirmish_ticks_total"] >= 30, timeout=5)
            self.assertEqual(sdk.calls, [])
            self.assertNotIn("skirmish_agones_ready", d.metrics())
        finally:
            self.assertEqual(d.stop(), 0)
            sdk.stop()


class Manifests(unittest.TestCase):
    """deploy/agones cannot be applied here (no cluster); this checks they parse and agree with
    each other and with the daemon (its port, its health beat)."""

    def test_fleet_and_autoscaler_agree(self):
        import os
        import yaml
        here = os.path.join(os.path.dirname(__file__), "..", "..", "deploy", "agones")
        with open(os.path.join(here, "fleet.yaml")) as f:
            fleet = yaml.safe_load(f)
        with open(os.path.join(here, "fleetautoscaler.yaml")) as f:
            scaler = yaml.safe_load(f)
        self.assertEqual((fleet["apiVersion"], fleet["kind"]), ("agones.dev/v1", "Fleet"))
        self.assertEqual((scaler["apiVersion"], scaler["kind"]), ("autoscaling.agones.dev/v1", "FleetAutoscaler"))
        self.assertEqual(scaler["spec"]["fleetName"], fleet["metadata"]["name"])
        gs = fleet["spec"]["template"]["spec"]
        self.assertEqual(gs["ports"][0]["containerPort"], 8080)  # the image's SKIRMISH_PORT
        # Our Health beat fits the health check with room for a missed beat.
        self.assertGreaterEqual(gs["health"]["periodSeconds"], 2 * 2)
        buffer = scaler["spec"]["policy"]["buffer"]
        self.assertLessEqual(buffer["minReplicas"], buffer["maxReplicas"])


if __name__ == "__main__":
    unittest.main()
