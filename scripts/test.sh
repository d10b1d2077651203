#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to the whole test suite: installs what is
# missing, builds, runs every test (unit, integration against the real daemon, browser),
# then builds again with AddressSanitizer + UndefinedBehaviorSanitizer and runs the unit and
# integration tests there too, and the threaded tests under ThreadSanitizer (scripts/tsan.sh).
# Exits non-zero when anything fails.
# Then every libFuzzer target runs for FUZZ_SECONDS (60) over its seed corpus. Last,
# scripts/check-fresh.sh proves scripts/run.sh and this command in a fresh Debian 12 root.
#   SKIRMISH_SKIP_SANITIZE=1  skip the sanitizer passes (quicker local runs)
#   SKIRMISH_SKIP_FUZZ=1      skip the fuzzing pass
#   SKIRMISH_SKIP_FRESH=1     skip the fresh-root pass
#   SKIRMISH_IN_FRESH_ROOT=1  set by check-fresh.sh inside the fresh root: no fresh-root
#                             pass and no image test there
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh" --test

echo "== build (RelWithDebInfo)"
"$root/scripts/build.sh" "$root/build"
echo "== tests"
ctest --test-dir "$root/build" --output-on-failure --timeout 300

if [[ "${SKIRMISH_SKIP_SANITIZE:-}" != "1" ]]; then
  echo "== build (ASan + UBSan)"
  "$root/scripts/build.sh" "$root/build-asan" -DSKIRMISH_SANITIZE=ON
  echo "== tests under ASan + UBSan"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$root/build-asan" --output-on-failure --timeout 600 -LE 'browser|image'
  echo "== threaded tests under ThreadSanitizer (clang)"
  "$root/scripts/tsan.sh"
fi

if [[ "${SKIRMISH_SKIP_FUZZ:-}" != "1" ]]; then
  echo "== fuzzing (clang, libFuzzer + ASan + UBSan)"
  "$root/scripts/fuzz.sh" "${FUZZ_SECONDS:-60}"
fi

if [[ "${SKIRMISH_SKIP_FRESH:-}" != "1" && "${SKIRMISH_IN_FRESH_ROOT:-}" != "1" ]]; then
  echo "== a fresh Debian 12 root: scripts/run.sh and scripts/test.sh"
  "$root/scripts/check-fresh.sh"
fi
