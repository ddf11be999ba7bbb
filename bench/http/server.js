'use strict';
/**
 * One benchmarked server: `node bench/http/server.js <framework> <variant> [port]`.
 *   framework  express | koa | fastify
 *   variant    bare | tracewire | tracewire-unsampled | tracewire-otlp | tracewire-metrics |
 *              tracewire-unsampled-metrics | opentelemetry | context-only | read-floor
 *              (tracewire-metrics, tracewire-unsampled-metrics: tracewire, sampled or not, with
 *              @tracewire/metrics observing the tracer, its Prometheus endpoint on a free port, never
 *              scraped: the per-request cost of metrics)
 *              (tracewire-otlp: tracewire with @tracewire/otlp's OTLPTraceExporter posting protobuf to
 *              a receiver in another process, otlp-receiver.js, instead of the discarding exporter)
 *              (context-only: bare plus `AsyncLocalStorage.run` per request; read-floor: bare plus
 *              a response tap that only reads each chunk once as text, for quick.js; both reference
 *              points, see bench/README.md)
 *   port       where the app listens on 127.0.0.1 (default: any free port)
 * Prints one JSON line, `{"port":…,"control":…,"pid":…}`, once both servers listen.
 *
 * The control server (another port, `CONTROL_PORT` or any free one) lets the load generator read
 * this process's own counters without sharing its CPU:
 *   GET /__bench/reset   start a measuring window: CPU time, requests served, wall clock
 *   GET /__bench/read    the window so far: cpu µs (user+system), requests, wall ms, GC count and
 *                        pause ms (all, and mark-compact alone), memory
 *   GET /__bench/metrics?on=0|1  (-metrics variants) stop or start observing the tracer
 *   GET /__bench/stats   memory, `tracer.stats()` (OpenTelemetry: spans exported); `?flush=1` flushes
 *                        the tracer's queue first,
 *                        `?gc=1` a full GC (node --expose-gc) before memory is read
 *   GET /__bench/profile-start   starts the V8 CPU profiler (node:inspector, this process)
 *   GET /__bench/profile-stop?file=<path>   stops it and writes the .cpuprofile to <path> (profile.js:
 *                        a profile of the measured window alone, not of start-up and warm-up)
 */
const [framework, variant, portArg] = process.argv.slice(2);
const FRAMEWORKS = ['express', 'koa', 'fastify'];
const VARIANTS = ['bare', 'tracewire', 'tracewire-unsampled', 'tracewire-otlp', 'tracewire-metrics', 'tracewire-unsampled-metrics', 'opentelemetry', 'context-only', 'read-floor'];
if (!FRAMEWORKS.includes(framework) || !VARIANTS.includes(variant)) {
  console.error(`usage: node bench/http/server.js <${FRAMEWORKS.join('|')}> <${VARIANTS.join('|')}> [port]`);
  process.exit(2);
}

// First of all, before any framework (or node:http user) is loaded.
const otel = variant === 'opentelemetry' ? require('./otel').setupOpenTelemetry(framework) : undefined;

const http = require('node:http');
const { PerformanceObserver, constants } = require('node:perf_hooks');
const { listen } = require('./app');

/** Starts otlp-receiver.js in its own process (on core 1, beside the load generator, when pinned). */
function startOtlpReceiver() {
  const { spawn, spawnSync } = require('node:child_process');
  const script = require('node:path').join(__dirname, 'otlp-receiver.js');
  const pinned = process.platform === 'linux' && spawnSync('taskset', ['-c', '1', 'true']).status === 0;
  const [cmd, args] = pinned ? ['taskset', ['-c', '1', process.execPath, script]] : [process.execPath, [script]];
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  process.on('exit', () => child.kill('SIGTERM'));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', (line) => resolve(JSON.parse(String(line)).port));
  });
}

// tracewire-otlp builds its tracer in main(), once its receiver listens.
let tracer;
// The -metrics variants: the pipeline, which /__bench/metrics?on=0|1 detaches and attaches again
// (metrics-ab.js compares one process with and without, window by window).
let metrics;
if (variant === 'tracewire' || variant === 'tracewire-unsampled' || variant === 'tracewire-metrics' || variant === 'tracewire-unsampled-metrics') {
  const { createTracer } = require('@tracewire/core');
  tracer = createTracer({
    serviceName: `bench-${framework}`,
    // 1: every request recorded; 0: none recorded, context still propagated (parent-based ratio).
    sampler: variant === 'tracewire' || variant === 'tracewire-metrics' ? 1 : 0,
    // Receives every batch and drops it: the pipeline (default batching) runs, the network doesn't.
    exporters: [{ name: 'discard', export: () => Promise.resolve() }],
  });
  // Every request and served LLM stream recorded (RED and gen_ai.server.*); nothing scrapes it.
  if (variant.endsWith('-metrics')) metrics = require('@tracewire/metrics').createMetrics({ tracer, exporters: ['prometheus'], prometheus: { port: 0 } });
}

let served = 0;
// Garbage collections (count and pause time), the main cost of allocation per request.
const gc = { count: 0, ms: 0, major: 0, majorMs: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.count++;
    gc.ms += e.duration;
    // Mark-compact (and its incremental steps) against scavenges: what is promoted costs the former.
    const kind = e.detail ? e.detail.kind : e.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MAJOR || kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL) {
      gc.major++;
      gc.majorMs += e.duration;
    }
  }
}).observe({ entryTypes: ['gc'] });
let window = { cpu: process.cpuUsage(), hr: process.hrtime.bigint(), served: 0, gcCount: 0, gcMs: 0, gcMajor: 0, gcMajorMs: 0 };

function memory() {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
}

let session;
/** A call on this process's own inspector session (the CPU profiler), opened on first use. */
function profiler(method, params) {
  if (session === undefined) {
    const inspector = require('node:inspector');
    session = new inspector.Session();
    session.connect();
  }
  return new Promise((resolve, reject) => session.post(method, params, (err, r) => (err ? reject(err) : resolve(r))));
}

async function onControl(req, res) {
  const url = new URL(req.url, 'http://127.0.0.1');
  let body;
  switch (url.pathname) {
    case '/__bench/reset':
      window = { cpu: process.cpuUsage(), hr: process.hrtime.bigint(), served, gcCount: gc.count, gcMs: gc.ms, gcMajor: gc.major, gcMajorMs: gc.majorMs };
      body = { ok: true };
      break;
    case '/__bench/read': {
      const cpu = process.cpuUsage(window.cpu);
      body = {
        cpuUs: cpu.user + cpu.system,
        userUs: cpu.user,
        systemUs: cpu.system,
        requests: served - window.served,
        wallMs: Number(process.hrtime.bigint() - window.hr) / 1e6,
        gcCount: gc.count - window.gcCount,
        gcMs: gc.ms - window.gcMs,
        gcMajorCount: gc.major - window.gcMajor,
        gcMajorMs: gc.majorMs - window.gcMajorMs,
        memory: memory(),
      };
      break;
    }
    case '/__bench/metrics': {
      if (!metrics) {
        res.writeHead(404).end('not a -metrics variant');
        return;
      }
      const on = url.searchParams.get('on') === '1';
      if (on) metrics.attach(tracer);
      else metrics.attach(tracer)();
      body = { metrics: on, observed: tracer.observer !== undefined };
      break;
    }
    case '/__bench/stats':
      if (url.searchParams.get('flush') === '1') {
        if (tracer) await tracer.forceFlush();
        if (otel) await otel.provider.forceFlush();
      }
      if (url.searchParams.get('gc') === '1' && typeof global.gc === 'function') {
        // Twice: the first pass can leave objects that only a second one frees (weak callbacks).
        global.gc();
        global.gc();
      }
      body = {
        memory: memory(),
        gc: typeof global.gc === 'function',
        served,
        stats: tracer ? tracer.stats() : null,
        otelExportedSpans: otel ? otel.exporter.exportedSpans : undefined,
      };
      break;
    case '/__bench/profile-start':
      await profiler('Profiler.enable');
      if (url.searchParams.get('interval')) await profiler('Profiler.setSamplingInterval', { interval: Number(url.searchParams.get('interval')) });
      await profiler('Profiler.start');
      body = { ok: true };
      break;
    case '/__bench/profile-stop': {
      const { profile } = await profiler('Profiler.stop');
      require('node:fs').writeFileSync(url.searchParams.get('file'), JSON.stringify(profile));
      body = { ok: true };
      break;
    }
    default:
      res.writeHead(404).end();
      return;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function main() {
  if (variant === 'tracewire-otlp') {
    const otlpReceiverPort = await startOtlpReceiver();
    const { createTracer } = require('@tracewire/core');
    const { OTLPTraceExporter } = require('@tracewire/otlp');
    tracer = createTracer({
      serviceName: `bench-${framework}`,
      sampler: 1,
      // Default batching, protobuf, no compression: what OTEL_TRACES_EXPORTER=otlp gives.
      exporters: [new OTLPTraceExporter({ url: `http://127.0.0.1:${otlpReceiverPort}/v1/traces` })],
    });
  }
  const server = await listen(framework, Number(portArg || 0), { tracer, context: variant === 'context-only', read: variant === 'read-floor' });
  // Counted for every variant alike; the window's CPU is divided by this.
  server.on('request', () => {
    served++;
  });
  const controlServer = http.createServer((req, res) => {
    onControl(req, res).catch((err) => {
      res.writeHead(500).end(String(err && err.stack));
    });
  });
  await new Promise((resolve) => controlServer.listen(Number(process.env.CONTROL_PORT || 0), '127.0.0.1', resolve));
  process.stdout.write(`${JSON.stringify({ framework, variant, port: server.address().port, control: controlServer.address().port, pid: process.pid })}\n`);

  const stop = () => process.exit(0);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
