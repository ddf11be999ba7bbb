'use strict';
// Fastify app traced by Tracewire; every request prints its trace through ConsoleExporter.
// Run: pnpm example:fastify   (or: pnpm build && node examples/fastify-basic/server.js)
const Fastify = require('fastify');
const { Readable } = require('node:stream');
const { createTracer, ConsoleExporter, withSpan } = require('@tracewire/core');
const { tracingPlugin } = require('@tracewire/fastify');
const { ready, stopOnSignals } = require('../shared/lifecycle');

const tracer = createTracer({ serviceName: 'fastify-basic', exporters: [new ConsoleExporter()] });

async function main() {
  const app = Fastify();
  await app.register(tracingPlugin, { tracer });

  await app.register(async (api) => {
    api.get('/users/:id', async (request) =>
      withSpan('db.query users', async () => {
        await new Promise((r) => setTimeout(r, 15));
        return { id: request.params.id, name: 'Ada' };
      }));
    api.get('/stream', (request, reply) => {
      let i = 0;
      const body = new Readable({
        read() {
          setTimeout(() => this.push(i < 5 ? `data: {"token": ${i++}}\n\n` : null), 20);
        },
      });
      reply.type('text/event-stream').send(body);
    });
    api.get('/health', { config: { tracing: { ignore: true } } }, async () => ({ ok: true }));
    api.get('/fail', async () => {
      throw new Error('something broke');
    });
  }, { prefix: '/api' });

  const paths = ['/api/users/7', '/api/stream', '/api/fail', '/api/health', '/missing'];
  const address = await app.listen({ port: Number(process.env.PORT ?? 3002), host: '127.0.0.1' });
  await ready('fastify-basic', address, paths);
  stopOnSignals(tracer, () => app.close());
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
