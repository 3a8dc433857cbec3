#!/usr/bin/env bash
# The one command that sets up a fresh machine and runs every test:
#   ./scripts/test.sh
# Needs Node 20.10+ and npm. Installs what is missing (pnpm, and redis-server
# through apt when run as root), installs dependencies from the lockfile,
# builds every package, type-checks, runs the whole vitest suite, and ends
# with the line "N passed, N failed" (skips are counted on the line before).
set -uo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=10.34.9

say() { printf '\n== %s\n' "$*"; }

if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing redis-server (apt)"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null \
      || echo "!! could not install redis-server: the Redis tests will be skipped"
  else
    echo "!! redis-server not found and not root: the Redis tests will be skipped (install redis-server or set REDIS_URL)"
  fi
fi

if [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  say "installing pnpm $PNPM_VERSION"
  # Corepack cannot verify signatures on some registries; a pinned global install works everywhere.
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null 2>&1 || { echo "!! npm install -g pnpm failed (try with sudo)"; exit 1; }
fi

set -e
say "installing dependencies"
pnpm install --frozen-lockfile
say "building"
pnpm build
say "type-checking"
pnpm typecheck
set +e

say "testing"
results=.vitest-results.json
rm -f "$results"
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json="$results"
status=$?
node scripts/summarize-results.mjs "$results" || status=1
exit $status
