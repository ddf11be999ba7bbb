'use strict';
// Koa app traced by Tracewire; every request prints its trace through ConsoleExporter.
// Run: pnpm example:koa   (or: pnpm build && node examples/koa-basic/server.js)
const Koa = require('koa');
const Router = require('@koa/router');
const { Readable } = require('node:stream');
const { createTracer, ConsoleExporter, withSpan } = require('@tracewire/core');
const { tracingMiddleware } = require('@tracewire/koa');
const { serve, stopOnSignals } = require('../shared/lifecycle');

const tracer = createTracer({ serviceName: 'koa-basic', exporters: [new ConsoleExporter()] });

const app = new Koa();
app.use(tracingMiddleware({ tracer }));

const api = new Router({ prefix: '/api' });
api.get('/users/:id', async (ctx) => {
  ctx.body = await withSpan('db.query users', async () => {
    await new Promise((r) => setTimeout(r, 15));
    return { id: ctx.params.id, name: 'Ada' };
  });
});
api.get('/stream', (ctx) => {
  ctx.type = 'text/event-stream';
  let i = 0;
  ctx.body = new Readable({
    read() {
      setTimeout(() => this.push(i < 5 ? `data: {"token": ${i++}}\n\n` : null), 20);
    },
  });
});
api.get('/fail', () => {
  throw new Error('something broke');
});
app.use(api.routes());
app.on('error', () => undefined); // Koa logs errors by default; the trace already has it

const paths = ['/api/users/7', '/api/stream', '/api/fail', '/missing'];
const server = serve('koa-basic', app, 3001, paths);
stopOnSignals(tracer, () => server.close());
