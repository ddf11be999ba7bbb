'use strict';
/**
 * What @tracewire/metrics adds per request, measured in one server process with metrics turned on
 * and off window by window (issue 18):
 *   node bench/http/metrics-ab.js <framework> <hello|stream> [tracewire-metrics|tracewire-unsampled-metrics]
 * One `server.js <framework> <variant>` process (pinned like the benchmark), its tracer observed by
 * the metrics pipeline or not (`/__bench/metrics?on=0|1`: the observer detached, then attached
 * again), BENCH_ROUNDS (default 12) rounds of one window each way, the order swapped every round,
 * BENCH_DURATION (default 3) seconds a window at BENCH_RATE (default 3000, 1500 for stream) req/s.
 * The same process, heap and JIT state on both sides: what differs is the observer alone, so the
 * pairs are much steadier than two processes compared on a shared machine. Prints CPU µs/req per
 * window, the medians, and the median of the per-round differences (on − off).
 */
if (require('../node').underNode()) return;
const autocannon = require('autocannon');
const { pinSelf, startServer, control, sleep } = require('./lib');

if (pinSelf(1)) return;

const [framework = 'fastify', route = 'hello', variant = 'tracewire-metrics'] = process.argv.slice(2);
const path = route === 'stream' ? '/stream' : '/hello/world';
const ROUNDS = Number(process.env.BENCH_ROUNDS || 12);
const DURATION = Number(process.env.BENCH_DURATION || 3);
const RATE = Number(process.env.BENCH_RATE || (route === 'stream' ? 1500 : 3000));
const med = (a) => {
  const s = a.slice().sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function window(s, url, on) {
  const set = await control(s.control, `/__bench/metrics?on=${on ? 1 : 0}`);
  if (set.observed !== on) throw new Error(`metrics did not turn ${on ? 'on' : 'off'}`);
  await autocannon({ url, connections: 10, duration: 1, overallRate: RATE });
  await control(s.control, '/__bench/reset');
  await autocannon({ url, connections: 10, duration: DURATION, overallRate: RATE });
  const w = await control(s.control, '/__bench/read');
  return w.cpuUs / w.requests;
}

async function main() {
  const s = await startServer(framework, variant);
  const url = `http://127.0.0.1:${s.port}${path}`;
  try {
    await autocannon({ url, connections: 10, duration: 3 });
    const off = [];
    const on = [];
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? [false, true] : [true, false];
      for (const o of order) (o ? on : off).push(await window(s, url, o));
      console.log(`round ${r + 1}: off ${off[r].toFixed(1)} µs/req, on ${on[r].toFixed(1)} µs/req, on − off ${(on[r] - off[r]).toFixed(1)}`);
    }
    const diffs = on.map((x, i) => x - off[i]);
    console.log(
      `${framework} ${route} ${variant}, Node ${process.versions.node}, ${RATE} req/s, ${ROUNDS} x ${DURATION} s: ` +
        `off median ${med(off).toFixed(1)}, on median ${med(on).toFixed(1)} µs/req CPU; on − off per round: median ${med(diffs).toFixed(2)} ` +
        `(quartiles ${med(diffs.slice().sort((a, b) => a - b).slice(0, Math.floor(diffs.length / 2))).toFixed(1)} … ${med(diffs.slice().sort((a, b) => a - b).slice(Math.ceil(diffs.length / 2))).toFixed(1)})`,
    );
  } finally {
    await s.stop();
    await sleep(100);
  }
  process.exit(0);
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
