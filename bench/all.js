'use strict';
/**
 * `pnpm bench` and `pnpm bench:micro`: the micro benchmarks (micro.js, stream.js, otlp.js,
 * opentelemetry.js, pipeline.js, stream-heap.js) and,
 * unless `micro` is asked for, the HTTP overhead matrix (http/run.js), all on the chosen Node:
 *   node bench/all.js [micro] [--node <major>[,<major>...]]      (or BENCH_NODE=24)
 * Each micro bench's figures go to bench/results/<date>-node<major>-<name>.json (`-quick` when
 * BENCH_ROUNDS or BENCH_ROUND_MS are set), the HTTP matrix writes its own files (http/run.js).
 */
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { underNode, nodeTag } = require('./node');
const { RESULTS, today } = require('./http/lib');

if (underNode()) return;

const only = process.argv[2];
if (only !== undefined && only !== 'micro') throw new TypeError(`usage: node bench/all.js [micro] [--node <major>] (got "${only}")`);
const quick = process.env.BENCH_ROUNDS !== undefined || process.env.BENCH_ROUND_MS !== undefined;
const json = (name) => path.join(RESULTS, `${today()}-${nodeTag()}-${name}${quick ? '-quick' : ''}.json`);

const steps = [
  { args: ['--expose-gc', path.join(__dirname, 'micro.js')], env: { BENCH_JSON: json('micro') } },
  { args: [path.join(__dirname, 'stream.js')], env: { BENCH_JSON: json('stream') } },
  { args: [path.join(__dirname, 'otlp.js')], env: { BENCH_JSON: json('otlp') } },
  { args: [path.join(__dirname, 'opentelemetry.js')], env: { BENCH_JSON: json('opentelemetry') } },
  { args: [path.join(__dirname, 'pipeline.js')], env: { BENCH_JSON: json('pipeline') } },
  { args: ['--expose-gc', path.join(__dirname, 'stream-heap.js')], env: {} },
];
if (only !== 'micro') steps.push({ args: [path.join(__dirname, 'http', 'run.js')], env: {} });

process.stderr.write(`bench: Node ${process.version}\n`);
for (const step of steps) {
  const r = spawnSync(process.execPath, step.args, { stdio: 'inherit', env: { ...process.env, ...step.env } });
  if (r.status !== 0) {
    process.stderr.write(`bench: ${path.relative(path.join(__dirname, '..'), step.args[step.args.length - 1])} exited ${r.status ?? r.signal}\n`);
    process.exitCode = r.status || 1;
    break;
  }
}
