'use strict';
/**
 * The benchmarked application, the same two routes in each framework:
 *   GET /hello/:name  small JSON
 *   GET /stream       50 OpenAI-shaped `chat.completion.chunk` SSE events, then `data: [DONE]`,
 *                     written synchronously in a loop and ended (no timers: the cost measured is CPU,
 *                     never sleep). Streamed the way each framework streams: Express writes to `res`,
 *                     Koa and Fastify are handed a PassThrough they pipe to the socket.
 * Frameworks are required inside the builders, so the OpenTelemetry variant can register its
 * instrumentation (server.js, first thing) before any framework is loaded.
 */
const http = require('node:http');
const { PassThrough } = require('node:stream');

const CHUNKS = 50;

/** The SSE events of one streamed completion (the same bytes every request). */
function sseEvents() {
  const base = { id: 'chatcmpl-bench0001', object: 'chat.completion.chunk', created: 1700000000, model: 'gpt-4o-mini-2024-07-18', system_fingerprint: 'fp_bench' };
  const events = [];
  // 1 role chunk, 47 content chunks, 1 finish chunk, 1 usage chunk (stream_options.include_usage).
  events.push({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] });
  for (let i = 0; i < CHUNKS - 3; i++) {
    events.push({ ...base, choices: [{ index: 0, delta: { content: `token${i} ` }, logprobs: null, finish_reason: null }] });
  }
  events.push({ ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }] });
  events.push({ ...base, choices: [], usage: { prompt_tokens: 25, completion_tokens: CHUNKS - 3, total_tokens: 25 + CHUNKS - 3 } });
  return [...events.map((e) => `data: ${JSON.stringify(e)}\n\n`), 'data: [DONE]\n\n'];
}
const EVENTS = sseEvents();
// Extra adapter options for experiments (e.g. BENCH_TW_OPTIONS='{"stream":false}'); unset in the published runs.
const TW_OPTIONS = process.env.BENCH_TW_OPTIONS ? JSON.parse(process.env.BENCH_TW_OPTIONS) : {};
const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' };

function hello(name) {
  return { message: `hello ${name}`, ok: true };
}

/**
 * The `read-floor` reference point: the least a response tap can do and still look at every byte.
 * Patched onto `http.ServerResponse.prototype` as Tracewire's tap is, for responses the handler
 * marks: text chunks are searched as they come; byte chunks are copied into a reused 16 KiB buffer
 * and read once as text (Latin-1: no UTF-8 decoding) when it fills or the response ends, the
 * cheapest way found to read many small Buffers. Each blank line is counted with the native
 * `indexOf`. No parsing, no JSON, no decoder, no attribute.
 */
const READ = Symbol('bench.read-floor');
const HOLD = 16 * 1024;
const spare = [];
function countBlankLines(r, text) {
  for (let i = text.indexOf('\n\n'); i !== -1; i = text.indexOf('\n\n', i + 2)) r.events++;
}
function readHeld(r) {
  if (r.held > 0) countBlankLines(r, r.hold.latin1Slice(0, r.held));
  r.held = 0;
}
function readChunk(r, chunk) {
  if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
  if (typeof chunk === 'string') {
    readHeld(r);
    r.bytes += chunk.length;
    countBlankLines(r, chunk);
    return;
  }
  r.bytes += chunk.byteLength;
  if (r.held + chunk.byteLength > HOLD) readHeld(r);
  if (chunk.byteLength > HOLD) return countBlankLines(r, Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).latin1Slice(0, chunk.byteLength));
  if (r.hold === undefined) r.hold = spare.pop() || Buffer.allocUnsafeSlow(HOLD);
  r.hold.set(chunk, r.held);
  r.held += chunk.byteLength;
}
function installReadFloor() {
  const proto = http.ServerResponse.prototype;
  if (proto[READ] !== undefined) return;
  proto[READ] = null;
  const { write, end } = proto;
  proto.write = function readFloorWrite(chunk) {
    const r = this[READ];
    if (r) readChunk(r, chunk);
    return write.apply(this, arguments);
  };
  proto.end = function readFloorEnd(chunk) {
    const r = this[READ];
    if (r) {
      readChunk(r, chunk);
      readHeld(r);
      if (r.hold !== undefined && spare.length < 16) spare.push(r.hold);
      r.hold = undefined;
    }
    return end.apply(this, arguments);
  };
}
const readFloor = (res) => {
  res[READ] = { events: 0, bytes: 0, hold: undefined, held: 0 };
};

/** A stream holding the whole response body, ended (the reader pipes it). */
function sseStream() {
  const s = new PassThrough();
  for (const e of EVENTS) s.write(e);
  s.end();
  return s;
}

/**
 * Builds the app and listens on 127.0.0.1:`port` (0: any free port). With a Tracewire `tracer`, the
 * framework's adapter is registered first, as the README tells users to. With `context`, a first
 * middleware only runs the rest of the request inside `AsyncLocalStorage.run` (the floor any
 * context-propagating tracer pays on this Node version). With `read`, each handler marks its
 * response for the read floor (see installReadFloor): no middleware or hook is added. Resolves with the node:http server.
 */
async function listen(framework, port, { tracer, context, read } = {}) {
  if (read) installReadFloor();
  let als;
  if (context) {
    const { AsyncLocalStorage } = require('node:async_hooks');
    als = new AsyncLocalStorage();
  }
  const STORE = { request: true };
  if (framework === 'express') {
    const express = require('express');
    const app = express();
    app.set('etag', false);
    app.set('x-powered-by', false);
    if (tracer) app.use(require('@tracewire/express').tracingMiddleware({ tracer, ...TW_OPTIONS }));
    if (als) app.use((req, res, next) => als.run(STORE, next));
    app.get('/hello/:name', (req, res) => {
      if (read) readFloor(res);
      res.json(hello(req.params.name));
    });
    app.get('/stream', (req, res) => {
      if (read) readFloor(res);
      res.writeHead(200, SSE_HEADERS);
      for (const e of EVENTS) res.write(e);
      res.end();
    });
    const server = http.createServer(app);
    await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
    return server;
  }

  if (framework === 'koa') {
    const Koa = require('koa');
    const Router = require('@koa/router');
    const app = new Koa();
    if (tracer) app.use(require('@tracewire/koa').tracingMiddleware({ tracer, ...TW_OPTIONS }));
    if (als) app.use((ctx, next) => als.run(STORE, next));

    const router = new Router();
    router.get('/hello/:name', (ctx) => {
      if (read) readFloor(ctx.res);
      ctx.body = hello(ctx.params.name);
    });
    router.get('/stream', (ctx) => {
      if (read) readFloor(ctx.res);
      ctx.set(SSE_HEADERS);
      ctx.body = sseStream();
    });
    app.use(router.routes());
    const server = http.createServer(app.callback());
    await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
    return server;
  }

  if (framework === 'fastify') {
    const Fastify = require('fastify');
    const app = Fastify({ logger: false });
    if (tracer) await app.register(require('@tracewire/fastify').tracingPlugin, { tracer, ...TW_OPTIONS });
    if (als) app.addHook('onRequest', (req, reply, done) => als.run(STORE, done));

    app.get('/hello/:name', async (req, reply) => {
      if (read) readFloor(reply.raw);
      return hello(req.params.name);
    });
    app.get('/stream', (req, reply) => {
      if (read) readFloor(reply.raw);
      reply.headers(SSE_HEADERS);
      return reply.send(sseStream());
    });
    await app.listen({ port, host: '127.0.0.1' });
    return app.server;
  }

  throw new TypeError(`unknown framework "${framework}" (express, koa, fastify)`);
}

module.exports = { listen, EVENTS, CHUNKS };
