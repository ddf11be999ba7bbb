#!/usr/bin/env bash
# Installs Debian's Chromium (/usr/bin/chromium) when it is missing, for the viewer's browser tests
# (packages/viewer/test/browser.test.ts, driven by playwright-core, which never downloads a browser).
# As root, or with passwordless sudo. Safe to run again: it does nothing when Chromium is there.
set -euo pipefail

chromium=/usr/bin/chromium
[ -x "$chromium" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: $chromium is missing and there is no apt-get here; install Chromium and retry" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo=(sudo -n); else
    echo "ensure-chromium: $chromium is missing; run as root: apt-get install -y chromium" >&2
    exit 1
  fi
fi
echo "ensure-chromium: installing Debian's chromium" >&2
export DEBIAN_FRONTEND=noninteractive
# Another test's setup may be running apt at the same moment: wait for its lock, retry a few times.
for attempt in 1 2 3 4 5; do
  if "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 update -qq >&2 &&
     "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 install -y -qq chromium >&2; then
    break
  fi
  echo "ensure-chromium: apt-get failed (attempt $attempt), retrying" >&2
  sleep 10
done
[ -x "$chromium" ] || { echo "ensure-chromium: $chromium still missing after apt-get install chromium" >&2; exit 1; }
