#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to the whole test suite: installs what is
# missing, builds, runs every test (unit, integration against the real daemon, browser),
# then builds again with AddressSanitizer + UndefinedBehaviorSanitizer and runs the unit and
# integration tests there too. Exits non-zero when anything fails.
# Last, every libFuzzer target runs for FUZZ_SECONDS (60) over its seed corpus.
#   SKIRMISH_SKIP_SANITIZE=1  skip the sanitizer pass (quicker local runs)
#   SKIRMISH_SKIP_FUZZ=1      skip the fuzzing pass
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
    ctest --test-dir "$root/build-asan" --output-on-failure --timeout 600 -LE browser
fi

if [[ "${SKIRMISH_SKIP_FUZZ:-}" != "1" ]]; then
  echo "== fuzzing (clang, libFuzzer + ASan + UBSan)"
  "$root/scripts/fuzz.sh" "${FUZZ_SECONDS:-60}"
fi
