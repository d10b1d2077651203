#!/usr/bin/env bash
# Installs, from Debian 12's packages, whatever Skirmish needs to build, run and test.
# Idempotent: packages already present are left alone, and apt is only asked when
# something is missing. Usage: scripts/install-deps.sh [--test]
#   (no flag) what the daemon needs to build and run
#   --test    also what the test suite needs (Python websockets, Chromium, clang for fuzzing
#             and ThreadSanitizer, nginx and openssl for the TLS proxy test, redis-server
#             for the fleet tests,
#             debootstrap for scripts/check-fresh.sh, buildah for the image test; those two
#             are left out inside the fresh root, where their passes are skipped)
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config libuv1-dev nlohmann-json3-dev libspdlog-dev
            libssl-dev node-llhttp libcli11-dev catch2 libhiredis-dev)
test_pkgs=(python3 python3-websockets python3-yaml chromium clang libclang-rt-14-dev curl strace nginx openssl
           redis-server)
if [[ "${SKIRMISH_IN_FRESH_ROOT:-}" != "1" ]]; then test_pkgs+=(debootstrap buildah); fi
# Node may already come from elsewhere (with its own npm, which Debian's npm conflicts
# with), so only ask Debian for node and npm when there is no node at all.
if ! command -v npm >/dev/null 2>&1; then test_pkgs+=(nodejs npm); fi

want=("${build_pkgs[@]}")
if [[ "${1:-}" == "--test" ]]; then want+=("${test_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=""
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  # Packages with a service (nginx, redis-server) must not start it: the tests run their own
  # on free ports, and a system nginx on port 80 or redis on 6379 is not ours to start.
  # policy-rc.d says so to apt, for this install only (one already there is left alone).
  policy=/usr/sbin/policy-rc.d
  made_policy=""
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo_cmd tee "$policy" >/dev/null
    $sudo_cmd chmod 755 "$policy"
    made_policy=1
  fi
  trap '[[ -n "$made_policy" ]] && $sudo_cmd rm -f "$policy"' EXIT
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if command -v systemctl >/dev/null 2>&1; then
    for service in nginx redis-server; do  # nor at the next boot
      if [[ " ${missing[*]} " == *" $service "* ]]; then
        $sudo_cmd systemctl disable "$service" >/dev/null 2>&1 || true
      fi
    done
  fi
else
  echo "install-deps: all packages present"
fi
