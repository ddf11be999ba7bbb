'use strict';
/**
 * A quick A/B of server CPU per request, for working on a hot path (not the published benchmark):
 *   node bench/http/quick.js <framework> <route> <variant>[=<adapter options JSON>] [variant...]
 * Each variant in its own pinned process, autocannon from this one, alternated for BENCH_ROUNDS
 * rounds of BENCH_DURATION seconds; prints CPU µs/req per round. Extra node flags for the servers
 * via BENCH_NODE_ARGS (e.g. "--trace-gc").
 */
// On the Node chosen with --node <major> / BENCH_NODE (bench/node.js), when one is.
if (require('../node').underNode()) return;
const autocannon = require('autocannon');
const { pinSelf, startServer, control, sleep } = require('./lib');

if (pinSelf(1)) return;

const [framework = 'fastify', route = 'hello', ...variants] = process.argv.slice(2);
const path = route === 'stream' ? '/stream' : '/hello/world';
const DURATION = Number(process.env.BENCH_DURATION || 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 2);
const nodeArgs = (process.env.BENCH_NODE_ARGS || '').split(' ').filter(Boolean);
// A fixed request rate gives every variant the same load, so CPU per request compares like for like.
const RATE = process.env.BENCH_RATE ? Number(process.env.BENCH_RATE) : undefined;

async function main() {
  const servers = {};
  // A variant may carry adapter options: tracewire='{"stream":false}'
  for (const v of variants) {
    servers[v] = await startServer(framework, v, { nodeArgs });
  }
  const results = Object.fromEntries(variants.map((v) => [v, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const v of variants) {
      const s = servers[v];
      const url = `http://127.0.0.1:${s.port}${path}`;
      await autocannon({ url, connections: 10, duration: 1 });
      await control(s.control, '/__bench/reset');
      const res = await autocannon({ url, connections: 10, duration: DURATION, ...(RATE ? { overallRate: RATE } : {}) });
      const w = await control(s.control, '/__bench/read');
      const cpuPerReq = w.cpuUs / w.requests;
      results[v].push(cpuPerReq);
      console.log(`round ${r + 1} ${v}: ${cpuPerReq.toFixed(1)} µs/req CPU (user ${(w.userUs / w.requests).toFixed(1)}, system ${(w.systemUs / w.requests).toFixed(1)}), ${Math.round(res.requests.average)} req/s, gc ${w.gcCount} (${(w.gcMs * 1000 / w.requests).toFixed(1)} µs/req; major ${w.gcMajorCount}, ${(w.gcMajorMs * 1000 / w.requests).toFixed(1)} µs/req)`);
    }
  }
  const med = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const base = med(results[variants[0]]);
  for (const v of variants) console.log(`${v}: median ${med(results[v]).toFixed(1)} µs/req (${(med(results[v]) - base).toFixed(1)} vs ${variants[0]})`);
  await Promise.all(variants.map((v) => servers[v].stop()));
  await sleep(100);
  process.exit(0);
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
