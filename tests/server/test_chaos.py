"""The chaos script (bench/chaos.py), briefly, against the real daemon: it stays up and the
healthy players keep every tick."""
import io
import os
import sys
import unittest

from daemon import Daemon

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
import chaos  # noqa: E402


class Chaos(unittest.TestCase):
    def test_hostile_clients_do_not_hurt_healthy_ones(self):
        args = ("--ping-interval-ms", "1000", "--ping-timeout-ms", "1000", "--request-timeout-ms", "2000",
                "--hard-limit-bytes", "262144", "--soft-limit-bytes", "65536", "--max-sessions", "200")
        with Daemon(*args, log_level="info") as d:
            out = io.StringIO()
            result = chaos.run("127.0.0.1", d.port, duration=6, healthy=10, out=out)
            print(out.getvalue())
            self.assertTrue(result["alive"])
            self.assertEqual(result["failures"], [])
            self.assertEqual(result["players"], 10)
            # Gaps only where the daemon chose not to send (late turns, send-rate shedding).
            self.assertLessEqual(result["gaps"], d.ticks_not_sent())
            # Every tick for each of them, unless the daemon had to lower the send rate (a busy
            # machine): then still at least 5 frames a second each.
            self.assertGreater(result["frames"], 10 * (20 if d.ticks_not_sent() == 0 else 5) * 4)
            self.assertGreater(result["stats"]["reset_mid_frame"], 0)
            self.assertGreater(result["stats"]["garbage"], 0)
            self.assertGreater(result["stats"]["slowloris_cut_off"], 0)
            st = result["stats"]
            self.assertGreater(st["stalled_pingers"], 0)
            self.assertGreater(st["ping_bursts"], 0)
            self.assertEqual(st["ping_bursts_last_answered"], st["ping_bursts"], "a burst's last ping went unanswered")
            self.assertGreater(st["repeated_key"], 0)
            self.assertEqual(st["repeated_key_refused"], st["repeated_key"])
            self.assertGreater(st["sessions_refused"], 0)
            self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
