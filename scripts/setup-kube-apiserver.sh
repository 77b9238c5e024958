#!/usr/bin/env bash
# Builds the kube-apiserver that the Kubernetes tests run against (a real API server on etcd,
# packages/testing/src/kube-apiserver.ts), from the Go module in scripts/kube-apiserver/, into a
# cache outside the clone: ${XDG_CACHE_HOME:-$HOME/.cache}/streamforge/kube-apiserver-<version>/.
# The binary is kept while go.mod and go.sum are unchanged (a build takes minutes).
# Kubernetes publishes no kube-apiserver binary this project may fetch, and `go install` of it
# fails (its go.mod replaces its staging modules by local folders), hence our own module.
# Never fails the set-up: without Go, or when the build fails, it says so and the Kubernetes
# tests skip with the same reason. Prints nothing when there is nothing to do.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
module="$root/scripts/kube-apiserver"
version="$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3 }' "$module/go.mod")"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/streamforge/kube-apiserver-${version}"
binary="$cache/kube-apiserver"
stamp="$cache/.module.sha256"
want="$(cat "$module/go.mod" "$module/go.sum" | sha256sum | cut -d' ' -f1)"

if [ -x "$binary" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi

go_bin="$(command -v go || true)"
if [ -z "$go_bin" ] && [ -x /usr/local/go/bin/go ]; then go_bin=/usr/local/go/bin/go; fi
if [ -z "$go_bin" ]; then
  echo "setup-kube-apiserver: no Go toolchain (go on PATH or /usr/local/go); the Kubernetes API tests will skip" >&2
  exit 0
fi

mkdir -p "$cache"
# One build at a time: a second set-up waits for the first and then finds the binary.
exec 9>"$cache/.lock"
flock 9
if [ -x "$binary" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi

echo "setup-kube-apiserver: building kube-apiserver ${version} with $("$go_bin" env GOVERSION) into ${cache} (several minutes, once)" >&2
started=$SECONDS
# -mod=readonly: the build uses exactly the committed go.sum, it never rewrites it.
if (cd "$module" && "$go_bin" build -mod=readonly -buildvcs=false -trimpath -ldflags "-s -w" -o "$binary.partial" k8s.io/kubernetes/cmd/kube-apiserver); then
  mv -f "$binary.partial" "$binary"
  echo "$want" > "$stamp"
  echo "setup-kube-apiserver: built in $((SECONDS - started)) s" >&2
else
  rm -f "$binary.partial"
  echo "setup-kube-apiserver: the build failed (see above); the Kubernetes API tests will skip" >&2
fi
exit 0
