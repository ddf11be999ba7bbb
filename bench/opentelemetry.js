'use strict';
/**
 * The cost of a span made through `@opentelemetry/api` with @tracewire/opentelemetry, against a
 * native Tracewire span and an OpenTelemetry SDK span (sdk-trace-base 2.12, BatchSpanProcessor,
 * AsyncLocalStorageContextManager), in the same process. `node bench/opentelemetry.js` after
 * `pnpm build` (`pnpm bench:opentelemetry` builds first).
 *
 * Each stack is registered with the API in turn (the bridge through registerOpenTelemetry(), the
 * SDK as NodeSDK would: its provider and context manager) and used through the API, as a library
 * uses it: `trace.getTracer(...)`, `startSpan`, `startActiveSpan`. Each round runs every case on
 * the three stacks in turn (the order rotated each round), measuring CPU time (user + system) per
 * op over a fixed wall time; the medians over rounds are reported, and each ratio is the median of
 * the per-round ratios, so a noisy, shared machine's slow spells hurt both sides of a ratio alike.
 * Spans end into each stack's batching pipeline with a discarding exporter, drained between
 * batches of 512 ops (the export work is counted).
 *
 * Targets (issue #15): bridge <= 1.5x native, bridge <= 0.3x SDK. BENCH_CASES=<text> runs only
 * the cases whose name contains it.
 */
if (require('./node').underNode()) return;
const { createRequire } = require('node:module');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const tw = require('@tracewire/core');

// The OpenTelemetry packages the bridge is tested with, from its folder: one copy of the API for
// the bridge, the SDK and the context manager (a second copy would not see the registration).
const fromBridge = createRequire(path.join(__dirname, '..', 'packages', 'opentelemetry', 'package.json'));
const api = fromBridge('@opentelemetry/api');
const { BasicTracerProvider, BatchSpanProcessor } = fromBridge('@opentelemetry/sdk-trace-base');
const { AsyncLocalStorageContextManager } = fromBridge('@opentelemetry/context-async-hooks');
const { registerOpenTelemetry } = require(path.join(__dirname, '..', 'packages', 'opentelemetry'));

const ROUNDS = Number(process.env.BENCH_ROUNDS || 9);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS || 300);

const discard = { name: 'discard', export: async () => undefined };
const tracer = tw.createTracer({ serviceName: 'bench', exporters: [discard] });
tw.setGlobalTracer(tracer);
const otelExporter = { export: (_spans, cb) => cb({ code: 0 }), shutdown: async () => undefined, forceFlush: async () => undefined };
const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(otelExporter)] });
const alsContextManager = new AsyncLocalStorageContextManager();

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

/** Children under a parent replaced every 100 children (so no trace reaches its span cap). */
function children(startRoot, startChild) {
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

/** The same cases through the OpenTelemetry API, for whichever stack is registered. */
function apiCases() {
  const t = api.trace.getTracer('bench-lib', '1.0.0');
  const ROOT = api.ROOT_CONTEXT;
  let parentContext;
  return {
    'child span start+end, under the active span': {
      // 100 children per parent, started as libraries do: under the active context.
      per: 100,
      fn: () =>
        t.startActiveSpan('parent', { root: true }, (parent) => {
          for (let i = 0; i < 100; i++) t.startSpan('op').end();
          parent.end();
        }),
    },
    // The parent's context made once per parent, as a library holding it would.
    'child span start+end, explicit parent context': children(
      () => {
        const parent = t.startSpan('parent', { root: true });
        parentContext = api.trace.setSpan(ROOT, parent);
        return parent;
      },
      () => t.startSpan('op', undefined, parentContext),
    ),
    'span start+8 attributes+end (new trace)': () => {
      const s = t.startSpan('op', { root: true });
      attrs8(s);
      s.end();
    },
    'nested active spans (2)': () =>
      t.startActiveSpan('outer', { root: true }, (outer) => {
        t.startActiveSpan('inner', (inner) => inner.end());
        outer.end();
      }),
  };
}

const stacks = {
  native: {
    setup: () => undefined,
    teardown: () => undefined,
    cases: () => ({
      'child span start+end, under the active span': {
        per: 100,
        fn: () =>
          tracer.withSpan('parent', () => {
            for (let i = 0; i < 100; i++) tracer.startSpan('op').end();
          }, { parent: null }),
      },
      'child span start+end, explicit parent context': children(() => tracer.startSpan('parent', { parent: null }), (p) => tracer.startSpan('op', { parent: p })),
      'span start+8 attributes+end (new trace)': () => {
        const s = tracer.startSpan('op', { parent: null });
        attrs8(s);
        s.end();
      },
      'nested active spans (2)': () => tracer.withSpan('outer', () => tracer.withSpan('inner', () => 1), { parent: null }),
    }),
  },
  bridge: {
    setup() {
      this.unregister = registerOpenTelemetry();
    },
    teardown() {
      this.unregister();
    },
    cases: apiCases,
  },
  sdk: {
    setup() {
      api.trace.setGlobalTracerProvider(provider);
      api.context.setGlobalContextManager(alsContextManager.enable());
    },
    teardown() {
      api.trace.disable();
      api.context.disable();
    },
    cases: apiCases,
  },
};

const tick = () => new Promise((r) => setImmediate(r));

/** CPU ns per op of `fn` over one round of ROUND_MS wall time. */
async function round(c) {
  const fn = typeof c === 'function' ? c : c.fn;
  const per = typeof c === 'function' ? 1 : c.per;
  const batch = Math.max(1, Math.round(512 / per));
  let ops = 0;
  const start = performance.now();
  const cpu = process.cpuUsage();
  while (performance.now() - start < ROUND_MS) {
    for (let i = 0; i < batch; i++) fn();
    ops += batch * per;
    await tick();
  }
  const used = process.cpuUsage(cpu);
  return ((used.user + used.system) * 1000) / ops;
}

async function main() {
  // BENCH_CASES=<text>: only the cases whose name contains it (e.g. "nested"), for working on one.
  const only = process.env.BENCH_CASES;
  const names = Object.keys(stacks.native.cases()).filter((n) => !only || n.includes(only));
  const order = Object.keys(stacks);
  const samples = {};
  for (const name of names) samples[name] = { native: [], bridge: [], sdk: [] };
  // Each round runs every case on each stack in turn (the stack order rotated every round); a
  // ratio is taken within a round, from runs a second or two apart, under the same machine load.
  for (let r = -1; r < ROUNDS; r++) {
    for (let k = 0; k < order.length; k++) {
      const stackName = order[(k + Math.max(r, 0)) % order.length];
      const stack = stacks[stackName];
      stack.setup();
      const cases = stack.cases();
      for (const name of names) {
        const ns = await round(cases[name]);
        if (r >= 0) samples[name][stackName].push(ns); // round -1 warms up
      }
      stack.teardown();
    }
  }
  const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
  console.log(`node ${process.version}, ${require('node:os').cpus()[0].model}, ${ROUNDS} rounds x ${ROUND_MS} ms per case and stack, CPU ns/op, medians (min-max); ratios: median of the per-round ratios\n`);
  console.log('| case | native Tracewire | bridge (OTel API -> Tracewire) | OpenTelemetry SDK | bridge / native | bridge / SDK |');
  console.log('|---|---|---|---|---|---|');
  const results = [];
  for (const name of names) {
    const s = samples[name];
    const m = { native: median(s.native), bridge: median(s.bridge), sdk: median(s.sdk) };
    const paired = (a, b) => median(a.map((x, i) => x / b[i]));
    const overNative = paired(s.bridge, s.native);
    const overSdk = paired(s.bridge, s.sdk);
    const fmt = (xs, v) => `${v.toFixed(0)} (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)})`;
    console.log(`| ${name} | ${fmt(s.native, m.native)} | ${fmt(s.bridge, m.bridge)} | ${fmt(s.sdk, m.sdk)} | ${overNative.toFixed(2)} | ${overSdk.toFixed(2)} |`);
    results.push({ case: name, ...m, bridgeOverNative: overNative, bridgeOverSdk: overSdk });
  }
  if (process.env.BENCH_JSON) require('node:fs').writeFileSync(process.env.BENCH_JSON, JSON.stringify({ node: process.version, rounds: ROUNDS, roundMs: ROUND_MS, results }, null, 2));
  await Promise.all([tracer.shutdown(1000), provider.shutdown()]);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
