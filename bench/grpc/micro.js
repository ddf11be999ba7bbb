'use strict';
/**
 * The per-call cost of the gRPC interceptors without the network: both ends of one unary call go
 * through grpc-js's real interceptor layers (InterceptingCall, ServerInterceptingCall, Metadata)
 * over in-memory transports, synchronously, so what is measured is the interceptors' own work
 * and the listener layers grpc-js adds for them, with a precision the socket bench (run.js) cannot
 * give (its rounds vary by ±5 µs). The server side gets its metadata as grpc-js builds it from
 * HTTP/2 headers (flat strings, `Metadata.fromHttp2Headers`).
 *
 *   node bench/grpc/micro.js                 (BENCH_ROUNDS, BENCH_ROUND_MS; BENCH_VARIANTS=none,tracewire)
 *
 * Variants: `none` (no interceptors), `interceptors-only` (a client interceptor that sends a
 * traceparent and a server interceptor that reads it: the floor of any interceptor-based tracer),
 * `tracewire-unsampled` (sampler 0: context propagated, no span recorded), `tracewire` (both spans
 * recorded and exported to a discarding exporter; the loop yields every 100 calls so the pipeline
 * drains inside the measured time). Reports the median CPU ns per call over rounds and the added
 * cost over `none`.
 */
const grpc = require('@grpc/grpc-js');
const { performance } = require('node:perf_hooks');
const v8 = require('node:v8');
const { createTracer } = require('@tracewire/core');
const { clientInterceptor, serverInterceptor } = require('@tracewire/grpc');

const ROUNDS = Number(process.env.BENCH_ROUNDS || 15);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS || 400);
const VARIANTS = (process.env.BENCH_VARIANTS || 'none,interceptors-only,tracewire-unsampled,tracewire').split(',');
const BATCH = 100;

const PATH = '/bench.v1.Greeter/SayHello';
const CLIENT_DEF = { path: PATH, requestStream: false, responseStream: false, requestSerialize: (x) => x, responseDeserialize: (x) => x, originalName: 'sayHello' };
const SERVER_DEF = { path: PATH, requestStream: false, responseStream: false, requestDeserialize: (x) => x, responseSerialize: (x) => x };

/** The interceptors of one variant. */
function interceptorsOf(variant, counters) {
  if (variant === 'none') return { client: [], server: [], tracer: undefined };
  if (variant === 'interceptors-only') {
    let n = 0;
    const client = (options, nextCall) =>
      new grpc.InterceptingCall(nextCall(options), {
        start(metadata, listener, next) {
          const md = metadata.clone();
          md.set('traceparent', `00-4bf92f3577b34da6a3ce929d0e0e4736-${(++n).toString(16).padStart(16, '0')}-01`);
          next(md, listener);
        },
      });
    const server = (_method, call) =>
      new grpc.ServerInterceptingCall(call, {
        start: (next) =>
          next({
            onReceiveMetadata(md, nx) {
              if (md.get('traceparent').length > 0) counters.seen++;
              nx(md);
            },
            onReceiveMessage: (m, nx) => nx(m),
            onReceiveHalfClose: (nx) => nx(),
            onCancel() {},
          }),
      });
    return { client: [client], server: [server], tracer: undefined };
  }
  const tracer = createTracer({
    serviceName: 'bench',
    sampler: variant === 'tracewire' ? 1 : 0,
    exporters: [{ name: 'discard', export: async (traces) => { for (const t of traces) counters.spans += t.spans.length; } }],
  });
  return { client: [clientInterceptor({ tracer })], server: [serverInterceptor({ tracer })], tracer };
}

/** The server end of a call: the transport below grpc-js's ServerInterceptingCall. */
function serverTransport(incoming) {
  let listener;
  return {
    start(l) {
      listener = l;
    },
    deliver() {
      listener.onReceiveMetadata(incoming);
      listener.onReceiveMessage({ name: 'bench' });
      listener.onReceiveHalfClose();
    },
    sendMetadata() {},
    sendMessage(_m, cb) {
      if (cb) cb();
    },
    // grpc-js tells the listener onCancel once the status is out (the call is over).
    sendStatus() {
      listener.onCancel();
    },
    startRead() {},
    getPeer: () => '127.0.0.1:41000',
    getDeadline: () => Infinity,
    getHost: () => '127.0.0.1:50051',
    getConnectionInfo: () => ({ remoteAddress: '127.0.0.1', remotePort: 41000, localAddress: '127.0.0.1', localPort: 50051 }),
    getAuthContext: () => ({}),
    getMetricsRecorder: () => ({}),
  };
}

function setup(variant) {
  const counters = { spans: 0, seen: 0, replies: 0 };
  const { client, server, tracer } = interceptorsOf(variant, counters);
  const handler = (call) => ({
    onReceiveMetadata() {},
    onReceiveMessage() {},
    onReceiveHalfClose() {
      call.sendMessage({ message: 'hello bench' }, () => {});
      call.sendStatus({ code: grpc.status.OK, details: 'OK', metadata: new grpc.Metadata() });
    },
    onCancel() {},
  });
  const appListener = {
    onReceiveMetadata() {},
    onReceiveMessage() {
      counters.replies++;
    },
    onReceiveStatus(status) {
      if (status.code !== grpc.status.OK) throw new Error(`call ended with ${status.code}`);
    },
  };
  function callOnce() {
    // The client's transport: at half-close the request crosses to the server, the reply comes back.
    const transport = {
      start(md, listener) {
        this.md = md;
        this.listener = listener;
      },
      sendMessageWithContext() {},
      halfClose() {
        const headers = {};
        for (const [k, v] of Object.entries(this.md.getMap())) headers[k] = Buffer.from(String(v), 'latin1').toString('latin1');
        const below = serverTransport(grpc.Metadata.fromHttp2Headers(headers));
        let top = below;
        for (const i of server) top = i(SERVER_DEF, top);
        top.start(handler(top));
        below.deliver();
        const l = this.listener;
        l.onReceiveMetadata(new grpc.Metadata());
        l.onReceiveMessage({ message: 'hello bench' });
        l.onReceiveStatus({ code: grpc.status.OK, details: 'OK', metadata: new grpc.Metadata() });
      },
      startRead() {},
      getPeer: () => '127.0.0.1:50051',
      cancelWithStatus() {},
      getAuthContext: () => ({}),
    };
    const call = client.length > 0 ? client[0]({ method_definition: CLIENT_DEF }, () => transport) : transport;
    call.start(new grpc.Metadata(), appListener);
    call.sendMessageWithContext({}, { name: 'bench' });
    call.halfClose();
  }
  return { variant, callOnce, counters, flush: () => (tracer ? tracer.forceFlush() : Promise.resolve()) };
}

async function round(s, ms) {
  await s.flush();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let calls = 0;
  while (performance.now() - t0 < ms) {
    for (let i = 0; i < BATCH; i++) s.callOnce();
    calls += BATCH;
    await new Promise((resolve) => setImmediate(resolve));
  }
  await s.flush();
  const cpu = process.cpuUsage(cpu0);
  return ((cpu.user + cpu.system) * 1000) / calls;
}

/**
 * Bytes of young-generation heap one call allocates: new space's growth over a batch of calls,
 * the largest of many batches (a scavenge inside a batch can only make its growth smaller).
 */
function allocatedPerCall(s) {
  const young = () => {
    let used = 0;
    for (const sp of v8.getHeapSpaceStatistics()) if (sp.space_name === 'new_space' || sp.space_name === 'new_large_object_space') used += sp.space_used_size;
    return used;
  };
  let best = 0;
  for (let i = 0; i < 200; i++) {
    const before = young();
    for (let j = 0; j < BATCH; j++) s.callOnce();
    best = Math.max(best, young() - before);
  }
  return best / BATCH;
}

const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];

async function main() {
  const set = VARIANTS.map(setup);
  for (const s of set) await round(s, ROUND_MS * 2); // warm-up
  const bytes = new Map();
  for (const s of set) {
    bytes.set(s.variant, allocatedPerCall(s));
    await s.flush();
  }
  for (const s of set) Object.assign(s.counters, { spans: 0, seen: 0, replies: 0 });
  const results = new Map(set.map((s) => [s.variant, []]));
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? set : [...set].reverse();
    for (const s of order) results.get(s.variant).push(await round(s, ROUND_MS));
  }
  const base = results.has('none') ? median(results.get('none')) : undefined;
  console.log(`gRPC interceptors, both ends of one unary call, in-process (Node ${process.version}, ${ROUNDS} rounds × ${ROUND_MS} ms)`);
  for (const s of set) {
    if (s.counters.replies === 0) throw new Error(`${s.variant}: no call completed`);
    if (s.variant === 'interceptors-only' && s.counters.seen === 0) throw new Error('interceptors-only: the server saw no traceparent');
    if (s.variant === 'tracewire' && s.counters.spans < 2 * s.counters.replies) throw new Error(`tracewire: ${s.counters.spans} spans exported for ${s.counters.replies} calls`);
    const ns = median(results.get(s.variant));
    const added = base !== undefined && s.variant !== 'none' ? `  added ${Math.round(ns - base)} ns` : '';
    const r = results.get(s.variant);
    console.log(`${s.variant.padEnd(20)} ${Math.round(ns).toString().padStart(6)} ns/call (${Math.round(Math.min(...r))}–${Math.round(Math.max(...r))})${added}  heap ${Math.round(bytes.get(s.variant))} B/call  spans/call ${(s.counters.spans / s.counters.replies).toFixed(1)}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
