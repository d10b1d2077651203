#!/usr/bin/env bash
# Builds the tests that run code on several threads (ctest label "threads") with clang's
# ThreadSanitizer and runs them. Fails on any data race report.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/build-tsan"
CC=clang CXX=clang++ cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSKIRMISH_TSAN=ON >/dev/null
# Only what the threaded tests need: the names of their targets are the names of the tests.
mapfile -t targets < <(ctest --test-dir "$dir" -N -L threads | sed -n 's/^ *Test *#[0-9]*: *//p')
if [[ ${#targets[@]} -eq 0 ]]; then
  echo "tsan: no test has the label threads" >&2
  exit 1
fi
cmake --build "$dir" -j "$(nproc)" --target "${targets[@]}"
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  ctest --test-dir "$dir" --output-on-failure --timeout 600 -L threads
