#!/usr/bin/env bash
# Installs Debian's etcd-server: the store of the kube-apiserver the Kubernetes tests run
# against (scripts/setup-kube-apiserver.sh builds that). Idempotent: nothing to do when etcd is
# on PATH. Never fails the set-up: without root or apt-get it says so, and the Kubernetes API
# tests skip with the same reason.
set -uo pipefail

if command -v etcd >/dev/null; then exit 0; fi
if ! command -v apt-get >/dev/null; then
  echo "setup-etcd: no apt-get on this machine; install etcd by hand to run the Kubernetes API tests" >&2
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "setup-etcd: not root; run 'sudo apt-get install etcd-server' to run the Kubernetes API tests" >&2
  exit 0
fi
echo "setup-etcd: installing Debian's etcd-server (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
# The tests start etcd themselves, on a free port with a temporary data folder.
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends etcd-server >/dev/null; }; then
  echo "setup-etcd: apt-get could not install etcd-server; the Kubernetes API tests will skip" >&2
fi
exit 0
