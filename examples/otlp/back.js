'use strict';
// The back service, "inventory": a Koa app. Its exporter comes from the environment run.js sets
// (OTEL_TRACES_EXPORTER=otlp with OTEL_EXPORTER_OTLP_ENDPOINT, or zipkin with
// OTEL_EXPORTER_ZIPKIN_ENDPOINT), the same variables you would set in production.
const Koa = require('koa');
const Router = require('@koa/router');
const { getTracer, withSpan } = require('@tracewire/core');
const { tracingMiddleware } = require('@tracewire/koa');
const { listening, stopOnSignals } = require('./service');

const tracer = getTracer(); // built from OTEL_SERVICE_NAME, OTEL_TRACES_EXPORTER, OTEL_EXPORTER_*
const STOCK = { 'A-7': 12, 'C-3': 0 };

const app = new Koa();
app.use(tracingMiddleware({ tracer }));
const router = new Router();
router.get('/stock/:sku', async (ctx) => {
  const { sku } = ctx.params;
  if (sku === 'B-2') throw new Error('stock database unavailable'); // a 500, recorded on the span
  const count = await withSpan('db.query stock', async (span) => {
    span.setAttributes({ 'db.system.name': 'postgresql', 'db.operation.name': 'SELECT', 'app.sku': sku });
    await new Promise((r) => setTimeout(r, 8));
    return STOCK[sku];
  });
  if (count === undefined) ctx.status = 404;
  else ctx.body = { sku, count };
});
app.use(router.routes());
app.on('error', () => undefined); // Koa logs errors by default; the trace already has it

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => listening('inventory', server));
stopOnSignals(tracer, server);
