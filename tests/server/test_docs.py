"""The README's configuration table, config/skirmish.json and docs/metrics.md must describe the
daemon as built."""
import json
import os
import re
import subprocess
import unittest
import urllib.request

from daemon import Daemon
from redis_server import RedisServer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DAEMON = os.environ.get("SKIRMISHD", "build/server/skirmishd")


class Docs(unittest.TestCase):
    def test_readme_lists_every_option_with_its_default(self):
        table = subprocess.run([DAEMON, "--print-options-table"], capture_output=True, text=True, check=True).stdout
        with open(os.path.join(ROOT, "README.md")) as f:
            readme = f.read()
        rows = [line for line in table.splitlines() if line.startswith("| `")]
        self.assertGreater(len(rows), 20)
        for row in rows:
            self.assertIn(row, readme, "README.md is out of date: run skirmishd --print-options-table")

    def test_config_file_holds_the_built_in_defaults(self):
        printed = json.loads(subprocess.run([DAEMON, "--print-config"], capture_output=True, text=True,
                                            check=True, env={"PATH": os.environ.get("PATH", "")}).stdout)
        with open(os.path.join(ROOT, "config", "skirmish.json")) as f:
            self.assertEqual(json.load(f), printed)

    def test_help_lists_the_main_flags(self):
        out = subprocess.run([DAEMON, "--help"], capture_output=True, text=True, check=True).stdout
        for flag in ["--config", "--host", "--port", "--web-root", "--log-level", "--tick-rate", "--world-size",
                     "--monsters", "--view-radius"]:
            self.assertIn(flag, out)

    def test_a_bad_value_stops_start_up_naming_the_key(self):
        r = subprocess.run([DAEMON, "--tick-rate", "500"], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("game.tick_rate", r.stderr)
        self.assertIn("500", r.stderr)
        self.assertIn("1 to 128", r.stderr)
        r = subprocess.run([DAEMON], capture_output=True, text=True, env={"SKIRMISH_PORT": "http"})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("server.port", r.stderr)
        self.assertIn("SKIRMISH_PORT", r.stderr)

    def test_a_misspelt_variable_is_named_with_the_setting_it_is_near(self):
        with Daemon("--state-file", "", env={"SKIRMISH_TICK_RAT": "10", "SKIRMISH_SKIP_FRESH": "1"}) as d:
            d.wait_for_log(r"SKIRMISH_TICK_RAT is not a setting \(did you mean SKIRMISH_TICK_RATE\?\); ignored")
            self.assertNotIn("SKIRMISH_SKIP_FRESH", "".join(d.lines))


    def test_docs_metrics_names_every_family_the_daemon_exposes(self):
        # Everything on: two worlds, a fleet on a real Redis, Agones (no sidecar needed for its
        # families to be there).
        with open(os.path.join(ROOT, "docs", "metrics.md")) as f:
            documented = set(re.findall(r"^\| `(skirmish_[a-z_]+)` \|", f.read(), re.M))
        with RedisServer() as redis:
            d = Daemon("--state-file", "", "--worlds", "2", "--redis-url", redis.url, "--agones", "on").start()
            try:
                d.wait_for_log(r"fleet: joined the directory")
                with urllib.request.urlopen(d.url("/metrics"), timeout=5) as r:
                    text = r.read().decode()
                exposed = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
            finally:
                self.assertEqual(d.stop(), 0)
        self.assertGreater(len(exposed), 70)
        # The families with two labels have two (the second was once folded into the first).
        for world in ("world-1", "world-2"):
            for cls in ("player", "watcher"):
                self.assertRegex(text, rf'(?m)^skirmish_send_every_ticks\{{world="{world}",class="{cls}"\}} \d')
        self.assertEqual(exposed - documented, set(), "exposed by the daemon, not in docs/metrics.md")
        self.assertEqual(documented - exposed, set(), "in docs/metrics.md, not exposed by the daemon")


if __name__ == "__main__":
    unittest.main()
