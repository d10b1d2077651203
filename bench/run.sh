#!/usr/bin/env bash
# The capacity benchmark: skirmishd under N simulated players, N = 100 ... 10000.
#
#   bench/run.sh [CONFIG.json]
#
# For each N it starts a fresh skirmishd (pinned to CPU 0) with a world that grows with N,
# runs skirmish-load (pinned to CPU 1) with N fighting players sending 5 inputs/s, and
# samples the daemon's CPU time and RSS exactly around the tester's measured window (the
# tester writes "start"/"end" lines to its --marker file). Builds nothing: run
# scripts/build.sh first. Results go to bench/results/<time>/ (gitignored): one JSON and
# CSV per run, summary.json, summary.md (the table) and chart.png (gnuplot).
#
# Environment (defaults in brackets):
#   NS="100 1000 5000 10000"  player counts         DURATION=20   measured seconds per run
#   REPEATS=1                 runs per N <= REPEAT_MAX_N [1000], the median is reported
#   RAMP=1000                 connections per second    INPUT_RATE=5   BEHAVIOR=fight
#   TICK_RATE=20              AREA_PER_PLAYER=100000 (world units^2 per player)
#   MONSTERS_PER_PLAYER=0.5   TESTER_THREADS=1   DAEMON_CPU=0   TESTER_CPU=1
#   VIEW_FRACTION=1           share of clients that read whole frames (see skirmish-load --help)
#   PROTOCOL=json             the players' wire: json (v1 text ticks) or v2 (binary, as the demo plays)
#   WARMUP=10                 clients that play for 2 s before the idle sample (0: none), so that
#                             "idle" has its code paged in and RSS per player counts what scales
#   SKIRMISHD=build/server/skirmishd   SKIRMISH_LOAD=build/loadtest/skirmish-load
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SKIRMISHD=${SKIRMISHD:-$ROOT/build/server/skirmishd}
SKIRMISH_LOAD=${SKIRMISH_LOAD:-$ROOT/build/loadtest/skirmish-load}
NS=${NS:-"100 1000 5000 10000"}
DURATION=${DURATION:-20}
REPEATS=${REPEATS:-1}
REPEAT_MAX_N=${REPEAT_MAX_N:-1000}
RAMP=${RAMP:-1000}
WARMUP=${WARMUP:-10}
INPUT_RATE=${INPUT_RATE:-5}
BEHAVIOR=${BEHAVIOR:-fight}
TICK_RATE=${TICK_RATE:-20}
AREA_PER_PLAYER=${AREA_PER_PLAYER:-100000}
MONSTERS_PER_PLAYER=${MONSTERS_PER_PLAYER:-0.5}
TESTER_THREADS=${TESTER_THREADS:-1}
VIEW_FRACTION=${VIEW_FRACTION:-1}
PROTOCOL=${PROTOCOL:-json}
DAEMON_CPU=${DAEMON_CPU:-0}
TESTER_CPU=${TESTER_CPU:-1}
CONFIG=${1:-}

for bin in "$SKIRMISHD" "$SKIRMISH_LOAD"; do
  [[ -x $bin ]] || { echo "bench: $bin is missing: build first (scripts/build.sh)" >&2; exit 1; }
done
command -v taskset >/dev/null || { echo "bench: taskset (util-linux) is missing" >&2; exit 1; }
if ! command -v gnuplot >/dev/null; then
  echo "bench: installing gnuplot-nox for the chart" >&2
  if [[ $(id -u) == 0 ]]; then
    (apt-get install -y -q gnuplot-nox >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q gnuplot-nox >/dev/null; }) ||
      echo "bench: could not install gnuplot-nox: no chart" >&2
  else
    echo "bench: not root: install gnuplot-nox for the chart" >&2
  fi
fi

# Every player is a socket in the tester and another in the daemon: 10,000 players need
# more than the usual 1024 open files. Both processes inherit this limit.
ulimit -n "$(ulimit -Hn)"
max_n=$(tr ' ' '\n' <<<"$NS" | sort -n | tail -1)
if (( $(ulimit -n) < max_n + 200 )); then
  echo "bench: open-file limit $(ulimit -n) is too low for $max_n players: raise the hard limit (ulimit -Hn)" >&2
  exit 1
fi

OUT=$ROOT/bench/results/$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
ln -sfn "$(basename "$OUT")" "$ROOT/bench/results/latest"
CLK_TCK=$(getconf CLK_TCK)
echo "bench: results in $OUT" >&2

DAEMON_PID=
cleanup() {
  if [[ -n $DAEMON_PID ]] && kill -0 "$DAEMON_PID" 2>/dev/null; then kill -TERM "$DAEMON_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT

# Daemon CPU seconds (utime + stime) and RSS (KiB) of $DAEMON_PID, plus a wall-clock stamp.
sample() {
  local stat cpu rss anon now
  if [[ ! -r /proc/$DAEMON_PID/stat ]]; then  # the daemon died: nothing to sample
    echo "{\"cpu_s\": null, \"rss_kib\": null, \"rss_anon_kib\": null, \"t\": $(date +%s.%N)}"
    return
  fi
  stat=$(<"/proc/$DAEMON_PID/stat")
  stat=${stat##*) }  # after the command name; utime and stime are fields 14 and 15
  cpu=$(awk -v t="$CLK_TCK" '{ printf "%.2f", ($12 + $13) / t }' <<<"$stat")
  rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status")
  anon=$(awk '/^RssAnon:/ { print $2 }' "/proc/$DAEMON_PID/status")
  now=$(date +%s.%N)
  echo "{\"cpu_s\": $cpu, \"rss_kib\": $rss, \"rss_anon_kib\": $anon, \"t\": $now}"
}

metric() {  # a counter from /metrics (summed over its labels, e.g. worlds), or null when the daemon has none
  local v
  v=$(curl -s --max-time 2 "http://127.0.0.1:$PORT/metrics" |
      awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $2; f = 1 } END { if (f) printf "%.17g\n", s }')
  echo "${v:-null}"
}

wait_for_marker() {  # wait_for_marker FILE WORD PID: until FILE has WORD or the tester exits
  while ! grep -q "^$2 " "$1" 2>/dev/null; do
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.05
  done
}

run_one() {  # run_one N REPEAT
  local n=$1 rep=$2 tag world monsters obstacles
  tag="n${n}-r${rep}"
  world=$(awk -v n="$n" -v a="$AREA_PER_PLAYER" 'BEGIN { w = sqrt(n * a); if (w < 1000) w = 1000; printf "%.0f", w }')
  monsters=$(awk -v n="$n" -v m="$MONSTERS_PER_PLAYER" 'BEGIN { printf "%d", n * m + 0.5 }')
  obstacles=$(awk -v w="$world" 'BEGIN { o = 12 * (w / 3200) ^ 2; if (o < 12) o = 12; printf "%d", o }')
  local args=(--host 127.0.0.1 --port 0 --log-level info --state-file "" --tick-rate "$TICK_RATE"
              --world-size "$world" --monsters "$monsters" --obstacles "$obstacles"
              --max-players $((n + 100)) --max-connections $((n + 1000)))
  [[ -n $CONFIG ]] && args=(--config "$CONFIG" "${args[@]}")
  # Newer daemons limit connections per address; every simulated player comes from 127.0.0.1.
  "$SKIRMISHD" --help | grep -q -- --max-connections-per-ip && args+=(--max-connections-per-ip 0)

  echo "bench: N=$n (run $rep): world ${world}x${world}, $monsters monsters, $obstacles obstacles" >&2
  local log=$OUT/$tag.daemon.log
  taskset -c "$DAEMON_CPU" "$SKIRMISHD" "${args[@]}" >"$log" 2>&1 &
  DAEMON_PID=$!
  PORT=
  for _ in $(seq 200); do
    PORT=$(grep -o 'listening on [0-9.]*:[0-9]*' "$log" | head -1 | sed 's/.*://') || true
    [[ -n $PORT ]] && break
    kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.05
  done
  [[ -n $PORT ]] || { echo "bench: skirmishd did not start" >&2; cat "$log" >&2; exit 1; }
  sleep 1
  local cold; cold=$(sample)
  if (( WARMUP > 0 )); then
    # A few players first: the code for handshakes, joins and ticks is paged in (file-backed
    # RSS that does not grow with players) before the idle sample. They leave before it.
    taskset -c "$TESTER_CPU" "$SKIRMISH_LOAD" --url "ws://127.0.0.1:$PORT/ws" --clients "$WARMUP" --ramp 100 \
      --duration 2 --behavior "$BEHAVIOR" --input-rate "$INPUT_RATE" >"$OUT/$tag.warmup.txt" 2>&1 ||
      echo "bench: warm-up run failed (see $OUT/$tag.warmup.txt)" >&2
    sleep 1
  fi
  local idle; idle=$(sample)

  local marker=$OUT/$tag.marker
  taskset -c "$TESTER_CPU" "$SKIRMISH_LOAD" --url "ws://127.0.0.1:$PORT/ws" --clients "$n" --ramp "$RAMP" \
    --duration "$DURATION" --behavior "$BEHAVIOR" --input-rate "$INPUT_RATE" --threads "$TESTER_THREADS" --view-fraction "$VIEW_FRACTION" --protocol "$PROTOCOL" \
    --report "$OUT/$tag.json" --csv "$OUT/$tag.csv" --marker "$marker" >"$OUT/$tag.summary.txt" 2>"$OUT/$tag.live.txt" &
  local tester=$! start end frames0=null frames1=null
  wait_for_marker "$marker" start "$tester" || { echo "bench: tester ended before its window" >&2; tail "$OUT/$tag.live.txt" >&2; exit 1; }
  start=$(sample); frames0=$(metric skirmish_tick_frames_sent_total)
  wait_for_marker "$marker" end "$tester" || true
  end=$(sample); frames1=$(metric skirmish_tick_frames_sent_total)
  wait "$tester" || echo "bench: tester exited with $?" >&2
  local daemon_alive=true daemon_exit=0
  if kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill -TERM "$DAEMON_PID"
  else
    daemon_alive=false
    echo "bench: skirmishd was gone before SIGTERM (see $log)" >&2
  fi
  wait "$DAEMON_PID" || daemon_exit=$?
  DAEMON_PID=
  tail -1 "$OUT/$tag.live.txt" >&2 || true

  cat >"$OUT/$tag.daemon.json" <<JSON
{"n": $n, "repeat": $rep, "world_size": $world, "monsters": $monsters, "obstacles": $obstacles,
 "cold": $cold, "idle": $idle, "start": $start, "end": $end,
 "daemon_frames_sent": {"start": $frames0, "end": $frames1},
 "daemon_alive_at_end": $daemon_alive, "daemon_exit_status": $daemon_exit}
JSON
}

for n in $NS; do
  reps=1
  (( n <= REPEAT_MAX_N )) && reps=$REPEATS
  for rep in $(seq "$reps"); do run_one "$n" "$rep"; done
done

{
  echo "nproc: $(nproc)"
  echo "cpu: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "kernel: $(uname -r)"
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "daemon: $("$SKIRMISHD" --version 2>&1 | head -1)"
} >"$OUT/machine.txt"

/usr/bin/python3 "$ROOT/bench/summarize.py" "$OUT" "$TICK_RATE"
if command -v gnuplot >/dev/null; then
  gnuplot -e "datafile='$OUT/chart.dat'; outfile='$OUT/chart.png'" "$ROOT/bench/chart.gp" && echo "bench: chart $OUT/chart.png" >&2
fi
cat "$OUT/summary.md"
