'use strict';
/**
 * Runs one demo service as its own process: `node run.js <gateway|chat|mock-llm>`, configured by
 * the environment the demo passes (UPSTREAM_URL, TRACES_URL, METRICS_URL, DEMO_SAMPLE_RATIO). Each
 * process has its own tracer, named after the service, exporting traces and metrics (every request,
 * sampled or not: @tracewire/metrics) over OTLP/HTTP (protobuf) to the viewer, as a real deployment
 * exports to a collector. Tells its parent its URL over IPC; stops cleanly on a "shutdown"
 * message, SIGINT or SIGTERM, after delivering the traces it still holds.
 */
const http = require('node:http');
const { createTracer, setGlobalTracer } = require('@tracewire/core');
const { OTLPTraceExporter } = require('@tracewire/otlp');
const { createMetrics } = require('@tracewire/metrics');

const name = process.argv[2];
const upstream = process.env.UPSTREAM_URL;
const tracesUrl = process.env.TRACES_URL;
const metricsUrl = process.env.METRICS_URL;
// The gateway decides for the whole trace (the others follow its sampled flag).
const ratio = name === 'gateway' && process.env.DEMO_SAMPLE_RATIO !== undefined ? Number(process.env.DEMO_SAMPLE_RATIO) : 1;

async function main() {
  if (!tracesUrl) throw new Error('TRACES_URL is not set (the viewer\'s /v1/traces)');
  const tracer = createTracer({
    serviceName: name,
    serviceVersion: '1.0.0',
    environment: 'demo',
    exporters: [new OTLPTraceExporter({ url: tracesUrl, protocol: 'http/protobuf' })],
    // A live view: send each batch a fifth of a second after the first trace, not after 5 s.
    batch: { scheduledDelayMillis: 200 },
    // The chat service owns the prompts: it records them, so the viewer shows the conversation.
    captureContent: name === 'chat',
    sampler: Number.isFinite(ratio) && ratio >= 0 && ratio <= 1 ? ratio : 1,
  });
  // Every request, call and LLM stream, sampled or not, every 2 s to the viewer's metrics panel.
  const metrics = metricsUrl ? createMetrics({ tracer, exporters: ['otlp'], otlp: { url: metricsUrl }, exportIntervalMillis: 2000 }) : undefined;
  // One service per process: its tracer is the process's, so tracedFetch and withSpan use it.
  setGlobalTracer(tracer);

  let server;
  if (name === 'mock-llm') {
    const { createMockLLM } = require('./mock-llm');
    const errorRate = process.env.MOCK_LLM_ERROR_RATE === undefined ? 0.05 : Number(process.env.MOCK_LLM_ERROR_RATE);
    server = http.createServer(createMockLLM({ tracer, errorRate }).callback());
  } else if (name === 'chat') {
    const { createChat } = require('./chat');
    const app = await createChat({ tracer, modelUrl: upstream });
    await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
    server = app.server;
  } else if (name === 'gateway') {
    const { createGateway } = require('./gateway');
    server = http.createServer(createGateway({ tracer, chatUrl: upstream }));
  } else {
    throw new Error(`unknown service ${name}`);
  }

  if (!server.listening) {
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', resolve);
    });
  }
  const url = `http://127.0.0.1:${server.address().port}`;

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    server.closeIdleConnections();
    await new Promise((resolve) => {
      server.close(resolve);
      setTimeout(() => {
        server.closeAllConnections();
        resolve();
      }, 1500).unref();
    });
    await Promise.all([tracer.shutdown(3000), metrics?.shutdown()]);
    process.exit(0);
  };
  process.on('message', (m) => m === 'shutdown' && stop());
  process.on('disconnect', stop); // the demo is gone: do not linger
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (process.send) process.send({ ready: true, url });
  else console.log(`${name} listening on ${url}`);
}

main().catch((err) => {
  console.error(`${name}: ${err.stack || err}`);
  process.exit(1);
});
