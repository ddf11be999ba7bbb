'use strict';
/**
 * The OpenTelemetry variant: the Node SDK as its docs set it up, with the HTTP instrumentation and
 * the framework's own (Express, Koa, or @fastify/otel for Fastify), each with its default options,
 * an AlwaysOn sampler and a BatchSpanProcessor (default batching) into an exporter that discards.
 * Must run before the framework is required: instrumentations patch modules as they load.
 */
const { NodeTracerProvider, BatchSpanProcessor, AlwaysOnSampler } = require('@opentelemetry/sdk-trace-node');
const { registerInstrumentations } = require('@opentelemetry/instrumentation');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');

/** Receives every batch and drops it: the export pipeline runs, the network is not counted. */
class DiscardExporter {
  constructor() {
    this.exportedSpans = 0;
  }
  export(spans, done) {
    this.exportedSpans += spans.length;
    done({ code: 0 });
  }
  shutdown() {
    return Promise.resolve();
  }
  forceFlush() {
    return Promise.resolve();
  }
}

function frameworkInstrumentation(framework) {
  if (framework === 'express') {
    const { ExpressInstrumentation } = require('@opentelemetry/instrumentation-express');
    return new ExpressInstrumentation();
  }
  if (framework === 'koa') {
    const { KoaInstrumentation } = require('@opentelemetry/instrumentation-koa');
    return new KoaInstrumentation();
  }
  if (framework === 'fastify') {
    const { FastifyOtelInstrumentation } = require('@fastify/otel');
    // Registers its plugin on every Fastify instance as it is created (the Node SDK way).
    return new FastifyOtelInstrumentation({ registerOnInitialization: true });
  }
  throw new TypeError(`unknown framework "${framework}"`);
}

/**
 * Sets up tracing for `framework`; returns `{ provider, exporter }` (to flush, and to count the spans
 * exported, which shows the instrumentation really ran).
 */
function setupOpenTelemetry(framework) {
  const exporter = new DiscardExporter();
  const provider = new NodeTracerProvider({
    sampler: new AlwaysOnSampler(),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  provider.register(); // AsyncLocalStorage context manager + W3C propagators, as the SDK does
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      // The benchmark's own control endpoint (another port, /__bench/*) is not application traffic.
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => (req.url || '').startsWith('/__bench/') }),
      frameworkInstrumentation(framework),
    ],
  });
  return { provider, exporter };
}

module.exports = { setupOpenTelemetry };
