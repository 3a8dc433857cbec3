#!/usr/bin/env bash
# The README's demo: ./scripts/demo.sh (run it twice; it remembers).
# Sets up what is missing on a fresh machine (pnpm, dependencies, a build),
# then runs examples/demo.ts with a local model: no API key needed.
set -euo pipefail
here="$PWD"
cd "$(dirname "$0")/.."
# Node 22+ first on PATH, the same one test.sh uses (an older node gets Node 24 from the npm registry).
# shellcheck source=node-env.sh
source scripts/node-env.sh || exit 1
PNPM_VERSION=10.34.9
if [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null 2>&1 || { echo "npm install -g pnpm@$PNPM_VERSION failed (try with sudo)"; exit 1; }
fi
[ -d node_modules/.pnpm ] || pnpm install --frozen-lockfile >/dev/null
if [ ! -f packages/core/dist/index.js ] || [ ! -f packages/sqlite/dist/index.js ]; then
  pnpm --filter @sessionkit/core --filter @sessionkit/sqlite build >/dev/null
fi
cd examples
INIT_CWD="$here" exec ../node_modules/.bin/tsx demo.ts "$@"
