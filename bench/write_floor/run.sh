#!/usr/bin/env bash
# Builds and runs write_floor.c: the per-write kernel cost of a loopback broadcast on this machine.
#   bench/write_floor/run.sh            N="1000 5000" LEN="300 2000" REPEATS=3 TICKS=60
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-$(mktemp -d)}
cc -O2 -Wall -o "$OUT/write_floor" "$HERE/write_floor.c"
for n in ${N:-1000 5000}; do
  for len in ${LEN:-300 2000}; do
    for mode in 0 1; do
      for _ in $(seq "${REPEATS:-3}"); do "$OUT/write_floor" "$n" "$len" "$mode" "${TICKS:-60}"; done
    done
  done
done
