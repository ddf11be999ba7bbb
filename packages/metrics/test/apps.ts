/**
 * The same app in Express, Koa and Fastify, traced by each adapter: a JSON route, a failing route,
 * an LLM token stream the app serves itself (the recorded OpenAI stream), and a route that calls a
 * model with tracedFetch (the recorded Anthropic stream from `upstream`). Anything else is a 404.
 */
import http from 'node:http';
import { PassThrough } from 'node:stream';
import express from 'express';
import Koa from 'koa';
import Router from '@koa/router';
import Fastify from 'fastify';
import { createTracedFetch } from '@tracewire/core';
import type { Tracer } from '@tracewire/core';
import { tracingMiddleware as expressTracing } from '@tracewire/express';
import { tracingMiddleware as koaTracing } from '@tracewire/koa';
import { tracingPlugin } from '@tracewire/fastify';
import { listen } from '../../../test-utils/http';
import type { Listening } from '../../../test-utils/http';
import { loadFixtures } from '../../../test-utils/fixtures';

export type Framework = 'express' | 'koa' | 'fastify';
export const FRAMEWORKS: Framework[] = ['express', 'koa', 'fastify'];

const fixtures = loadFixtures();
/** What GET /chat streams. */
export const SERVED = fixtures.find((f) => f.name === 'openai-chat-text-usage')!;
/** What the model server answers GET /ask's call with. */
export const CALLED = fixtures.find((f) => f.name === 'anthropic-text')!;

/** Writes `bytes` in pieces of about `size`, `gapMs` apart, then ends. */
async function stream(write: (chunk: Buffer) => void, end: () => void, bytes: Buffer, size: number, gapMs: number): Promise<void> {
  for (let at = 0; at < bytes.length; at += size) {
    write(bytes.subarray(at, at + size));
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
  }
  end();
}

/** A model server: every POST answers with the recorded Anthropic stream, 300-byte writes 2 ms apart. */
export async function startUpstream(): Promise<Listening> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, CALLED.headers);
      void stream((c) => res.write(c), () => res.end(), CALLED.bytes, 300, 2);
    });
  });
  return listen(server);
}

/** GET /ask's model call: Anthropic Messages, streamed, read to its end. */
async function ask(tracer: Tracer, upstream: string): Promise<number> {
  const fetch = createTracedFetch(undefined, { tracer });
  const res = await fetch(`${upstream}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'k', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: 'claude-opus-4-5', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
  return (await res.text()).length;
}

/** Starts the app of `framework` on 127.0.0.1:0. */
export async function startApp(framework: Framework, tracer: Tracer, upstream: string): Promise<Listening> {
  if (framework === 'express') {
    const app = express();
    app.use(expressTracing({ tracer }));
    app.get('/users/:id', (req, res) => {
      res.json({ id: req.params.id });
    });
    app.get('/fail', () => {
      throw new Error('failed on purpose');
    });
    app.get('/chat', (_req, res) => {
      res.setHeader('content-type', 'text/event-stream');
      void stream((c) => res.write(c), () => res.end(), SERVED.bytes, 500, 1);
    });
    app.get('/ask', async (_req, res) => {
      res.json({ read: await ask(tracer, upstream) });
    });
    app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).json({ error: err instanceof Error ? err.message : String(err) });
    });
    return listen(http.createServer(app));
  }
  if (framework === 'koa') {
    const app = new Koa();
    app.silent = true;
    app.use(koaTracing({ tracer }));
    const router = new Router();
    router.get('/users/:id', (ctx) => {
      ctx.body = { id: ctx.params.id };
    });
    router.get('/fail', () => {
      throw new Error('failed on purpose');
    });
    router.get('/chat', (ctx) => {
      ctx.type = 'text/event-stream';
      const body = new PassThrough();
      ctx.body = body;
      void stream((c) => body.write(c), () => body.end(), SERVED.bytes, 500, 1);
    });
    router.get('/ask', async (ctx) => {
      ctx.body = { read: await ask(tracer, upstream) };
    });
    app.use(router.routes());
    return listen(http.createServer(app.callback()));
  }
  const app = Fastify();
  await app.register(tracingPlugin, { tracer });
  app.get('/users/:id', async (req) => ({ id: (req.params as { id: string }).id }));
  app.get('/fail', async () => {
    throw new Error('failed on purpose');
  });
  app.get('/chat', (_req, reply) => {
    const body = new PassThrough();
    reply.header('content-type', 'text/event-stream').send(body);
    void stream((c) => body.write(c), () => body.end(), SERVED.bytes, 500, 1);
  });
  app.get('/ask', async () => ({ read: await ask(tracer, upstream) }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, port, close: () => app.close() };
}
