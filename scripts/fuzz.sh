#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for a bounded time over its
# checked-in seed corpus. Fails on any crash, leak or sanitizer report.
#   scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 60; env FUZZ_SECONDS too)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-${FUZZ_SECONDS:-60}}
dir="$root/build-fuzz"
CC=clang CXX=clang++ cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSKIRMISH_FUZZ=ON \
  -DSKIRMISH_TESTS=OFF >/dev/null
targets=(frame_decoder http_request utf8 game_message tick_v2)
cmake --build "$dir" -j "$(nproc)" --target "${targets[@]/%/_fuzz}"
for t in "${targets[@]}"; do
  work=$(mktemp -d)
  # New inputs go to a scratch folder; the checked-in corpus is only read.
  echo "== fuzzing $t for ${seconds}s"
  "$dir/tests/fuzz/${t}_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/" "$work" "$root/tests/fuzz/corpus/$t" 2>&1 | tail -n 12
  if ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* >/dev/null 2>&1; then
    echo "fuzz: $t found a failing input in $work" >&2
    exit 1
  fi
  rm -rf "$work"
done
echo "fuzz: all targets ran ${seconds}s without a finding"
