#!/usr/bin/env bash
# Builds, with clang's ThreadSanitizer, the daemon and the tests that run code on several
# threads (ctest label "threads": unit tests of the frame assembler, and integration tests
# against the daemon with several event loops), and runs them. Fails on any data race report.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/build-tsan"
CC=clang CXX=clang++ cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSKIRMISH_TSAN=ON >/dev/null
# The threaded unit tests (a test's name is its target's) and the daemon the others start.
mapfile -t tests < <(ctest --test-dir "$dir" -N -L threads | sed -n 's/^ *Test *#[0-9]*: *//p')
if [[ ${#tests[@]} -eq 0 ]]; then
  echo "tsan: no test has the label threads" >&2
  exit 1
fi
targets=(skirmishd)
for t in "${tests[@]}"; do
  [[ $t == server_test_* ]] || targets+=("$t")
done
cmake --build "$dir" -j "$(nproc)" --target "${targets[@]}"
# halt_on_error: the first race ends the process (a daemon's exit code then fails its test).
# ignore_noninstrumented_modules: libuv is not built with TSan and closes sockets with a raw
# syscall TSan cannot see, so a descriptor number it frees and the kernel hands out again
# looks like a race on the file descriptor; what libuv does inside is not ours to check. The
# same goes for spdlog (a system library, not instrumented either): its logger is the
# thread-safe one (_mt), which this run does not check.
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ignore_noninstrumented_modules=1" \
  ctest --test-dir "$dir" --output-on-failure --timeout 900 -L threads
