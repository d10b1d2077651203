"""Overload keeps game time real. The daemon is capped with the cgroup v1 `cpu` controller (so
the load tester keeps its own CPU) at a quarter of a core, or less where that serves everyone,
so that serving its watchers every tick would take 2.5 times what it gets, plus a few wandering
players. It must step every tick (game time
at 20 ticks/s), shed send rate rather than the simulation, watchers before players, and drop
nobody. Then the same without a quota: two event loops on one core that a busy process shares
(cgroup `cpu.shares`), so the CPU the daemon counts (that core) is far more than it gets; its
ticks must still end in time. Real daemon, real skirmish-load clients, real cgroup; skipped
where the cgroup cannot be written (not root, no v1 cpu controller) and under the sanitizers
(their CPU cost is not ours)."""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

from daemon import Daemon, built_with, taskset, wait_until
from raw_ws import http_request

LOAD = os.path.abspath(os.environ.get("SKIRMISH_LOAD", "build/loadtest/skirmish-load"))
CGROUP_CPU = "/sys/fs/cgroup/cpu"
TICK_RATE = 20
WATCHERS = 1500
PLAYERS = 10
# The daemon's CPU per 100 ms: at most a quarter of a core (the scene), and less where
# the machine is quick enough that a quarter serves everyone: the quota is then set so that
# serving every viewer every tick would take OVERLOAD times what the daemon gets. (Machines
# differ by 2.5x here: a quarter core served all 1,500 watchers every tick on one, 8 frames a
# second each on another.) SKIRMISH_OVERLOAD_QUOTA_US sets the most it may get, e.g. 10000 to
# make a quick machine as slow as a slow one.
QUOTA_US = int(os.environ.get("SKIRMISH_OVERLOAD_QUOTA_US", "25000"))
OVERLOAD = 2.5
# With much less, the loop spends most of each 100 ms period throttled and the test measures
# the cgroup's granularity, not the daemon.
MIN_QUOTA_US = 6000
# Without a quota: the share of a core the daemon's loops get is what serving every watcher
# every tick takes over this. Moderate on purpose: well over, late ticks give it away anyway.
SHARED_OVERLOAD = 1.6
# ... but at least this share: on a quick machine a thinner one measures the kernel's slicing.
MIN_SHARE = 0.12
# SendScheduler::Tuning::high: a CPU load above it is an overload by the CPU measure alone.
SCHEDULER_HIGH = 0.97


def steal_seconds():
    """The CPU time the hypervisor took from this VM's cores (/proc/stat `steal`), in seconds:
    printed with the results, since a noisy neighbour shows as a slower daemon."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    return int(fields[8]) / os.sysconf("SC_CLK_TCK") if len(fields) > 8 else 0.0


def process_cpu_seconds(pid):
    """CPU time (user + system) of every thread of `pid`, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cgroup_usable():
    if built_with("SKIRMISH_SANITIZED"):
        return "the sanitizers multiply the daemon's CPU cost"
    if os.geteuid() != 0:
        return "capping the daemon's CPU needs root"
    if not os.access(os.path.join(CGROUP_CPU, "cgroup.procs"), os.W_OK):
        return f"no writable cgroup v1 cpu controller at {CGROUP_CPU}"
    if not os.access(LOAD, os.X_OK):
        return f"no skirmish-load at {LOAD}"
    return None


def cores_to_serve_every_watcher(d):
    """What serving every watcher every tick costs on this machine, in cores: 2 s of what the
    daemon sent and the CPU it used for it."""
    m0, cpu0, t0 = d.metrics(), process_cpu_seconds(d.proc.pid), time.monotonic()
    time.sleep(2)  # a measuring window, not a wait for an event
    m1, cpu1, t1 = d.metrics(), process_cpu_seconds(d.proc.pid), time.monotonic()
    used = (cpu1 - cpu0) / (t1 - t0)
    sent = (m1["skirmish_tick_frames_sent_total"] - m0["skirmish_tick_frames_sent_total"]) / (t1 - t0)
    return used * WATCHERS * TICK_RATE / sent if sent > 0 else float("inf")


def print_history(samples):
    """/stats.json's samples, a second at a time: level, every how many ticks players and
    watchers were served, the frames a second each player and each watcher got, late ticks."""
    print("level/k players/k watchers/player rate/watcher rate/late: " + " ".join(
        f"{s['send_level']}/{s['k_players']}/{s['k_watchers']}/{s['send_rate_players']:.1f}/"
        f"{s['send_rate_watchers']:.1f}/{s['late_ticks']:.0f}" for s in samples))


def stop_process(proc):
    """Ends a helper process this test started, if it still runs."""
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


class CpuCap:
    """A cgroup of its own with `quota_us` per 100 ms (None: no quota), holding one process;
    removed on exit."""

    def __init__(self, pid, quota_us):
        self.path = os.path.join(CGROUP_CPU, f"skirmish-test-{os.getpid()}-{pid}")
        os.mkdir(self.path)
        with open(os.path.join(self.path, "cpu.cfs_period_us"), "w") as f:
            f.write("100000")
        if quota_us is not None:
            self.set_quota(quota_us)
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write(str(pid))

    def set_quota(self, quota_us):
        with open(os.path.join(self.path, "cpu.cfs_quota_us"), "w") as f:
            f.write(str(quota_us))

    def set_shares(self, shares):
        """Its weight against other groups that want the same CPU (1024 is one process's)."""
        with open(os.path.join(self.path, "cpu.shares"), "w") as f:
            f.write(str(shares))

    def remove(self):
        # A cgroup can only go once it is empty: the daemon has exited (or is moved out).
        try:
            with open(os.path.join(self.path, "cgroup.procs")) as f:
                left = f.read().split()
            for pid in left:
                with open(os.path.join(CGROUP_CPU, "cgroup.procs"), "w") as f:
                    f.write(pid)
            os.rmdir(self.path)
        except OSError:
            pass


@unittest.skipIf(cgroup_usable() is not None, cgroup_usable() or "")
class Overload(unittest.TestCase):
    def load(self, tmp, name, behavior, clients, duration, *extra, cpus=None):
        report = os.path.join(tmp, f"{name}.json")
        proc = subprocess.Popen([*taskset(cpus), LOAD, "--url", self.daemon.ws_url(), "--clients", str(clients), "--ramp", "1000",
                                 "--duration", str(duration), "--behavior", behavior, "--report", report, *extra],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return proc, report

    def finish(self, proc, report, timeout):
        out, _ = proc.communicate(timeout=timeout)
        self.assertEqual(proc.returncode, 0, out)
        with open(report) as f:
            return json.load(f)

    def test_a_capped_daemon_keeps_game_time_and_sheds_watchers_before_players(self):
        tmp = tempfile.mkdtemp(prefix="skirmish-overload-")
        with Daemon("--state-file", "", "--tick-rate", str(TICK_RATE), "--max-connections", "5000",
                    log_level="info") as d:
            self.daemon = d
            cap = CpuCap(d.proc.pid, QUOTA_US)
            self.addCleanup(cap.remove)  # after the daemon has exited (the with block)
            try:
                ticks_before = d.metrics()["skirmish_ticks_total"]
                steal_before = steal_seconds()
                started = time.monotonic()
                watchers, watchers_report = self.load(tmp, "watchers", "watch", WATCHERS, 20)
                # The players come once the watchers are in: a storm of handshakes is its own load.
                self.assertTrue(wait_until(lambda: d.metrics().get("skirmish_viewers", 0) >= WATCHERS, timeout=30),
                                "the watchers never all connected")
                # The quota that makes serving every watcher every tick OVERLOAD times what the
                # daemon gets (never more than QUOTA_US).
                full = cores_to_serve_every_watcher(d)
                quota = int(max(MIN_QUOTA_US, min(QUOTA_US, 100000 * full / OVERLOAD)))
                cap.set_quota(quota)
                # The players come once the daemon has lowered its send rate to fit the new
                # quota: it sheds, and no tick has been late for a second (while it adapts,
                # the throttled loop runs late, and that is not what is measured here).
                late = {"count": -1, "since": time.monotonic()}

                def settled():
                    now = d.metrics()
                    if now["skirmish_ticks_late_total"] != late["count"]:
                        late.update(count=now["skirmish_ticks_late_total"], since=time.monotonic())
                    return now["skirmish_send_level"] >= 1 and time.monotonic() - late["since"] >= 1.0
                self.assertTrue(wait_until(settled, timeout=15),
                                f"the daemon never settled at a lower send rate at {quota} us per 100 ms")
                players, players_report = self.load(tmp, "players", "wander", PLAYERS, 8, "--view-fraction", "1")
                p = self.finish(players, players_report, 60)
                m = d.metrics()  # the watchers are still there
                with d.connect() as s:
                    _, _, body = http_request(s, b"GET /stats.json HTTP/1.1\r\nHost: t\r\n\r\n")
                history = json.loads(body)["samples"]
                elapsed = time.monotonic() - started
                steal = steal_seconds() - steal_before
                w = self.finish(watchers, watchers_report, 60)
                self.assertTrue(d.alive())
            finally:
                self.assertEqual(d.stop(), 0)

        pc, wc = p["measured"]["per_client"], w["measured"]["per_client"]
        ticks = m["skirmish_ticks_total"] - ticks_before
        print(f"quota {quota} us per 100 ms (serving every watcher every tick would take {full:.2f} cores); "
              f"game ticks/s {ticks / elapsed:.2f}; send level {m['skirmish_send_level']:.0f}; players: frames/s min "
              f"{pc['frame_rate']['min']:.1f}, largest tick gap {pc['tick_gap']['max']}, delay p99 "
              f"{p['measured']['delay_ms']['p99']:.0f} ms; watchers: frames/s min {wc['frame_rate']['min']:.2f} "
              f"p50 {wc['frame_rate']['p50']:.2f}; game rate p50 {pc['game_rate']['p50']:.2f} / {wc['game_rate']['p50']:.2f}; "
              f"frames skipped (unread) {m.get('skirmish_tick_frames_skipped_total', 0):.0f}, shed "
              f"{m.get('skirmish_frames_shed_total', 0):.0f}, withheld {m['skirmish_tick_frames_withheld_total']:.0f}; "
              f"late ticks {m.get('skirmish_ticks_late_total', 0):.0f}; CPU stolen by the hypervisor {steal:.2f} s "
              f"over {elapsed:.1f} s")
        print_history(history[-16:])
        # The daemon was overloaded, and said so: it withheld frames rather than ticks.
        self.assertGreater(m["skirmish_tick_frames_withheld_total"], 0)
        self.assertGreaterEqual(m["skirmish_send_level"], 1)
        self.assertEqual(m["skirmish_ticks_dropped_total"], 0)
        # Game time stayed real: 20 ticks a second on the daemon's own count ...
        self.assertAlmostEqual(ticks / elapsed, TICK_RATE, delta=TICK_RATE * 0.05)
        # ... and as every client saw it (tick numbers advanced per second of its window).
        for report in (p, w):
            rate = report["measured"]["per_client"]["game_rate"]
            self.assertAlmostEqual(rate["p50"], TICK_RATE, delta=TICK_RATE * 0.02, msg=rate)
            self.assertAlmostEqual(rate["min"], TICK_RATE, delta=TICK_RATE * 0.05, msg=rate)
            self.assertAlmostEqual(rate["max"], TICK_RATE, delta=TICK_RATE * 0.05, msg=rate)
            self.assertEqual(report["total"]["disconnect_total"], 0, report["total"]["disconnects"])
            self.assertEqual(report["total"]["error_total"], 0, report["total"]["errors"])
        # Players kept their rate; watchers gave it up first, but none below its floor
        # (half of them every 4th tick, 2.5 frames a second).
        self.assertEqual(pc["clients"], PLAYERS)
        self.assertEqual(wc["clients"], WATCHERS)
        self.assertGreaterEqual(pc["frame_rate"]["min"], 10, pc)
        self.assertLessEqual(pc["tick_gap"]["max"], 4, pc)
        self.assertGreater(pc["frame_rate"]["p50"], wc["frame_rate"]["p50"], (pc, wc))
        self.assertGreaterEqual(wc["frame_rate"]["min"], 2.5, wc)
        self.assertLessEqual(p["measured"]["delay_ms"]["p99"], 200, p["measured"]["delay_ms"])
        self.assertEqual(p["total"]["view_inconsistent"], 0)

    @unittest.skipIf(len(os.sched_getaffinity(0)) < 2, "needs a core for the daemon and another for its clients")
    def test_loops_that_get_less_cpu_than_they_count_still_end_their_ticks_in_time(self):
        """Two event loops pinned to one core that a busy process shares, with no quota: the
        daemon counts that core as its own, so its CPU load reads the thin share it gets as a
        light load. It must see the overload in its loops' wall time and shed send rate until
        each tick's frames are out before the next tick, rather than run every tick late."""
        tmp = tempfile.mkdtemp(prefix="skirmish-shared-")
        cpus = sorted(os.sched_getaffinity(0))
        daemon_cpu, tester_cpus = {cpus[0]}, set(cpus[1:])
        with Daemon("--state-file", "", "--tick-rate", str(TICK_RATE), "--max-connections", "5000",
                    "--io-threads", "2", log_level="info", cpus=daemon_cpu) as d:
            self.daemon = d
            group = CpuCap(d.proc.pid, None)
            self.addCleanup(group.remove)  # after the daemon has exited (the with block)
            # The watchers outlast the measuring, the settling (at most 15 s) and the players.
            watchers, watchers_report = self.load(tmp, "watchers", "watch", WATCHERS, 30, cpus=tester_cpus)
            self.addCleanup(stop_process, watchers)
            self.assertTrue(wait_until(lambda: d.metrics().get("skirmish_viewers", 0) >= WATCHERS, timeout=30),
                            "the watchers never all connected")
            # The busy process, with a weight that leaves the daemon 1 / SHARED_OVERLOAD of what
            # serving every watcher every tick takes: a moderate overload, which the CPU load
            # does not show and late ticks only now and then.
            full = cores_to_serve_every_watcher(d)
            share = min(0.9, max(MIN_SHARE, full / SHARED_OVERLOAD))
            shares = max(2, int(1024 * share / (1 - share)))
            group.set_shares(shares)
            # Busy for at most two minutes, whatever happens to this test.
            hog = subprocess.Popen([*taskset(daemon_cpu), sys.executable, "-c",
                                    "import time\nend = time.monotonic() + 120\nwhile time.monotonic() < end: pass"])
            self.addCleanup(stop_process, hog)
            hog_group = CpuCap(hog.pid, None)
            self.addCleanup(hog_group.remove)
            # The players come once the daemon has lowered its send rate and its ticks are
            # mostly on time again (at most 2 late in a second: with so thin a share of a
            # core, the loops get their CPU in slices and a tick is late now and then).
            seen = []

            def settled():
                now = d.metrics()
                seen.append((time.monotonic(), now["skirmish_ticks_late_total"]))
                old = [late for t, late in seen if t <= seen[-1][0] - 1.0]
                return now["skirmish_send_level"] >= 1 and old and seen[-1][1] - old[-1] <= 2
            self.assertTrue(wait_until(settled, timeout=15),
                            f"the daemon never settled at a lower send rate with cpu.shares {shares}")
            before = d.metrics()
            started = time.monotonic()
            players, players_report = self.load(tmp, "players", "wander", PLAYERS, 8, "--view-fraction", "1",
                                                cpus=tester_cpus)
            self.addCleanup(stop_process, players)
            p = self.finish(players, players_report, 60)
            m = d.metrics()
            elapsed = time.monotonic() - started
            with d.connect() as s:
                _, _, body = http_request(s, b"GET /stats.json HTTP/1.1\r\nHost: t\r\n\r\n")
            history = json.loads(body)["samples"]
            w = self.finish(watchers, watchers_report, 60)
            self.assertTrue(d.alive())
            self.assertEqual(d.stop(), 0)

        def delta(key):
            return m.get(key, 0) - before.get(key, 0)
        fanouts = delta("skirmish_fanout_duration_seconds_count")
        in_time = delta('skirmish_fanout_duration_seconds_bucket{le="0.05"}') / fanouts if fanouts else 0
        in_two = delta('skirmish_fanout_duration_seconds_bucket{le="0.1"}') / fanouts if fanouts else 0
        ticks = delta("skirmish_ticks_total")
        pc, wc = p["measured"]["per_client"], w["measured"]["per_client"]
        print(f"cpu.shares {shares} against 1024 (serving every watcher every tick would take {full:.2f} cores); "
              f"fan-outs within a tick {in_time:.3f}, within two {in_two:.3f}, of {fanouts:.0f}; send level "
              f"{m['skirmish_send_level']:.0f}; loop busy {m['skirmish_loop_busy']:.2f}, CPU load "
              f"{m['skirmish_load']:.2f}; game ticks/s {ticks / elapsed:.2f}; late ticks "
              f"{delta('skirmish_ticks_late_total'):.0f}; players: frames/s min {pc['frame_rate']['min']:.1f}, "
              f"largest tick gap {pc['tick_gap']['max']}, delay p99 {p['measured']['delay_ms']['p99']:.0f} ms; "
              f"watchers: frames/s min {wc['frame_rate']['min']:.2f} p50 {wc['frame_rate']['p50']:.2f}")
        print_history(history[-20:])
        # The watchers were still there, and it shed where the CPU load alone would not have asked it to.
        self.assertGreaterEqual(m["skirmish_viewers"], WATCHERS)  # the players have left by then
        self.assertGreaterEqual(m["skirmish_send_level"], 1)
        self.assertLess(m["skirmish_load"], SCHEDULER_HIGH)
        # Most ticks' frames were out before the next tick was due (the median fan-out fits in
        # a tick; a core shared this unevenly gives the daemon its time in slices, so not
        # every one does), and most turns started on time: it does not live on catching up ...
        self.assertGreaterEqual(in_time, 0.5)
        self.assertLessEqual(delta("skirmish_ticks_late_total"), ticks * 0.25)
        self.assertEqual(m["skirmish_ticks_dropped_total"], 0)
        self.assertAlmostEqual(ticks / elapsed, TICK_RATE, delta=TICK_RATE * 0.05)
        # ... so the players got nearly every tick, on time, and the watchers what was left. (A
        # late turn steps the ticks it owes and sends one frame: the players' largest gap is
        # the latest turn, 2-4 ticks in this scene, where the capped one above gives 1.)
        for report in (p, w):
            self.assertEqual(report["total"]["disconnect_total"], 0, report["total"]["disconnects"])
            self.assertEqual(report["total"]["error_total"], 0, report["total"]["errors"])
        self.assertEqual(pc["clients"], PLAYERS)
        self.assertGreaterEqual(pc["frame_rate"]["min"], 10, pc)
        self.assertLessEqual(pc["tick_gap"]["max"], 6, pc)
        self.assertAlmostEqual(pc["game_rate"]["p50"], TICK_RATE, delta=TICK_RATE * 0.02, msg=pc["game_rate"])
        self.assertLessEqual(p["measured"]["delay_ms"]["p99"], 200, p["measured"]["delay_ms"])
        self.assertGreaterEqual(wc["frame_rate"]["min"], 2.5, wc)


class HeavyWorld(unittest.TestCase):
    def test_a_world_too_heavy_to_step_in_real_time_still_serves_its_viewers_between_steps(self):
        # 100,000 monsters: on our machines a step takes longer than a tick, so the world is
        # always behind. It used to step 20 owed ticks in one turn of its loop and then shed
        # frames for want of spare CPU: a spectator got one frame in 20-40 s and /healthz
        # waited seconds. A turn now steps for at most a tick period, and the fan-out always
        # has a share of the CPU: a frame for (about) every step.
        import asyncio
        import websockets

        async def watch(url, seconds):
            ticks = []
            async with websockets.connect(url, max_size=None) as ws:
                await asyncio.wait_for(ws.recv(), 30)  # hello
                loop = asyncio.get_running_loop()
                end = loop.time() + seconds
                while loop.time() < end:
                    try:
                        m = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, end - loop.time())))
                    except asyncio.TimeoutError:
                        break
                    if m["type"] == "tick":
                        ticks.append(m["tick"])
            return ticks

        async def scene(d):
            url = d.ws_url("/ws?x=2500&y=2500")
            return await asyncio.gather(watch(url, 8), watch(url, 8))

        with Daemon("--monsters", "100000", "--world-size", "5000", "--view-radius", "400", "--io-threads", "1",
                    log_level="info") as d:
            watchers = asyncio.run(scene(d))
            with d.connect() as s:
                s.settimeout(30)
                self.assertEqual(http_request(s, b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")[0], 200)
        behind = [t for t in watchers if len(t) > 1 and (t[-1] - t[0]) < 0.8 * 20 * 8]
        if not behind:
            self.skipTest("this machine steps 100,000 monsters in real time: nothing to check")
        for ticks in watchers:
            self.assertGreaterEqual(len(ticks), 3, ticks)
            steps = ticks[-1] - ticks[0]
            print(f"\nheavy world: {len(ticks)} frames over {steps} steps", file=sys.stderr)
            self.assertGreaterEqual(len(ticks) - 1, steps / 2, f"{len(ticks)} frames over {steps} steps")


if __name__ == "__main__":
    unittest.main()
