#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to the whole test suite: installs what is
# missing, builds, runs every test (unit, integration against the real daemon, browser),
# then builds again with AddressSanitizer + UndefinedBehaviorSanitizer and runs the unit and
# integration tests there too, and the threaded tests under ThreadSanitizer (scripts/tsan.sh).
# Then every libFuzzer target runs for FUZZ_SECONDS (60) over its seed corpus. Last,
# scripts/check-fresh.sh proves scripts/run.sh and this command in a fresh Debian 12 root.
# A stage that fails does not stop the next ones (a flaky test in one pass should not hide what
# the others find); the summary at the end names every failed stage, and the exit is non-zero
# when any failed.
#   SKIRMISH_SKIP_SANITIZE=1  skip the sanitizer passes (quicker local runs)
#   SKIRMISH_SKIP_FUZZ=1      skip the fuzzing pass
#   SKIRMISH_SKIP_FRESH=1     skip the fresh-root pass
#   SKIRMISH_IN_FRESH_ROOT=1  set by check-fresh.sh inside the fresh root: no fresh-root
#                             pass and no image test there
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh" --test

failed=()
summary=()
# stage NAME COMMAND...: runs COMMAND, and records whether it passed.
stage() {
  local name=$1 start=$SECONDS rc=0
  shift
  echo "== $name"
  "$@" || rc=$?
  if ((rc == 0)); then
    summary+=("passed  $name ($((SECONDS - start)) s)")
  else
    summary+=("FAILED  $name (exit $rc, $((SECONDS - start)) s)")
    failed+=("$name")
  fi
  return "$rc"
}

if stage "build (RelWithDebInfo)" "$root/scripts/build.sh" "$root/build"; then
  stage "tests" ctest --test-dir "$root/build" --output-on-failure --timeout 300 || true
fi

if [[ "${SKIRMISH_SKIP_SANITIZE:-}" != "1" ]]; then
  if stage "build (ASan + UBSan)" "$root/scripts/build.sh" "$root/build-asan" -DSKIRMISH_SANITIZE=ON; then
    stage "tests under ASan + UBSan" env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ctest --test-dir "$root/build-asan" --output-on-failure --timeout 600 -LE 'browser|image' || true
  fi
  stage "threaded tests under ThreadSanitizer (clang)" "$root/scripts/tsan.sh" || true
fi

if [[ "${SKIRMISH_SKIP_FUZZ:-}" != "1" ]]; then
  stage "fuzzing (clang, libFuzzer + ASan + UBSan)" "$root/scripts/fuzz.sh" "${FUZZ_SECONDS:-60}" || true
fi

if [[ "${SKIRMISH_SKIP_FRESH:-}" != "1" && "${SKIRMISH_IN_FRESH_ROOT:-}" != "1" ]]; then
  stage "a fresh Debian 12 root: scripts/run.sh and scripts/test.sh" "$root/scripts/check-fresh.sh" || true
fi

echo "== summary"
printf '   %s\n' "${summary[@]}"
if ((${#failed[@]} > 0)); then
  echo "scripts/test.sh: ${#failed[@]} stage(s) failed: ${failed[*]}" >&2
  exit 1
fi
