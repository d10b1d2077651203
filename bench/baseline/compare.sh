#!/usr/bin/env bash
# skirmishd beside a plain Node `ws` broadcast, with the same tester and the same pinning.
#
#   bench/baseline/compare.sh
#
# For each repeat, each N and each server (interleaved, so a change in the machine's other
# load hits all of them alike) it starts the server pinned to CPU 0, runs skirmish-load with
# N idle clients pinned to CPU 1, samples the server's utime and stime (/proc/PID/stat) when
# the tester marks the start and the end of its measured window, and reports the server's
# CPU-seconds per 1,000,000 tick frames the tester received (= microseconds per frame).
# skirmishd gets exactly the world and limits bench/run.sh gives it; the baseline
# (server.js beside this script) sends one prebuilt frame of a fixed size to every client.
#
# Environment (defaults in brackets):
#   NS="1000 5000"   DURATION=15   REPEATS=3   RAMP=1000   TICK_RATE=20
#   SERVERS="skirmishd ws:2048 ws:800 ws:match raw:2048"
#        skirmishd   build/server/skirmishd, as bench/run.sh starts it, tester --behavior idle
#        ws:BYTES    server.js --mode ws --frame-bytes BYTES (ws.send per client)
#        raw:BYTES   server.js --mode raw (a prebuilt WebSocket frame written to each socket)
#        BYTES = match: the payload size skirmishd's frames had in the same repeat and N
#   VIEW_FRACTION=0  share of tester clients that parse whole frames (0: tick and ts only,
#                    so the tester's own CPU stays well below a core at 5,000 clients)
#   PERF=0           1: afterwards, one more run of skirmishd and of ws:2048 at the largest N
#                    under `perf record -e cpu-clock -g` (kernel/user split, top symbols)
#   DAEMON_CPU=0 TESTER_CPU=1  SKIRMISHD=build/server/skirmishd  SKIRMISH_LOAD=build/loadtest/skirmish-load
#   NODE=node
# Both binaries are copied into the results folder first and run from there.
# Needs `npm ci --no-audit --no-fund` in bench/baseline first (it runs it when node_modules
# is missing). Results: bench/results/baseline-<time>/ (gitignored), summary.json, summary.md.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SKIRMISHD=${SKIRMISHD:-$ROOT/build/server/skirmishd}
SKIRMISH_LOAD=${SKIRMISH_LOAD:-$ROOT/build/loadtest/skirmish-load}
NODE=${NODE:-node}
NS=${NS:-"1000 5000"}
DURATION=${DURATION:-15}
REPEATS=${REPEATS:-3}
RAMP=${RAMP:-1000}
TICK_RATE=${TICK_RATE:-20}
SERVERS=${SERVERS:-"skirmishd ws:2048 ws:800 ws:match raw:2048"}
VIEW_FRACTION=${VIEW_FRACTION:-0}
PERF=${PERF:-0}
DAEMON_CPU=${DAEMON_CPU:-0}
TESTER_CPU=${TESTER_CPU:-1}
AREA_PER_PLAYER=100000     # bench/run.sh's defaults: the same world for the same N
MONSTERS_PER_PLAYER=0.5

for bin in "$SKIRMISHD" "$SKIRMISH_LOAD"; do
  [[ -x $bin ]] || { echo "compare: $bin is missing: build first (scripts/build.sh)" >&2; exit 1; }
done
command -v "$NODE" >/dev/null || { echo "compare: node is missing" >&2; exit 1; }
command -v taskset >/dev/null || { echo "compare: taskset (util-linux) is missing" >&2; exit 1; }
if [[ ! -d $HERE/node_modules/ws ]]; then
  (cd "$HERE" && npm ci --no-audit --no-fund)
fi
[[ $PERF == 1 ]] && ! command -v perf >/dev/null && { echo "compare: PERF=1 needs perf" >&2; exit 1; }

ulimit -n "$(ulimit -Hn)"
max_n=$(tr ' ' '\n' <<<"$NS" | sort -n | tail -1)
if (( $(ulimit -n) < max_n + 200 )); then
  echo "compare: open-file limit $(ulimit -n) is too low for $max_n clients: raise the hard limit" >&2
  exit 1
fi

OUT=$ROOT/bench/results/baseline-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
# Run copies: a rebuild of build/ during the benchmark must not swap the binaries mid-way.
cp "$SKIRMISHD" "$OUT/skirmishd"; cp "$SKIRMISH_LOAD" "$OUT/skirmish-load"
SKIRMISHD=$OUT/skirmishd SKIRMISH_LOAD=$OUT/skirmish-load
"$SKIRMISHD" --version >/dev/null && "$SKIRMISH_LOAD" --help >/dev/null || { echo "compare: the copied binaries do not run (a build in progress?)" >&2; exit 1; }
CLK_TCK=$(getconf CLK_TCK)
echo "compare: results in $OUT" >&2

SERVER_PID=
PORT=
cleanup() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -TERM "$SERVER_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT

# The server's utime and stime (seconds) and RSS; the server CPU's busy (user + nice + system +
# irq + softirq), softirq and steal seconds from /proc/stat; and a wall-clock stamp.
sample() {
  local stat
  if [[ ! -r /proc/$SERVER_PID/stat ]]; then
    echo "{\"user_s\": null, \"sys_s\": null, \"rss_kib\": null, \"t\": $(date +%s.%N)}"
    return
  fi
  stat=$(<"/proc/$SERVER_PID/stat")
  stat=${stat##*) }  # after the command name; utime and stime are fields 14 and 15
  awk -v t="$CLK_TCK" -v now="$(date +%s.%N)" -v rss="$(awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status")" \
      -v cpu="cpu$DAEMON_CPU" -v stat="$(grep "^cpu$DAEMON_CPU " /proc/stat)" '
    { split(stat, s, " ")
      printf "{\"user_s\": %.2f, \"sys_s\": %.2f, \"rss_kib\": %d, \"cpu_softirq_s\": %.2f, \"cpu_busy_s\": %.2f, \"cpu_steal_s\": %.2f, \"t\": %s}\n",
             $12 / t, $13 / t, rss, s[8] / t, (s[2] + s[3] + s[4] + s[7] + s[8]) / t, s[9] / t, now }' <<<"$stat"
}

metric() {  # a counter from /metrics, or null
  local v
  v=$(curl -s --max-time 2 "http://127.0.0.1:$PORT/metrics" | awk -v n="$1" '$1 == n { print $2 }' | head -1)
  echo "${v:-null}"
}

wait_for_marker() {  # wait_for_marker FILE WORD PID
  while ! grep -q "^$2 " "$1" 2>/dev/null; do
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.05
  done
}

# The payload bytes per tick frame skirmishd sent in run TAG (from the tester's report:
# bytes received per frame, less the 4-byte WebSocket header of a 126..65535-byte frame).
skirmishd_payload() {
  /usr/bin/python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))["measured"]
b = m["bytes_per_frame"]
print(max(16, round(b - (4 if b > 129 else 2))))' "$OUT/$1.json"
}

# run_one N REPEAT SERVER [perf]
run_one() {
  local n=$1 rep=$2 server=$3 profile=${4:-} tag kind bytes="" world monsters obstacles
  kind=${server%%:*}
  [[ $server == *:* ]] && bytes=${server#*:}
  if [[ $bytes == match ]]; then bytes=$(skirmishd_payload "n${n}-r${rep}-skirmishd"); fi
  tag="n${n}-r${rep}-${server//:/-}"
  [[ -n $profile ]] && tag="perf-n${n}-${server//:/-}"
  local log=$OUT/$tag.server.log cmd
  if [[ $kind == skirmishd ]]; then
    # Exactly bench/run.sh's world and limits for this N.
    world=$(awk -v n="$n" -v a="$AREA_PER_PLAYER" 'BEGIN { w = sqrt(n * a); if (w < 1000) w = 1000; printf "%.0f", w }')
    monsters=$(awk -v n="$n" -v m="$MONSTERS_PER_PLAYER" 'BEGIN { printf "%d", n * m + 0.5 }')
    obstacles=$(awk -v w="$world" 'BEGIN { o = 12 * (w / 3200) ^ 2; if (o < 12) o = 12; printf "%d", o }')
    cmd=("$SKIRMISHD" --host 127.0.0.1 --port 0 --log-level info --state-file "" --tick-rate "$TICK_RATE"
         --world-size "$world" --monsters "$monsters" --obstacles "$obstacles"
         --max-players $((n + 100)) --max-connections $((n + 1000)) --max-connections-per-ip 0)
  else
    cmd=("$NODE" "$HERE/server.js" --host 127.0.0.1 --port 0 --tick-rate "$TICK_RATE" --mode "$kind" --frame-bytes "$bytes")
  fi
  echo "compare: N=$n run $rep: $server${bytes:+ ($bytes B)}${profile:+ under perf}" >&2
  taskset -c "$DAEMON_CPU" "${cmd[@]}" >"$log" 2>&1 &
  SERVER_PID=$!
  PORT=
  for _ in $(seq 200); do
    PORT=$(grep -so 'listening on [0-9.]*:[0-9]*' "$log" | head -1 | sed 's/.*://') || true
    [[ -n $PORT ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.05
  done
  [[ -n $PORT ]] || { echo "compare: $server did not start" >&2; cat "$log" >&2; exit 1; }
  sleep 1
  local idle; idle=$(sample)

  local marker=$OUT/$tag.marker
  taskset -c "$TESTER_CPU" "$SKIRMISH_LOAD" --url "ws://127.0.0.1:$PORT/ws" --clients "$n" --ramp "$RAMP" \
    --duration "$DURATION" --behavior idle --view-fraction "$VIEW_FRACTION" --threads 1 \
    --report "$OUT/$tag.json" --csv "$OUT/$tag.csv" --marker "$marker" >"$OUT/$tag.summary.txt" 2>"$OUT/$tag.live.txt" &
  local tester=$! start end frames0 frames1 perf_pid=
  wait_for_marker "$marker" start "$tester" || { echo "compare: tester ended before its window" >&2; tail "$OUT/$tag.live.txt" >&2; exit 1; }
  start=$(sample); frames0=$(metric skirmish_tick_frames_sent_total)
  if [[ -n $profile ]]; then
    taskset -c "$TESTER_CPU" perf record -q -e cpu-clock -g -p "$SERVER_PID" -o "$OUT/$tag.perf.data" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  wait_for_marker "$marker" end "$tester" || true
  end=$(sample); frames1=$(metric skirmish_tick_frames_sent_total)
  if [[ -n $perf_pid ]]; then kill -INT "$perf_pid" 2>/dev/null || true; wait "$perf_pid" || true; fi
  wait "$tester" || echo "compare: tester exited with $?" >&2
  kill -TERM "$SERVER_PID" 2>/dev/null || echo "compare: $server was gone before SIGTERM" >&2
  wait "$SERVER_PID" || true
  SERVER_PID=
  tail -1 "$OUT/$tag.live.txt" >&2 || true

  cat >"$OUT/$tag.server.json" <<JSON
{"n": $n, "repeat": $rep, "server": "$server", "kind": "$kind", "frame_bytes": ${bytes:-null},
 "idle": $idle, "start": $start, "end": $end,
 "frames_sent": {"start": $frames0, "end": $frames1}}
JSON
  if [[ -n $profile ]]; then
    perf report -i "$OUT/$tag.perf.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -15 >"$OUT/$tag.perf-dso.txt" || true
    perf report -i "$OUT/$tag.perf.data" --no-children --sort sym --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -40 >"$OUT/$tag.perf-sym.txt" || true
    perf report -i "$OUT/$tag.perf.data" --children --sort sym --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -60 >"$OUT/$tag.perf-children.txt" || true
    rm -f "$OUT/$tag.perf.data"
  fi
}

{
  echo "nproc: $(nproc)"
  echo "cpu: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "kernel: $(uname -r)"
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "daemon: $("$SKIRMISHD" --version 2>&1 | head -1), sha256 $(sha256sum "$SKIRMISHD" | cut -c1-16), git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"
  echo "node: $("$NODE" --version), ws $("$NODE" -p "require('$HERE/node_modules/ws/package.json').version")"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/machine.txt"

started=$(date +%s)
for rep in $(seq "$REPEATS"); do
  for n in $NS; do
    for server in $SERVERS; do run_one "$n" "$rep" "$server"; done
  done
done
if [[ $PERF == 1 ]]; then
  run_one "$max_n" 0 skirmishd perf
  run_one "$max_n" 0 ws:2048 perf
fi
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine.txt"
echo "compare: $(( $(date +%s) - started )) s in all" >&2

/usr/bin/python3 "$HERE/summarize.py" "$OUT" "$SERVERS"
cat "$OUT/summary.md"
