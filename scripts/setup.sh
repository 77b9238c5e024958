#!/usr/bin/env bash
# All of StreamForge's set-up on a fresh machine, idempotent: a Node that runs the code,
# the npm packages (exactly as package-lock.json says), the Kafka broker jars, and what the
# browser and Kubernetes API tests need where the machine allows it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

bin="$(scripts/setup-node.sh)"
export PATH="$bin:$PATH"
# Native add-ons build against the headers of the Node that runs them (the machine's
# npm config may point elsewhere).
if [ -f "$bin/../include/node/node.h" ]; then export npm_config_nodedir="$(cd "$bin/.." && pwd)"; fi
# onnxruntime-node's install script would fetch CUDA add-ons from the internet; the CPU
# runtime is already in the package.
export ONNXRUNTIME_NODE_INSTALL=skip

lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
stamp="node_modules/.streamforge-lock.sha256"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ]; then
  echo "setup: installing npm packages (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > "$stamp"
fi

# The console's browser script, bundled from its TypeScript (rewritten only when it changed).
node scripts/build-console.ts >&2

scripts/setup-kafka.sh

# Debian's chromium for the console's browser test (skips with a message when it cannot).
scripts/setup-chromium.sh

# etcd (Debian's) and kube-apiserver (built from source once, into the user's cache) for the
# tests against a real Kubernetes API server; each says why when it cannot, and those tests skip.
scripts/setup-etcd.sh
scripts/setup-kube-apiserver.sh
