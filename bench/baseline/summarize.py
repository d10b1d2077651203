"""Turns one bench/baseline/compare.sh results folder into summary.json and summary.md.

    summarize.py RESULTS_DIR ["SERVER SERVER ..."]   (the table's order)

Per run: the tester's report (TAG.json) and the server's samples (TAG.server.json: utime,
stime and RSS at idle, at the measured window's start and at its end). The cost is the
server's CPU-seconds (user + system) over the window per 1,000,000 tick frames the tester
received in it, as in bench/summarize.py; 1 CPU-s per 1M frames = 1 microsecond per frame.
"""
import glob
import json
import os
import statistics
import sys


def run_row(report, srv):
    m = report["measured"]
    start, end = srv["start"], srv["end"]
    wall = end["t"] - start["t"]
    alive = end["user_s"] is not None and start["user_s"] is not None
    user = end["user_s"] - start["user_s"] if alive else None
    sys_ = end["sys_s"] - start["sys_s"] if alive else None
    cpu = user + sys_ if alive else None
    fps = m["frames_per_s"]
    rate = cpu / wall if alive and wall > 0 else None
    sent = srv.get("frames_sent", {})
    busy = None
    if start.get("cpu_busy_s") is not None and end.get("cpu_busy_s") is not None and wall > 0:
        busy = 100 * (end["cpu_busy_s"] - start["cpu_busy_s"]) / wall
    steal = None
    if start.get("cpu_steal_s") is not None and end.get("cpu_steal_s") is not None and wall > 0:
        steal = 100 * (end["cpu_steal_s"] - start["cpu_steal_s"]) / wall
    return {
        "n": srv["n"],
        "repeat": srv["repeat"],
        "server": srv["server"],
        "frame_bytes": srv["frame_bytes"],
        "players": report["clients"]["connected_at_window_start"],
        "frames": m["frames"],
        "frames_per_s": fps,
        "delivered_pct": 100 * m["delivered_ratio_by_time"],
        "missing": m["missing"],
        "delay_p50_ms": m["delay_ms"]["p50"],
        "delay_p99_ms": m["delay_ms"]["p99"],
        "bytes_per_frame": m["bytes_per_frame"],
        "server_cpu_pct": 100 * rate if rate is not None else None,
        "cpu_s_per_million_frames": rate / fps * 1e6 if rate is not None and fps else None,
        "user_s_per_million_frames": user / wall / fps * 1e6 if alive and wall > 0 and fps else None,
        "sys_s_per_million_frames": sys_ / wall / fps * 1e6 if alive and wall > 0 and fps else None,
        "kernel_share_pct": 100 * sys_ / cpu if alive and cpu else None,
        "cpu0_busy_pct": busy,
        "others_on_cpu0_pct": busy - 100 * rate if busy is not None and rate is not None else None,
        "cpu0_steal_pct": steal,
        "tester_cpu_pct": report["tester_cpu"]["measured_percent_of_one_core"],
        "server_frames_sent": (sent["end"] - sent["start"]) if sent.get("start") is not None and sent.get("end") is not None else None,
        "errors": m["error_total"],
        "disconnects": m["disconnect_total"],
    }


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def main():
    out_dir = sys.argv[1]
    runs = []
    for path in sorted(glob.glob(os.path.join(out_dir, "*.server.json"))):
        tag = os.path.basename(path)[: -len(".server.json")]
        report_path = os.path.join(out_dir, tag + ".json")
        if not os.path.exists(report_path):
            print(f"summarize: no tester report for {tag}", file=sys.stderr)
            continue
        with open(path) as f:
            srv = json.load(f)
        with open(report_path) as f:
            report = json.load(f)
        row = run_row(report, srv)
        row["tag"] = tag
        row["profiled"] = tag.startswith("perf-")
        runs.append(row)

    measured = [r for r in runs if not r["profiled"]]
    order = sys.argv[2].split() if len(sys.argv) > 2 else []
    for r in measured:
        if r["server"] not in order:
            order.append(r["server"])
    table = []
    for n in sorted({r["n"] for r in measured}):
        base = None
        for server in order:
            rs = sorted((r for r in measured if r["n"] == n and r["server"] == server), key=lambda r: r["repeat"])
            if not rs:
                continue
            row = {"n": n, "server": server, "runs": len(rs),
                   "per_run_cpu_s_per_million_frames": [r["cpu_s_per_million_frames"] for r in rs]}
            for k in ("players", "frame_bytes", "bytes_per_frame", "frames_per_s", "delivered_pct", "missing",
                      "delay_p50_ms", "delay_p99_ms", "server_cpu_pct", "cpu_s_per_million_frames",
                      "user_s_per_million_frames", "sys_s_per_million_frames", "kernel_share_pct",
                      "others_on_cpu0_pct", "cpu0_steal_pct", "tester_cpu_pct"):
                row[k] = median([r[k] for r in rs])
            if server == "skirmishd":
                base = row["cpu_s_per_million_frames"]
            table.append(row)
        for row in table:
            if row["n"] == n:
                c = row["cpu_s_per_million_frames"]
                row["skirmishd_over_this"] = base / c if base is not None and c else None

    machine = ""
    if os.path.exists(os.path.join(out_dir, "machine.txt")):
        with open(os.path.join(out_dir, "machine.txt")) as f:
            machine = f.read()
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump({"machine": machine, "runs": runs, "table": table}, f, indent=2)

    lines = [
        "| N (connected) | server | frame payload (B) | CPU-s per 1M frames, median (runs) | user / kernel "
        "| kernel share | server CPU (% core) | frames delivered | delay p50 / p99 (ms) | tester CPU | others on CPU 0 "
        "| skirmishd / this |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in table:
        per_run = ", ".join(fmt(v, ".2f") for v in r["per_run_cpu_s_per_million_frames"])
        payload = r["frame_bytes"] if r["frame_bytes"] is not None else r["bytes_per_frame"] - 4
        lines.append(
            f"| {r['n']} ({fmt(r['players'], '.0f')}) | {r['server']} | {fmt(payload, '.0f')} | "
            f"**{fmt(r['cpu_s_per_million_frames'], '.2f')}** ({per_run}) | "
            f"{fmt(r['user_s_per_million_frames'], '.2f')} / {fmt(r['sys_s_per_million_frames'], '.2f')} | "
            f"{fmt(r['kernel_share_pct'], '.0f')} % | {fmt(r['server_cpu_pct'], '.0f')} | "
            f"{fmt(r['delivered_pct'], '.2f')} % | {fmt(r['delay_p50_ms'], '.1f')} / {fmt(r['delay_p99_ms'], '.1f')} | "
            f"{fmt(r['tester_cpu_pct'], '.0f')} % | {fmt(r['others_on_cpu0_pct'], '.0f')} % | "
            f"{fmt(r['skirmishd_over_this'], '.2f')} |")
    lines.append("")
    lines.append("CPU-s per 1M frames: the server's utime + stime over the tester's measured window, per million tick "
                 "frames the tester received (= microseconds per frame); median of the runs, the runs in brackets. "
                 "user / kernel: the same split by utime and stime. skirmishd's payload is its average frame "
                 "(tester bytes per frame - 4). Others on CPU 0: CPU 0's busy time (/proc/stat) minus the "
                 "server's, in % of the window: other processes' share of the server's core.")
    with open(os.path.join(out_dir, "summary.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
