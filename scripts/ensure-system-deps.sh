#!/usr/bin/env bash
# Installs the system packages some tests need, when they are missing (Debian/Ubuntu, as root or
# with passwordless sudo). Safe to run again: it only installs what is not there.
#
#   python3-aiohttp   the W3C Trace Context test suite (integration/w3c-trace-context), run by
#                     integration/w3c-harness.test.ts with the system Python (/usr/bin/python3)
set -euo pipefail

python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3 || true)

missing=()
if [ -z "$python" ] || ! "$python" -c 'import aiohttp' >/dev/null 2>&1; then missing+=(python3 python3-aiohttp); fi

[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-system-deps: missing ${missing[*]} and no apt-get here; install them (or 'pip install aiohttp' for $python) and retry" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo=(sudo -n); else
    echo "ensure-system-deps: missing ${missing[*]}; run as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
echo "ensure-system-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >&2
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
