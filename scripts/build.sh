#!/usr/bin/env bash
# Configures and builds Skirmish into a build folder (default build/).
#   scripts/build.sh [BUILD_DIR] [extra cmake -D options...]
# Uses every core; CI=true turns warnings into errors; TARGET=name builds one target only.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$root/build}
shift || true
werror=OFF
if [[ "${CI:-}" == "true" ]]; then werror=ON; fi
cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSKIRMISH_WERROR=$werror "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)" ${TARGET:+--target "$TARGET"}
