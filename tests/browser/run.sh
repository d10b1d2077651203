#!/bin/sh
# Runs the browser test of the web demo against the real daemon.
#   tests/browser/run.sh [path/to/skirmishd]
# Env: SKIRMISHD, SKIRMISH_WEB_ROOT (serve web/ from disk), CHROMIUM (default /usr/bin/chromium).
set -eu
cd "$(dirname "$0")"
if [ ! -d node_modules/playwright-core ]; then
  npm ci --no-audit --no-fund
fi
exec node demo.test.mjs "$@"
