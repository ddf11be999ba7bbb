'use strict';
/**
 * @tracewire/metrics' request-path aggregation in a loop (issue 18): what one request's outcome
 * costs to record, on the outcomes bench/http's routes make. `node bench/metrics.js` (after
 * `pnpm build`); nanoseconds per outcome, 2 passes. The HTTP A/B is http/metrics-ab.js.
 */
const { Instruments } = require('../packages/metrics/dist/instruments');

const ins = new Instruments(2000);
// GET /hello/:name, and GET /stream's served OpenAI stream (47 content chunks, usage).
const request = { method: 'GET', scheme: 'http', route: '/hello/:name', statusCode: 200, errorType: undefined, protocolVersion: '1.1', duration: 0.0012, sampled: true };
const served = {
  side: 'server', provider: 'openai', operation: 'chat', requestModel: undefined, responseModel: 'gpt-4o-mini-2024-07-18', serverAddress: '127.0.0.1', serverPort: 3000,
  stream: true, usage: { input: 25, output: 47 }, estimatedOutputTokens: undefined, duration: 0.002, timeToFirstChunk: 0.001, contentChunks: 47, chunkIntervals: undefined,
  cost: undefined, errorType: undefined, sampled: true,
};
// The same stream read by a client with tracedFetch: 46 chunk intervals, usage, cost.
const called = { ...served, side: 'client', requestModel: 'gpt-4o-mini', chunkIntervals: new Float64Array(46).fill(0.0003), cost: 0.0000319 };

function bench(name, fn, n) {
  for (let i = 0; i < 1e5; i++) fn();
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  console.log(`${name}: ${(Number(process.hrtime.bigint() - t) / n).toFixed(0)} ns`);
}
console.log(`Node ${process.versions.node}`);
for (let pass = 1; pass <= 2; pass++) {
  bench('serverRequest (http.server.request.duration)', () => ins.observer.serverRequest(request), 2e6);
  bench('llmCall, a served stream (3 gen_ai.server.* histograms)', () => ins.observer.llmCall(served), 1e6);
  bench('llmCall, a client stream (duration, tokens x2, TTFC, 46 chunk intervals, cost)', () => ins.observer.llmCall(called), 5e5);
}
