"""Turns one bench/run.sh results folder into summary.json, summary.md and chart.dat.

    summarize.py RESULTS_DIR [TICK_RATE]

Each run has the tester's report (nN-rR.json) and the daemon samples (nN-rR.daemon.json:
CPU seconds and RSS when idle, at the measured window's start and at its end). With
several runs of one N the table shows the median of each column.
"""
import glob
import json
import os
import re
import statistics
import sys


def run_row(report, daemon):
    m = report["measured"]
    start, end, idle = daemon["start"], daemon["end"], daemon["idle"]
    cold = daemon.get("cold")
    wall = end["t"] - start["t"]
    alive = end["cpu_s"] is not None and start["cpu_s"] is not None
    cpu_s = end["cpu_s"] - start["cpu_s"] if alive else None
    players = report["clients"]["connected_at_window_start"]
    frames_per_s = m["frames_per_s"]
    cpu_rate = cpu_s / wall if alive and wall > 0 else None
    sent = daemon.get("daemon_frames_sent", {})
    return {
        "n": daemon["n"],
        "repeat": daemon["repeat"],
        "world_size": daemon["world_size"],
        "monsters": daemon["monsters"],
        "players": players,
        "frames": m["frames"],
        "expected_by_time": m["expected_by_time"],
        "delivered_pct": 100 * m["delivered_ratio_by_time"],
        "delivered_by_gaps_pct": 100 * m["delivered_ratio_by_gaps"],
        "missing": m["missing"],
        "delay_p50_ms": m["delay_ms"]["p50"],
        "delay_p99_ms": m["delay_ms"]["p99"],
        "delay_p999_ms": m["delay_ms"]["p99_9"],
        "delay_max_ms": m["delay_ms"]["max"],
        "daemon_cpu_pct": 100 * cpu_rate if cpu_rate is not None else None,
        "cpu_s_per_million_frames": cpu_rate / frames_per_s * 1e6 if cpu_rate is not None and frames_per_s else None,
        "rss_idle_kib": idle["rss_kib"],
        "rss_end_kib": end["rss_kib"],
        "rss_per_player_kib": (end["rss_kib"] - idle["rss_kib"]) / players if players and alive else None,
        # Beyond the daemon as it started, before any client paged in code: an upper bound.
        "rss_cold_per_player_kib": (end["rss_kib"] - cold["rss_kib"]) / players if players and alive and cold else None,
        # Anonymous memory only (heap and stacks, no code or mapped files).
        "rss_anon_per_player_kib": (end["rss_anon_kib"] - idle["rss_anon_kib"]) / players
        if players and alive and end.get("rss_anon_kib") is not None and idle.get("rss_anon_kib") is not None else None,
        "bytes_per_player_per_s": m["bytes_per_client_per_s"],
        "bytes_per_frame": m["bytes_per_frame"],
        "entities_per_view": m["entities_per_view_avg"],
        "inputs_per_s": m["inputs_per_s"],
        "errors": m["error_total"],
        "disconnects": m["disconnect_total"],
        "tester_cpu_pct": report["tester_cpu"]["measured_percent_of_one_core"],
        "daemon_alive_at_end": 1 if daemon.get("daemon_alive_at_end", True) else 0,
        "daemon_frames_sent": (sent["end"] - sent["start"]) if sent.get("start") is not None and sent.get("end") is not None else None,
    }


def median_row(rows):
    out = {"n": rows[0]["n"], "runs": len(rows)}
    for k, v in rows[0].items():
        if k in ("n", "repeat"):
            continue
        values = [r[k] for r in rows if r[k] is not None]
        out[k] = statistics.median(values) if values else None
    return out


def main():
    out_dir = sys.argv[1]
    runs = []
    for path in sorted(glob.glob(os.path.join(out_dir, "n*-r*.daemon.json"))):
        tag = re.sub(r"\.daemon\.json$", "", os.path.basename(path))
        report_path = os.path.join(out_dir, tag + ".json")
        if not os.path.exists(report_path):
            print(f"summarize: no tester report for {tag}", file=sys.stderr)
            continue
        with open(path) as f:
            daemon = json.load(f)
        with open(report_path) as f:
            report = json.load(f)
        runs.append(run_row(report, daemon))
    by_n = {}
    for r in runs:
        by_n.setdefault(r["n"], []).append(r)
    table = [median_row(rs) for _, rs in sorted(by_n.items())]
    machine = ""
    if os.path.exists(os.path.join(out_dir, "machine.txt")):
        with open(os.path.join(out_dir, "machine.txt")) as f:
            machine = f.read()
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump({"machine": machine, "runs": runs, "table": table}, f, indent=2)

    def fmt(v, spec):
        return "-" if v is None else format(v, spec)

    lines = [
        "| players | frames delivered / expected | delay p50 / p99 / p99.9 (ms) | daemon CPU (% of a core) "
        "| daemon CPU-s per 1M frames | RSS per player, KiB (cold; anon) | bytes per player per s | entities per view "
        "| tester CPU (%) | runs |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in table:
        lines.append(
            f"| {r['players']:.0f} / {r['n']} | {r['frames']:.0f} / {r['expected_by_time']:.0f} "
            f"({fmt(r['delivered_pct'], '.2f')} %) | {fmt(r['delay_p50_ms'], '.1f')} / {fmt(r['delay_p99_ms'], '.1f')} / "
            f"{fmt(r['delay_p999_ms'], '.1f')} | {fmt(r['daemon_cpu_pct'], '.0f')} | "
            f"{fmt(r['cpu_s_per_million_frames'], '.2f')} | {fmt(r['rss_per_player_kib'], '.2f')} "
            f"({fmt(r.get('rss_cold_per_player_kib'), '.2f')}; anon {fmt(r.get('rss_anon_per_player_kib'), '.2f')}) | "
            f"{fmt(r['bytes_per_player_per_s'], ',.0f')} | {fmt(r['entities_per_view'], '.1f')} | "
            f"{fmt(r['tester_cpu_pct'], '.0f')} | {r['runs']} |")
    lines.append("")
    lines.append("players: connected when the measured window started / requested. Expected frames: clients x tick "
                 "rate x seconds. Delay: frame ts to the moment the tester read it (includes the tester's own "
                 "queueing). RSS per player: (RSS at the window's end - idle RSS) / players, where idle is "
                 "sampled after a short warm-up (WARMUP clients played 2 s and left); in brackets the same "
                 "beyond the cold start, and the anonymous part (RssAnon) beyond idle.")
    with open(os.path.join(out_dir, "summary.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(out_dir, "chart.dat"), "w") as f:
        f.write("# players delay_p99_ms daemon_cpu_pct delay_p50_ms\n")
        for r in table:
            f.write(f"{r['n']} {r['delay_p99_ms']} {r['daemon_cpu_pct']} {r['delay_p50_ms']}\n")


if __name__ == "__main__":
    main()
