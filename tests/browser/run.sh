#!/bin/sh
# Runs the browser test of the web demo against the real daemon.
#   tests/browser/run.sh [path/to/skirmishd]
# Env: SKIRMISHD, SKIRMISH_WEB_ROOT (serve web/ from disk), CHROMIUM (default /usr/bin/chromium).
# playwright-core is installed from package-lock.json (npm ci) when it is missing or is not
# the pinned version (the pin is the newest release that still runs on Debian 12's Node 18).
set -eu
cd "$(dirname "$0")"
want=$(node -p "require('./package-lock.json').packages['node_modules/playwright-core'].version")
have=$(node -p "require('./node_modules/playwright-core/package.json').version" 2>/dev/null || true)
if [ "$want" != "$have" ]; then
  npm ci --no-audit --no-fund
fi
exec node demo.test.mjs "$@"
