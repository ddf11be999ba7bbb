'use strict';
/**
 * One variant of the gRPC overhead bench: a grpc-js server and a client of it in this process
 * (both ends of each call), driven by the orchestrator (run.js) over IPC. For each window it asked
 * for, it keeps `concurrency` unary calls in flight for `ms` milliseconds and reports the calls
 * made, the process's CPU time over the window (user + system, all threads) and the spans its
 * tracer exported.
 *
 *   node bench/grpc/worker.js <bare|tracewire|tracewire-unsampled|opentelemetry|context-only|interceptors-only>
 */
const path = require('node:path');
const { performance, PerformanceObserver } = require('node:perf_hooks');

/** Time the garbage collector paused the process (all kinds), summed: its share of each window. */
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });

const variant = process.argv[2];
const VARIANTS = ['bare', 'tracewire', 'tracewire-unsampled', 'opentelemetry', 'context-only', 'interceptors-only'];
if (!VARIANTS.includes(variant)) throw new TypeError(`variant must be one of ${VARIANTS.join(', ')}`);

/** Receives every batch and drops it: the export pipeline runs, the network is not counted. */
let exportedSpans = 0;

let serverInterceptors = [];
let clientInterceptors = [];
let flush = async () => {};

if (variant === 'opentelemetry') {
  // The Node SDK as its docs set it up, before grpc-js is loaded (the instrumentation patches it as
  // it loads): AlwaysOn, BatchSpanProcessor with the default batching, W3C propagation.
  const { NodeTracerProvider, BatchSpanProcessor, AlwaysOnSampler } = require('@opentelemetry/sdk-trace-node');
  const { registerInstrumentations } = require('@opentelemetry/instrumentation');
  const { GrpcInstrumentation } = require('@opentelemetry/instrumentation-grpc');
  const exporter = {
    export(spans, done) {
      exportedSpans += spans.length;
      done({ code: 0 });
    },
    shutdown: () => Promise.resolve(),
    forceFlush: () => Promise.resolve(),
  };
  const provider = new NodeTracerProvider({ sampler: new AlwaysOnSampler(), spanProcessors: [new BatchSpanProcessor(exporter)] });
  provider.register();
  registerInstrumentations({ tracerProvider: provider, instrumentations: [new GrpcInstrumentation()] });
  flush = () => provider.forceFlush();
}

const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

if (variant === 'tracewire' || variant === 'tracewire-unsampled') {
  const { createTracer } = require('@tracewire/core');
  const { serverInterceptor, clientInterceptor } = require('@tracewire/grpc');
  const tracer = createTracer({
    serviceName: 'bench',
    sampler: variant === 'tracewire' ? 1 : 0,
    exporters: [{ name: 'discard', export: async (traces) => { for (const t of traces) exportedSpans += t.spans.length; } }],
  });
  serverInterceptors = [serverInterceptor({ tracer })];
  clientInterceptors = [clientInterceptor({ tracer })];
  flush = () => tracer.forceFlush();
}

// interceptors-only: what any interceptor-based tracer pays before it records anything, with no
// tracing code at all: a client interceptor that sends a traceparent (a new value per call, as a
// tracer's would be, so HPACK cannot index it) in a copy of the call's metadata, and a server
// interceptor that reads it from the incoming metadata and passes every event on.
if (variant === 'interceptors-only') {
  let n = 0;
  const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
  clientInterceptors = [
    (options, nextCall) =>
      new grpc.InterceptingCall(nextCall(options), {
        start(metadata, listener, next) {
          const md = metadata.clone();
          md.set('traceparent', `00-${TRACE}-${(++n).toString(16).padStart(16, '0')}-01`);
          next(md, listener);
        },
      }),
  ];
  let seen = 0;
  serverInterceptors = [
    (_method, call) =>
      new grpc.ServerInterceptingCall(call, {
        start: (next) =>
          next({
            onReceiveMetadata(metadata, next) {
              if (metadata.get('traceparent').length > 0) seen++;
              next(metadata);
            },
            onReceiveMessage: (m, next) => next(m),
            onReceiveHalfClose: (next) => next(),
            onCancel() {},
          }),
      }),
  ];
  flush = async () => {
    if (n > 0 && seen === 0) throw new Error('interceptors-only: the server saw no traceparent');
  };
}

const definition = protoLoader.loadSync(path.join(__dirname, 'bench.proto'));
const pkg = grpc.loadPackageDefinition(definition).bench.v1;

function start() {
  const server = new grpc.Server({ interceptors: serverInterceptors });
  server.addService(pkg.Greeter.service, {
    SayHello(call, callback) {
      callback(null, { message: `hello ${call.request.name}` });
    },
  });
  return new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
      if (err) return reject(err);
      const client = new pkg.Greeter(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { interceptors: clientInterceptors });
      resolve({ server, client });
    });
  });
}

let call = function call(client) {
  return new Promise((resolve, reject) => {
    client.SayHello({ name: 'bench' }, (err, reply) => (err ? reject(err) : resolve(reply)));
  });
};

// context-only: bare, plus one AsyncLocalStorage store entered per call and nothing else: the floor
// any tracer that propagates context through AsyncLocalStorage pays on this Node version.
if (variant === 'context-only') {
  const { AsyncLocalStorage } = require('node:async_hooks');
  const als = new AsyncLocalStorage();
  const plain = call;
  call = (client) => als.run({}, plain, client);
}

async function window(client, ms, concurrency) {
  await flush();
  const spans0 = exportedSpans;
  let calls = 0;
  const gc0 = gcMs;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await call(client);
        calls++;
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  const elapsed = performance.now() - t0;
  // Observer entries are delivered asynchronously: let the last window's arrive before reading.
  await new Promise((resolve) => setImmediate(resolve));
  const gcUs = (gcMs - gc0) * 1000;
  await flush();
  return { calls, gcUs, cpuUs: cpu.user + cpu.system, elapsedMs: elapsed, spans: exportedSpans - spans0, rssMb: process.memoryUsage().rss / 2 ** 20 };
}

start().then(({ server, client }) => {
  process.on('message', async (msg) => {
    if (msg.cmd === 'window') {
      try {
        process.send({ id: msg.id, result: await window(client, msg.ms, msg.concurrency) });
      } catch (err) {
        process.send({ id: msg.id, error: String(err && err.stack) });
      }
    } else if (msg.cmd === 'exit') {
      client.close();
      server.forceShutdown();
      await flush();
      process.exit(0);
    }
  });
  process.send({ ready: true, versions: { node: process.version, grpcJs: require('@grpc/grpc-js/package.json').version } });
});
