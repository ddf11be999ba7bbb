'use strict';
/**
 * OTLP protobuf encoding: @tracewire/otlp's writer against @opentelemetry/otlp-transformer's
 * ProtobufTraceSerializer (0.223, the last line on Node 20), in the same process, on the same
 * trace: 10 spans (a server root, 9 children), 15 attributes each (strings, ints, a double, a
 * boolean, a string array), one event on the root. Each side encodes the spans its own SDK
 * recorded, so the input is what a real export gets. Run with `pnpm bench:otlp` (builds first).
 * Reports ns per span, median of rounds (min–max).
 *
 * Then the whole export of hello-route traces (one server span, the adapter's 10 attributes) by
 * OTLPTraceExporter to a receiver in another process (http/otlp-receiver.js), in batches of 512 as
 * the tracer's default batching sends them: CPU µs of this process per trace, encoding and HTTP
 * included (on loopback the kernel's receive work is charged to the sender too).
 */
// On the Node chosen with --node <major> / BENCH_NODE (bench/node.js), when one is.
if (require('./node').underNode()) return;
const { performance } = require('node:perf_hooks');
const tw = require('@tracewire/core');
const { encodeTraceRequest, OTLPTraceExporter } = require('@tracewire/otlp');
const { spawn } = require('node:child_process');
const path = require('node:path');
const api = require('@opentelemetry/api');
const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { ProtobufTraceSerializer } = require('@opentelemetry/otlp-transformer');

const ROUNDS = Number(process.env.BENCH_ROUNDS || 7);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS || 300);
const SPANS = 10;

function attributes(i) {
  return {
    'http.request.method': 'POST',
    'url.path': `/v1/chat/completions/${i}`,
    'url.scheme': 'https',
    'http.route': '/v1/chat/completions',
    'http.response.status_code': 200,
    'server.address': 'api.openai.com',
    'server.port': 443,
    'network.protocol.version': '1.1',
    'user_agent.original': 'OpenAI/JS 6.49.0',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o-mini',
    'gen_ai.usage.input_tokens': 1416 + i,
    'gen_ai.usage.output_tokens': 58,
    'tracewire.usage.cost': 0.000247,
    'gen_ai.response.finish_reasons': ['stop'],
  };
}

async function tracewireTrace() {
  const memory = new tw.InMemoryExporter();
  const tracer = tw.createTracer({ serviceName: 'bench', exporters: [memory], batch: { scheduledDelayMillis: 1 } });
  const root = tracer.startSpan('POST /chat', { parent: null, kind: 'server', attributes: attributes(0) });
  root.addEvent('gen_ai.first_chunk', { 'tracewire.llm.chunks': 1 });
  for (let i = 1; i < SPANS; i++) tracer.startSpan(`chat ${i}`, { parent: root, kind: 'client', attributes: attributes(i) }).end();
  root.end();
  await tracer.forceFlush(); // the pipeline's timers are unref'ed: waiting on them alone would let node exit
  const [trace] = memory.traces();
  await tracer.shutdown();
  return trace;
}

async function otelSpans() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const otel = provider.getTracer('@tracewire/core', '0.1.0');
  const root = otel.startSpan('POST /chat', { kind: api.SpanKind.SERVER, attributes: attributes(0) }, api.ROOT_CONTEXT);
  root.addEvent('gen_ai.first_chunk', { 'tracewire.llm.chunks': 1 });
  const ctx = api.trace.setSpan(api.ROOT_CONTEXT, root);
  for (let i = 1; i < SPANS; i++) otel.startSpan(`chat ${i}`, { kind: api.SpanKind.CLIENT, attributes: attributes(i) }, ctx).end();
  root.end();
  const spans = exporter.getFinishedSpans();
  await provider.shutdown();
  return spans;
}

function measure(fn) {
  const warmEnd = performance.now() + 200;
  while (performance.now() < warmEnd) fn();
  const perSpan = [];
  for (let r = 0; r < ROUNDS; r++) {
    let ops = 0;
    const start = performance.now();
    const end = start + ROUND_MS;
    while (performance.now() < end) {
      for (let i = 0; i < 100; i++) fn();
      ops += 100;
    }
    perSpan.push(((performance.now() - start) * 1e6) / (ops * SPANS));
  }
  perSpan.sort((a, b) => a - b);
  return { median: perSpan[Math.floor(perSpan.length / 2)], min: perSpan[0], max: perSpan[perSpan.length - 1] };
}

async function main() {
  const trace = await tracewireTrace();
  const spans = await otelSpans();
  const ours = encodeTraceRequest([trace]);
  const theirs = ProtobufTraceSerializer.serializeRequest(spans);
  console.log(`node ${process.version}, ${require('node:os').cpus()[0].model}, ${ROUNDS} rounds x ${ROUND_MS} ms`);
  console.log(`one ${SPANS}-span trace, 15 attributes a span: @tracewire/otlp ${ours.length} bytes, otlp-transformer ${theirs.length} bytes\n`);
  const results = [];
  // Alternate the two, twice, so drift of the machine hits both.
  for (let pass = 0; pass < 2; pass++) {
    const a = measure(() => encodeTraceRequest([trace]));
    const b = measure(() => ProtobufTraceSerializer.serializeRequest(spans));
    results.push({ tracewire: a, opentelemetry: b, ratio: a.median / b.median });
  }
  console.log('| pass | @tracewire/otlp ns/span (min–max) | otlp-transformer ProtobufTraceSerializer ns/span (min–max) | ratio |');
  console.log('|---|---|---|---|');
  results.forEach((r, i) => {
    const f = (m) => `${m.median.toFixed(0)} (${m.min.toFixed(0)}–${m.max.toFixed(0)})`;
    console.log(`| ${i + 1} | ${f(r.tracewire)} | ${f(r.opentelemetry)} | ${r.ratio.toFixed(2)} |`);
  });
  const exportCpu = await exportCpuPerTrace();
  console.log(`\nOTLPTraceExporter, hello-route traces in batches of 512 to a receiver process: ${exportCpu.perTrace.map((x) => x.toFixed(2)).join(', ')} µs CPU per trace (rounds), median ${exportCpu.median.toFixed(2)}; encoding alone ${exportCpu.encodeOnly.toFixed(2)} µs`);
  results.push({ case: 'export CPU per hello trace (µs)', ...exportCpu });
  if (process.env.BENCH_JSON) require('node:fs').writeFileSync(process.env.BENCH_JSON, JSON.stringify({ node: process.version, results }, null, 2));
}

async function helloTraces(n) {
  const memory = new tw.InMemoryExporter();
  const tracer = tw.createTracer({ serviceName: 'bench-fastify', exporters: [memory], limits: { maxLiveTraces: n + 1 } });
  const attrs = {
    'http.request.method': 'GET',
    'url.path': '/hello/world',
    'url.scheme': 'http',
    'http.route': '/hello/:name',
    'http.response.status_code': 200,
    'server.address': '127.0.0.1',
    'server.port': 3000,
    'client.address': '127.0.0.1',
    'user_agent.original': 'autocannon',
    'network.protocol.version': '1.1',
  };
  for (let i = 0; i < n; i++) tracer.startSpan('GET /hello/:name', { parent: null, kind: 'server', attributes: attrs }).end();
  await tracer.forceFlush();
  const traces = memory.traces();
  await tracer.shutdown();
  return traces;
}

async function exportCpuPerTrace() {
  const child = spawn(process.execPath, [path.join(__dirname, 'http', 'otlp-receiver.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve) => child.stdout.once('data', (l) => resolve(JSON.parse(String(l)).port)));
  const exporter = new OTLPTraceExporter({ url: `http://127.0.0.1:${port}/v1/traces` });
  const batch = await helloTraces(512);
  const BATCHES = 200;
  for (let i = 0; i < 20; i++) await exporter.export(batch); // warm-up, and the keep-alive connection
  const perTrace = [];
  for (let r = 0; r < 5; r++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < BATCHES; i++) await exporter.export(batch);
    const c = process.cpuUsage(c0);
    perTrace.push((c.user + c.system) / (BATCHES * batch.length));
  }
  const c0 = process.cpuUsage();
  for (let i = 0; i < BATCHES; i++) encodeTraceRequest(batch);
  const c = process.cpuUsage(c0);
  const encodeOnly = (c.user + c.system) / (BATCHES * batch.length);
  const stats = exporter.stats();
  if (stats.failedSpans > 0) throw new Error(`export failed: ${JSON.stringify(stats)}`);
  await exporter.shutdown();
  child.kill();
  const sorted = perTrace.slice().sort((a, b) => a - b);
  return { perTrace, median: sorted[2], encodeOnly };
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
