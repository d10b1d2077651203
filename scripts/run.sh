#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a running daemon:
# installs what is missing, builds, and starts skirmishd with its built-in defaults
# (the demo is then at http://localhost:8080/). Arguments are passed to skirmishd,
# e.g. scripts/run.sh --port 9000 --log-level debug
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
TARGET=skirmishd "$root/scripts/build.sh" "$root/build"
exec "$root/build/server/skirmishd" "$@"
