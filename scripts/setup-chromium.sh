#!/usr/bin/env bash
# Installs Debian's chromium for the console's browser test (test/browser), which drives it
# with playwright-core: no browser download from anywhere but the distribution's mirrors.
# Idempotent: nothing to do when /usr/bin/chromium exists. Never fails the set-up: without
# root or apt-get it says so, and the browser test skips with the same reason.
set -uo pipefail

if [ -x /usr/bin/chromium ]; then exit 0; fi
if ! command -v apt-get >/dev/null; then
  echo "setup-chromium: no apt-get on this machine; install chromium by hand to run test/browser" >&2
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "setup-chromium: not root; run 'sudo apt-get install chromium' to run test/browser" >&2
  exit 0
fi
echo "setup-chromium: installing Debian's chromium (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; }; then
  echo "setup-chromium: apt-get could not install chromium; test/browser will skip" >&2
fi
exit 0
