'use strict';
/**
 * Microbenchmarks: Tracewire core against @opentelemetry/sdk-trace-base in the same process.
 * Run with `pnpm bench:micro` (builds first). Each case runs in rounds of fixed wall time; we report
 * the median CPU ns/op over rounds (process CPU time, user + system: the GC's helper threads
 * included) and the min–max as noise. Spans end into each SDK's batching pipeline with a
 * discarding exporter, and the loop yields to the event loop every 512 ops so the pipelines drain
 * as they would under a server (neither side gets a free "queue full" drop path); those drains are
 * inside the measured time, so export work is counted. Ends with issue 20's micro targets.
 */
// On the Node chosen with --node <major> / BENCH_NODE (bench/node.js), when one is.
if (require('./node').underNode()) return;
const { performance } = require('node:perf_hooks');
const tw = require('@tracewire/core');
const api = require('@opentelemetry/api');
const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { W3CTraceContextPropagator } = require('@opentelemetry/core');
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');

const ROUNDS = Number(process.env.BENCH_ROUNDS || 7);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS || 300);

// --- set-up -----------------------------------------------------------------------------------
const discard = { name: 'discard', export: async () => undefined };
const tracer = tw.createTracer({ serviceName: 'bench', exporters: [discard] });

const otelExporter = { export: (_spans, cb) => cb({ code: 0 }), shutdown: async () => undefined, forceFlush: async () => undefined };
const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(otelExporter)] });
api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const otel = provider.getTracer('bench');
const propagator = new W3CTraceContextPropagator();
const ROOT = api.ROOT_CONTEXT;

const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const attrs8 = (s) => {
  s.setAttribute('http.request.method', 'GET');
  s.setAttribute('url.path', '/hello/world');
  s.setAttribute('url.scheme', 'http');
  s.setAttribute('http.route', '/hello/:name');
  s.setAttribute('http.response.status_code', 200);
  s.setAttribute('server.address', 'localhost');
  s.setAttribute('server.port', 3000);
  s.setAttribute('user_agent.original', 'bench/1.0');
};

// Children under a parent that is replaced every 100 children (so no trace hits its span cap).
function childCase(startRoot, startChild) {
  let parent;
  let n = 0;
  return () => {
    if (n++ % 100 === 0) {
      if (parent) parent.end();
      parent = startRoot();
    }
    startChild(parent).end();
  };
}

const cases = {
  'child span start+end': {
    tracewire: childCase(() => tracer.startSpan('parent', { parent: null }), (p) => tracer.startSpan('op', { parent: p })),
    opentelemetry: childCase(
      () => otel.startSpan('parent', undefined, ROOT),
      (p) => otel.startSpan('op', undefined, api.trace.setSpan(ROOT, p)),
    ),
  },
  'root span start+end (trace completes)': {
    tracewire: () => tracer.startSpan('op', { parent: null }).end(),
    opentelemetry: () => otel.startSpan('op', undefined, ROOT).end(),
  },
  'span start+8 attributes+end': {
    tracewire: () => {
      const s = tracer.startSpan('op', { parent: null });
      attrs8(s);
      s.end();
    },
    opentelemetry: () => {
      const s = otel.startSpan('op', undefined, ROOT);
      attrs8(s);
      s.end();
    },
  },
  'nested withSpan (2 spans)': {
    tracewire: () => tracer.withSpan('outer', () => tracer.withSpan('inner', () => 1), { parent: null }),
    opentelemetry: () =>
      otel.startActiveSpan('outer', {}, ROOT, (outer) => {
        otel.startActiveSpan('inner', (inner) => inner.end());
        outer.end();
      }),
  },
  'traceparent parse': {
    tracewire: () => tw.extractContext({ traceparent: TP }),
    opentelemetry: () => propagator.extract(ROOT, { traceparent: TP }, api.defaultTextMapGetter),
  },
  // Real callers send a new trace id per request: random hex digits, which a parser that branches
  // on digit-or-letter mispredicts about every other character (one constant value never does).
  'traceparent parse, a new trace id each time': (() => {
    const values = Array.from({ length: 1024 }, () => `00-${require('node:crypto').randomBytes(16).toString('hex')}-${require('node:crypto').randomBytes(8).toString('hex')}-01`);
    let i = 0;
    return {
      tracewire: () => tw.extractContext({ traceparent: values[i++ & 1023] }),
      opentelemetry: () => propagator.extract(ROOT, { traceparent: values[i++ & 1023] }, api.defaultTextMapGetter),
    };
  })(),
  'traceparent format': (() => {
    const twSpan = tracer.startSpan('p', { parent: null });
    const otSpan = otel.startSpan('p', undefined, ROOT);
    const otCtx = api.trace.setSpan(ROOT, otSpan);
    return {
      tracewire: () => tw.injectContext({}, twSpan),
      opentelemetry: () => propagator.inject(otCtx, {}, api.defaultTextMapSetter),
    };
  })(),
};

// --- propagation: extract + inject per format, as one request does (read the incoming headers on
// the server, write the outgoing ones on a tracedFetch call), through each tracer's compiled
// `propagators`. Baggage, when present, is extracted and written on too.
const { W3CBaggagePropagator, CompositePropagator } = require('@opentelemetry/core');
const SMALL_BAGGAGE = 'userId=alice,isProduction=false';
const propagationOf = (propagators) => tw.createTracer({ exporters: [discard], propagators }).config.propagation;
function propagationCase(propagators, headers) {
  const p = propagationOf(propagators);
  const getter = tw.defaultGetter;
  const setter = tw.defaultSetter;
  return () => {
    const ctx = p.extract(headers, getter);
    const baggage = p.extractBaggage(headers, getter);
    p.inject({}, ctx === null ? undefined : ctx, baggage, setter);
  };
}
function otelPropagationCase(propagator, headers) {
  return () => propagator.inject(propagator.extract(ROOT, headers, api.defaultTextMapGetter), {}, api.defaultTextMapSetter);
}
const otelComposite = new CompositePropagator({ propagators: [propagator, new W3CBaggagePropagator()] });
const TP_ONLY = { traceparent: TP };
const TP_BAGGAGE = { traceparent: TP, baggage: SMALL_BAGGAGE };
const propagationCases = {
  'tracecontext (traceparent)': { tracewire: propagationCase(['tracecontext'], TP_ONLY), opentelemetry: otelPropagationCase(propagator, TP_ONLY) },
  'default tracecontext,baggage, no baggage header': { tracewire: propagationCase(undefined, TP_ONLY), opentelemetry: otelPropagationCase(otelComposite, TP_ONLY) },
  'default tracecontext,baggage, small baggage': { tracewire: propagationCase(undefined, TP_BAGGAGE), opentelemetry: otelPropagationCase(otelComposite, TP_BAGGAGE) },
  'tracecontext alone, small baggage header present (ignored)': { tracewire: propagationCase(['tracecontext'], TP_BAGGAGE) },
  'baggage alone (small)': { tracewire: propagationCase(['baggage'], { baggage: SMALL_BAGGAGE }), opentelemetry: otelPropagationCase(new W3CBaggagePropagator(), { baggage: SMALL_BAGGAGE }) },
  'b3 (single header)': { tracewire: propagationCase(['b3'], { b3: '0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1' }) },
  'b3multi': {
    tracewire: propagationCase(['b3multi'], { 'x-b3-traceid': '0af7651916cd43dd8448eb211c80319c', 'x-b3-spanid': 'b7ad6b7169203331', 'x-b3-sampled': '1' }),
  },
  'xtrace (UUID, inject on)': {
    tracewire: propagationCase([{ name: 'xtrace', inject: true }], { 'x-trace-id': '550e8400-e29b-41d4-a716-446655440000', 'x-span-id': 'b7ad6b7169203331' }),
  },
};

function tick() {
  return new Promise((r) => setImmediate(r));
}

/**
 * ns per op of `fn`, median over rounds (min–max): process CPU time (user + system, every thread:
 * the GC's helpers included), and wall time beside it. The pipelines drain in the ticks between
 * batches of 512, inside the measured time.
 */
async function measure(fn) {
  // warm-up
  const warmEnd = performance.now() + 100;
  while (performance.now() < warmEnd) {
    for (let i = 0; i < 512; i++) fn();
    await tick();
  }
  const cpu = [];
  const wall = [];
  for (let r = 0; r < ROUNDS; r++) {
    let ops = 0;
    const start = performance.now();
    const c0 = process.cpuUsage();
    const end = start + ROUND_MS;
    while (performance.now() < end) {
      for (let i = 0; i < 512; i++) fn();
      ops += 512;
      await tick(); // the export pipelines drain here; their work is inside the measured time
    }
    const c = process.cpuUsage(c0);
    wall.push(((performance.now() - start) * 1e6) / ops);
    cpu.push(((c.user + c.system) * 1e3) / ops);
  }
  cpu.sort((a, b) => a - b);
  wall.sort((a, b) => a - b);
  return { median: cpu[Math.floor(cpu.length / 2)], min: cpu[0], max: cpu[cpu.length - 1], wallMedian: wall[Math.floor(wall.length / 2)] };
}

function heapPerOpenSpan(makeOpen, n) {
  // The array holding the spans is made (with all its slots) before the first reading: its 8
  // bytes a slot are the harness's, not the span's.
  const keep = new Array(n).fill(undefined);
  global.gc();
  global.gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) keep[i] = makeOpen(i);
  global.gc();
  global.gc();
  const after = process.memoryUsage().heapUsed;
  const per = (after - before) / n;
  for (const s of keep) if (s && s.end) s.end();
  return per;
}

async function main() {
  if (typeof global.gc !== 'function') {
    console.error('run with --expose-gc (pnpm bench:micro does)');
    process.exit(1);
  }
  const results = [];
  console.log(`node ${process.version}, ${require('node:os').cpus()[0].model}, ${ROUNDS} rounds x ${ROUND_MS} ms\n`);
  console.log('CPU ns per op (process CPU time, user + system), median of rounds (min–max):\n');
  console.log('| case | tracewire ns/op (min–max) | opentelemetry ns/op (min–max) | ratio |');
  console.log('|---|---|---|---|');
  for (const [name, c] of Object.entries(cases)) {
    const a = await measure(c.tracewire);
    const b = await measure(c.opentelemetry);
    const ratio = a.median / b.median;
    results.push({ case: name, tracewire: a, opentelemetry: b, ratio });
    console.log(`| ${name} | ${a.median.toFixed(0)} (${a.min.toFixed(0)}–${a.max.toFixed(0)}) | ${b.median.toFixed(0)} (${b.min.toFixed(0)}–${b.max.toFixed(0)}) | ${ratio.toFixed(2)} |`);
  }

  console.log('\npropagation, extract + inject per request (ns/op; OpenTelemetry: @opentelemetry/core propagators where it has one)\n');
  console.log('| format | tracewire ns/op (min–max) | opentelemetry ns/op (min–max) |');
  console.log('|---|---|---|');
  const propagation = {};
  for (const [name, c] of Object.entries(propagationCases)) {
    const a = await measure(c.tracewire);
    const b = c.opentelemetry ? await measure(c.opentelemetry) : undefined;
    propagation[name] = a.median;
    results.push({ case: `propagation: ${name}`, tracewire: a, opentelemetry: b });
    console.log(`| ${name} | ${a.median.toFixed(0)} (${a.min.toFixed(0)}–${a.max.toFixed(0)}) | ${b ? `${b.median.toFixed(0)} (${b.min.toFixed(0)}–${b.max.toFixed(0)})` : '—'} |`);
  }
  const tc = propagation['tracecontext (traceparent)'];
  console.log(
    `\ndefault composite over tracecontext alone, per request: +${(propagation['default tracecontext,baggage, no baggage header'] - tc).toFixed(0)} ns without a baggage header, ` +
      `+${(propagation['default tracecontext,baggage, small baggage'] - propagation['tracecontext alone, small baggage header present (ignored)']).toFixed(0)} ns with a small one (limit: 150)`,
  );

  const N = 50000;
  const memTracer = tw.createTracer({ exporters: [discard], limits: { maxLiveTraces: N + 10, maxSpansPerTrace: N + 10 } });
  const parent = memTracer.startSpan('parent', { parent: null });
  const child = heapPerOpenSpan(() => memTracer.startSpan('open child', { parent }), N);
  const rootSpan = heapPerOpenSpan(() => memTracer.startSpan('open root', { parent: null }), N);
  parent.end();
  const otelParentCtx = api.trace.setSpan(ROOT, otel.startSpan('parent', undefined, ROOT));
  const otelChild = heapPerOpenSpan(() => otel.startSpan('open child', undefined, otelParentCtx), N);
  console.log(`\nheap per open span (bytes): tracewire child ${child.toFixed(0)}, tracewire root (with its local trace) ${rootSpan.toFixed(0)}, opentelemetry child ${otelChild.toFixed(0)}`);
  results.push({ case: 'heap per open span (bytes)', tracewireChild: child, tracewireRoot: rootSpan, opentelemetryChild: otelChild });

  // Issue 20's micro targets.
  const root = results.find((r) => r.case === 'root span start+end (trace completes)');
  const targets = [
    { target: 'root span start+end, CPU: Tracewire ÷ OpenTelemetry (BasicTracerProvider + BatchSpanProcessor)', value: root.ratio, limit: 0.25 },
    { target: 'heap per open child span (bytes)', value: child, limit: 400 },
    { target: 'heap per open root span, with its local trace (bytes)', value: rootSpan, limit: 400 },
  ].map((t) => ({ ...t, pass: t.value <= t.limit }));
  console.log('\n| target | value | limit | |\n|---|---|---|---|');
  for (const t of targets) console.log(`| ${t.target} | ${t.value < 10 ? t.value.toFixed(2) : t.value.toFixed(0)} | ≤ ${t.limit} | ${t.pass ? 'pass' : '**MISS**'} |`);
  results.push({ case: 'targets (issue 20)', targets });

  if (process.env.BENCH_JSON) require('node:fs').writeFileSync(process.env.BENCH_JSON, JSON.stringify({ node: process.version, results }, null, 2));
  await Promise.all([tracer.shutdown(1000), memTracer.shutdown(1000), provider.shutdown()]);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
