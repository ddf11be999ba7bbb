'use strict';
/**
 * Where a server spends its CPU under load:
 *   node bench/http/profile.js <framework> <variant> <route> [baseline-variant]
 *   (`pnpm bench:profile express tracewire hello bare`)
 * Starts `server.js` (pinned like the benchmark), warms it up for BENCH_WARMUP seconds (default 3),
 * then profiles it (the V8 CPU profiler, started and stopped through the server's control endpoint)
 * while autocannon loads it for BENCH_DURATION seconds (default 10; BENCH_RATE=<req/s> for a fixed
 * rate, which keeps variants comparable), and prints the functions with the most self time per request: all of them, then only Tracewire's own
 * (packages/*, mapped to the TypeScript source through the build's source maps). With a baseline
 * variant, that one is profiled the same way and the difference per function is printed too: the
 * added cost includes what our code makes Node and the framework do (GC, listeners, writes).
 * The .cpuprofile files are kept (paths printed) for Chrome DevTools or speedscope.
 */
// On the Node chosen with --node <major> / BENCH_NODE (bench/node.js), when one is.
if (require('../node').underNode()) return;
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { SourceMap } = require('node:module');
const { fileURLToPath } = require('node:url');
const autocannon = require('autocannon');
const { pinSelf, startServer, control } = require('./lib');

if (pinSelf(1)) return;

const [framework = 'express', variant = 'tracewire', route = 'hello', baseline] = process.argv.slice(2);
const ROUTES = { hello: '/hello/world', stream: '/stream' };
if (!ROUTES[route]) throw new TypeError(`unknown route "${route}" (hello, stream)`);
const WARMUP = Number(process.env.BENCH_WARMUP || 3);
const DURATION = Number(process.env.BENCH_DURATION || 10);
const TOP = Number(process.env.BENCH_TOP || 25);
// Sampling interval in µs (V8's default is 1000): finer, for functions that take a µs or less per request.
const INTERVAL = Number(process.env.BENCH_PROFILE_INTERVAL || 100);
const REPO = path.resolve(__dirname, '..', '..');

const maps = new Map();
/** Maps a generated (0-based) line/column of a built file to its TypeScript source, when it can. */
function original(file, line, column) {
  if (!maps.has(file)) {
    let map = null;
    try {
      map = new SourceMap(JSON.parse(fs.readFileSync(`${file}.map`, 'utf8')));
    } catch {
      // no source map: report the built file
    }
    maps.set(file, map);
  }
  const map = maps.get(file);
  const entry = map && map.findEntry(line, column);
  if (!entry || !entry.originalSource) return null;
  const src = entry.originalSource.startsWith('file:') ? fileURLToPath(entry.originalSource) : path.resolve(path.dirname(file), entry.originalSource);
  return { file: src, line: entry.originalLine };
}

function where(frame) {
  const url = frame.url;
  if (!url) return frame.functionName ? `(${frame.functionName})` : '(native)';
  const file = url.startsWith('file:') ? fileURLToPath(url) : url;
  if (file.startsWith(REPO) && file.includes(`${path.sep}packages${path.sep}`)) {
    const o = original(file, frame.lineNumber, frame.columnNumber);
    if (o) return `${path.relative(REPO, o.file)}:${o.line + 1}`;
  }
  const rel = file.startsWith(REPO) ? path.relative(REPO, file) : file;
  // pnpm's store paths are long: keep the package part.
  const short = rel.replace(/^.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, '').replace(/^.*node_modules\//, '');
  return `${short}:${frame.lineNumber + 1}`;
}

/** Self time per function (µs, summed over samples), keyed "name\tlocation". */
function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const f = byId.get(profile.samples[i]).callFrame;
    const key = `${f.functionName || '(anonymous)'}\t${where(f)}`;
    self.set(key, (self.get(key) || 0) + (profile.timeDeltas[i] || 0));
  }
  for (const k of self.keys()) if (k.startsWith('(idle)\t')) self.delete(k);
  // The profiler's own stop call (it serialises the profile), not the server's work.
  for (const k of self.keys()) if (/\tnode:inspector:\d+$/.test(k)) self.delete(k);
  return self;
}

const isOurs = (key) => key.split('\t')[1].startsWith('packages/');
const line = (us, share, key) => {
  const [fn, loc] = key.split('\t');
  return `${us.toFixed(2).padStart(8)} µs/req ${Number.isFinite(share) ? `${share.toFixed(1).padStart(5)}%` : '     —'}  ${fn}  ${loc}`;
};

/**
 * Profiles one variant: self µs per request by function, over the measured window only (the
 * server's own inspector session starts and stops the profiler, so start-up and warm-up are not in
 * it, and the requests counted are the window's).
 */
async function profileVariant(v) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracewire-prof-'));
  const file = path.join(dir, `${framework}-${v.replace(/[^a-z0-9-]/gi, '_')}-${route}.cpuprofile`);
  const server = await startServer(framework, v);
  const url = `http://127.0.0.1:${server.port}${ROUTES[route]}`;
  try {
    await autocannon({ url, connections: 10, duration: WARMUP });
    await control(server.control, '/__bench/reset');
    await control(server.control, `/__bench/profile-start?interval=${INTERVAL}`);
    const r = await autocannon({ url, connections: 10, duration: DURATION, ...(process.env.BENCH_RATE ? { overallRate: Number(process.env.BENCH_RATE) } : {}) });
    await control(server.control, `/__bench/profile-stop?file=${encodeURIComponent(file)}`);
    const w = await control(server.control, '/__bench/read');
    const served = w.requests;
    const self = selfTimes(JSON.parse(fs.readFileSync(file, 'utf8')));
    const perReq = new Map([...self].map(([k, t]) => [k, t / served]));
    const busy = [...perReq.values()].reduce((a, b) => a + b, 0);
    return { variant: v, file, served, rps: r.requests.total / r.duration, perReq, busy, cpuUs: w.cpuUs / served };
  } finally {
    await server.stop();
  }
}

function report(p) {
  const rows = [...p.perReq.entries()].sort((a, b) => b[1] - a[1]);
  const ours = rows.filter(([k]) => isOurs(k));
  const oursTotal = ours.reduce((s, [, t]) => s + t, 0);
  const out = [];
  out.push(`== ${framework}/${p.variant} on /${route}: ${p.rps.toFixed(0)} req/s under the profiler, ${p.served} requests, ` +
    `${p.busy.toFixed(1)} µs busy per request on the main thread (profiler included), ${p.cpuUs.toFixed(1)} µs CPU per request (all threads); ${p.file}`);
  out.push(`Tracewire's own code (packages/*): ${oursTotal.toFixed(2)} µs/req self time, ${((100 * oursTotal) / p.busy).toFixed(1)}% of busy`);
  out.push('', `top ${TOP} functions by self time:`);
  out.push(...rows.slice(0, TOP).map(([k, t]) => line(t, (100 * t) / p.busy, k)));
  if (ours.length) {
    out.push('', `top ${TOP} in Tracewire's code:`);
    out.push(...ours.slice(0, TOP).map(([k, t]) => line(t, (100 * t) / p.busy, k)));
    const byFile = new Map();
    for (const [k, t] of ours) {
      const file = k.split('\t')[1].replace(/:\d+$/, '');
      byFile.set(file, (byFile.get(file) || 0) + t);
    }
    out.push('', "Tracewire's self time by file:");
    out.push(...[...byFile.entries()].sort((a, b) => b[1] - a[1]).map(([f, t]) => `${t.toFixed(2).padStart(8)} µs/req  ${f}`));
  }
  return out.join('\n');
}

function diff(p, base) {
  const keys = new Set([...p.perReq.keys(), ...base.perReq.keys()]);
  const rows = [...keys].map((k) => [k, (p.perReq.get(k) || 0) - (base.perReq.get(k) || 0)]).sort((a, b) => b[1] - a[1]);
  const out = [];
  out.push(`== ${p.variant} minus ${base.variant}: ${(p.busy - base.busy).toFixed(1)} µs/req busy added (profiler included)`);
  out.push('', `top ${TOP} increases of self time per request:`);
  // Shares of the difference only mean something when there is one.
  const added = p.busy - base.busy;
  out.push(...rows.slice(0, TOP).map(([k, t]) => line(t, added > 0 ? (100 * t) / added : NaN, k)));
  return out.join('\n');
}

async function main() {
  const p = await profileVariant(variant);
  console.log(report(p));
  if (baseline) {
    const base = await profileVariant(baseline);
    console.log(`\n${report(base)}\n\n${diff(p, base)}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
