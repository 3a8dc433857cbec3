#!/usr/bin/env bash
# Builds PgBouncer $VERSION (below) into .tools/pgbouncer (bin/pgbouncer), for
# the tests of PostgresStore behind a PgBouncer that tracks named prepared
# statements (1.21+; on by default from 1.24). Debian 12 packages only 1.18,
# which refuses them; the tests run behind both. The source is the upstream
# tarball as Debian 13 carries it (the only source reachable from these
# machines besides the npm registry), checked against its pinned SHA-256.
# Needs root for the build dependencies (apt). Prints the binary's path on
# success; on failure says why and returns non-zero (its tests then skip).
set -uo pipefail
cd "$(dirname "$0")/.."

VERSION=1.24.1
SHA256=da72a3aba13072876d055a3e58dd4aba4a5de4ed6148e73033185245598fd3e0
URL="http://deb.debian.org/debian/pool/main/p/pgbouncer/pgbouncer_${VERSION}.orig.tar.gz"
prefix="$PWD/.tools/pgbouncer"
bin="$prefix/bin/pgbouncer"

# Built before, at this version: nothing to do (another version is rebuilt in place).
if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -qx "PgBouncer $VERSION"; then echo "$bin"; exit 0; fi
rm -rf "$prefix"

missing=()
for pkg in gcc make pkg-config libevent-dev libssl-dev curl; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "!! building PgBouncer $VERSION needs ${missing[*]} (not root: install them)" >&2
    exit 1
  fi
  { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; } \
    || { echo "!! apt-get install ${missing[*]} failed" >&2; exit 1; }
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
curl -fsS -m 120 -o "$work/src.tar.gz" "$URL" || { echo "!! could not download $URL" >&2; exit 1; }
echo "$SHA256  $work/src.tar.gz" | sha256sum -c --quiet - >/dev/null 2>&1 \
  || { echo "!! $URL does not match its pinned SHA-256" >&2; exit 1; }
tar -xzf "$work/src.tar.gz" -C "$work" || { echo "!! could not unpack $URL" >&2; exit 1; }
(
  cd "$work/pgbouncer-$VERSION" \
    && ./configure --prefix="$prefix" --without-cares --without-pam --without-ldap >"$work/build.log" 2>&1 \
    && make -j"$(nproc)" >>"$work/build.log" 2>&1 \
    && make install >>"$work/build.log" 2>&1
) || { tail -20 "$work/build.log" >&2; echo "!! building PgBouncer $VERSION failed" >&2; rm -rf "$prefix"; exit 1; }
echo "$bin"
