'use strict';
/**
 * Export pipeline timing (the claims issue #12 moved out of the unit tests):
 *
 * - request path: CPU µs to start and end a root span (one trace) while the tracer's exporters
 *   throw, reject and hang beside a healthy one, against a tracer with the healthy one alone:
 *   ending a span never waits for an exporter. Target: within 2 µs of the healthy-only tracer.
 * - delivery while another exporter hangs: ms from the end of a request's span to the healthy
 *   exporter's `export()` (scheduledDelayMillis 1, exportTimeoutMillis 200). Target: well before
 *   the hanging one times out, < 100 ms.
 * - shutdown(100) with an exporter that never settles (exportTimeoutMillis 60 s): ms until it
 *   returns. Target: < 300 ms.
 *
 * Run after a build: `node bench/pipeline.js`. TRACEWIRE_CORE=<dir> benchmarks another build,
 * BENCH_ROUNDS / BENCH_ROUND_MS the rounds, BENCH_JSON=<file> writes the figures as JSON. Exits
 * non-zero when a target is missed (median).
 */
// On the Node chosen with --node <major> / BENCH_NODE (bench/node.js), when one is.
if (require('./node').underNode()) return;
const { writeFileSync } = require('node:fs');
const { performance } = require('node:perf_hooks');
const CORE = process.env.TRACEWIRE_CORE || '@tracewire/core';
const { createTracer } = require(CORE);

const ROUNDS = Number(process.env.BENCH_ROUNDS || 7);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS || 300);
const median = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const delivered = () => ({ name: 'healthy', export: () => Promise.resolve() });
const misbehaving = () => [
  { name: 'throwing', export: () => { throw new Error('sync boom'); } },
  { name: 'rejecting', export: () => Promise.reject(new Error('async boom')) },
  { name: 'hanging', export: () => new Promise(() => undefined) },
];

/** CPU µs per root span start+end, median of rounds; the event loop turns between rounds so exports run. */
async function spanCost(exporters) {
  const tracer = createTracer({ exporters, batch: { scheduledDelayMillis: 1, exportTimeoutMillis: 200 } });
  const out = [];
  for (let r = 0; r < ROUNDS + 1; r++) {
    let n = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    while (performance.now() - t0 < ROUND_MS) {
      for (let i = 0; i < 100; i++) tracer.startSpan('request', { parent: null, kind: 'server' }).end();
      n += 100;
    }
    const c = process.cpuUsage(c0);
    if (r > 0) out.push((c.user + c.system) / n); // round 0 warms up
    await sleep(20);
  }
  await tracer.shutdown(100);
  return median(out);
}

async function deliveryMs() {
  const out = [];
  for (let r = 0; r < ROUNDS; r++) {
    let resolve;
    const got = new Promise((res) => (resolve = res));
    const healthy = { name: 'healthy', export: async () => resolve(performance.now()) };
    const tracer = createTracer({ exporters: [...misbehaving(), healthy], batch: { scheduledDelayMillis: 1, exportTimeoutMillis: 200 } });
    const t0 = performance.now();
    tracer.startSpan('request', { parent: null }).end();
    out.push((await got) - t0);
    await tracer.shutdown(100);
  }
  return median(out);
}

async function shutdownMs() {
  const out = [];
  for (let r = 0; r < Math.min(ROUNDS, 5); r++) {
    const tracer = createTracer({ exporters: [misbehaving()[2]], batch: { exportTimeoutMillis: 60000 } });
    tracer.startSpan('request', { parent: null }).end();
    const t0 = performance.now();
    await tracer.shutdown(100);
    out.push(performance.now() - t0);
  }
  return median(out);
}

async function main() {
  // The tracer's timers are unref()ed (they never hold a process open): this one keeps the bench alive.
  const keepAlive = setInterval(() => undefined, 1000);
  // The shutdown warnings are expected here.
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = (chunk, ...rest) => (String(chunk).startsWith('[tracewire] ') ? true : write(chunk, ...rest));
  const healthyOnly = await spanCost([delivered()]);
  const withBad = await spanCost([...misbehaving(), delivered()]);
  const delivery = await deliveryMs();
  const shutdown = await shutdownMs();
  const rows = [
    ['root span start+end, healthy exporter only (µs CPU)', healthyOnly, undefined],
    ['root span start+end, + throwing/rejecting/hanging exporters (µs CPU)', withBad, healthyOnly + 2],
    ['span end -> healthy export() while one hangs (ms)', delivery, 100],
    ['shutdown(100) with an exporter that never settles (ms)', shutdown, 300],
  ];
  console.log(`node ${process.version}, ${ROUNDS} rounds x ${ROUND_MS} ms (median)`);
  let missed = false;
  for (const [what, value, limit] of rows) {
    const verdict = limit === undefined ? '' : value <= limit ? `  met (<= ${limit.toFixed(1)})` : `  MISSED (> ${limit.toFixed(1)})`;
    if (limit !== undefined && value > limit) missed = true;
    console.log(`${what.padEnd(72)} ${value.toFixed(2).padStart(8)}${verdict}`);
  }
  if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify({ node: process.version, rounds: ROUNDS, roundMs: ROUND_MS, results: rows.map(([what, value, limit]) => ({ what, value, limit })) }, null, 2));
  process.exitCode = missed ? 1 : 0;
  clearInterval(keepAlive);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
