'use strict';
/**
 * Where the added CPU of a variant goes, kernel included: Linux `perf` on two servers in turn.
 *   node bench/http/perf-diff.js <framework> <route> <variant> [baseline=bare]
 * Each server (bench/http/server.js, pinned like the benchmark, `--perf-basic-prof` so JIT frames
 * carry JavaScript names) is loaded by autocannon at BENCH_RATE req/s (default 5000: a fixed rate,
 * so both see the same load), warmed up for BENCH_WARMUP seconds (default 3), then sampled by
 * `perf record -F 2999 -g` for BENCH_DURATION seconds (default 4). Prints each side's samples as
 * µs per request (requests counted by the server over the sampled window) and the symbols whose
 * time grew most, the kernel's among them: the CPU profiler of V8 (profile.js) does not see those.
 * perf's own overhead inflates every figure by a similar factor on both sides; compare them.
 * Needs `perf` (Debian: linux-perf) and permission to trace (root, or perf_event_paranoid <= 1).
 */
// On the Node chosen with --node <major> / BENCH_NODE (bench/node.js), when one is.
if (require('../node').underNode()) return;
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const autocannon = require('autocannon');
const { pinSelf, startServer, control, sleep } = require('./lib');

if (pinSelf(1)) return;

const [framework = 'express', route = 'stream', variant = 'tracewire', baseline = 'bare'] = process.argv.slice(2);
const ROUTES = { hello: '/hello/world', stream: '/stream' };
if (!ROUTES[route]) throw new TypeError(`unknown route "${route}" (hello, stream)`);
const RATE = Number(process.env.BENCH_RATE || 5000);
const WARMUP = Number(process.env.BENCH_WARMUP || 3);
const DURATION = Number(process.env.BENCH_DURATION || 4);
const HZ = 2999;
const TOP = Number(process.env.BENCH_TOP || 40);

if (spawnSync('perf', ['--version']).status !== 0) {
  console.error('perf-diff: `perf` is not installed (Debian: apt-get install linux-perf)');
  process.exit(2);
}

/** Samples per symbol of one server under load: { total, bySymbol, requests }. */
async function sample(spec, dir) {
  // --perf-basic-prof also turns on V8's code log: into the temporary folder, not the working one.
  const logfile = path.join(dir, `${spec.replace(/[^\w.-]/g, '_')}-v8.log`);
  const s = await startServer(framework, spec, { nodeArgs: ['--perf-basic-prof', '--no-logfile-per-isolate', `--logfile=${logfile}`] });
  const url = `http://127.0.0.1:${s.port}${ROUTES[route]}`;
  try {
    await autocannon({ url, connections: 10, duration: WARMUP, overallRate: RATE });
    const data = path.join(dir, `${spec.replace(/[^\w.-]/g, '_')}.data`);
    const load = autocannon({ url, connections: 10, duration: DURATION + 2, overallRate: RATE });
    await sleep(1000);
    await control(s.control, '/__bench/reset');
    const perf = spawn('perf', ['record', '-F', String(HZ), '-g', '-p', String(s.pid), '-o', data], { stdio: 'ignore' });
    await sleep(DURATION * 1000);
    perf.kill('SIGINT');
    await new Promise((resolve) => perf.once('exit', resolve));
    const w = await control(s.control, '/__bench/read');
    await load;
    const report = spawnSync('perf', ['report', '-i', data, '--no-children', '--sort', 'sym', '-g', 'none', '-n', '--stdio'], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const bySymbol = new Map();
    let total = 0;
    for (const line of report.stdout.split('\n')) {
      const m = /^\s+[\d.]+%\s+(\d+)\s+(.*)$/.exec(line);
      if (!m) continue;
      const n = Number(m[1]);
      const sym = m[2].trim();
      bySymbol.set(sym, (bySymbol.get(sym) || 0) + n);
      total += n;
    }
    return { total, bySymbol, requests: w.requests };
  } finally {
    await s.stop();
  }
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracewire-perf-'));
  const a = await sample(baseline, dir);
  const b = await sample(variant, dir);
  // One sample is 1/HZ s of CPU; per request over the requests served while perf ran.
  const us = (samples, requests) => (samples * 1e6) / HZ / requests;
  console.log(`${framework} ${route} at ${RATE} req/s, perf ${DURATION} s each (${process.version}); samples as µs/req, perf's overhead included`);
  console.log(`${baseline}: ${us(a.total, a.requests).toFixed(1)} µs/req (${a.requests} requests), ${variant}: ${us(b.total, b.requests).toFixed(1)} µs/req (${b.requests} requests)`);
  const rows = [];
  for (const sym of new Set([...a.bySymbol.keys(), ...b.bySymbol.keys()])) {
    rows.push([us(b.bySymbol.get(sym) || 0, b.requests) - us(a.bySymbol.get(sym) || 0, a.requests), sym]);
  }
  rows.sort((x, y) => y[0] - x[0]);
  console.log(`\ntop ${TOP} increases (${variant} minus ${baseline}), µs/req:`);
  for (const [d, sym] of rows.slice(0, TOP)) console.log(`${d.toFixed(2).padStart(7)}  ${sym.slice(0, 140)}`);
  console.log(`\nperf data: ${dir} (perf report -i <file> -G for call chains)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
