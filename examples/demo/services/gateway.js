'use strict';
/* global AbortController */
/**
 * The `gateway` service (Express): the public edge. Forwards chat turns to the `chat` service with
 * tracedFetch (the W3C traceparent goes along) and relays the token stream to the client as it
 * comes; when the client goes away the upstream call is cancelled, so every service sees the abort.
 *
 *   POST /api/chat                { message, provider?, model?, scenario? } → SSE from chat
 *   GET  /api/conversations/:id   a conversation's metadata (a non-LLM route, from a "database")
 *   GET  /healthz                 not traced
 */
const express = require('express');
const { tracedFetch, withSpan } = require('@tracewire/core');
const { tracingMiddleware } = require('@tracewire/express');

/** Builds the gateway app; `chatUrl` is the chat service's base URL. */
function createGateway({ tracer, chatUrl }) {
  const app = express();
  app.disable('x-powered-by');
  app.use(tracingMiddleware({ tracer, ignore: ['/healthz'], captureHeaders: ['x-request-id', 'x-demo-case'] }));
  app.use(express.json({ limit: '64kb' }));

  app.get('/healthz', (req, res) => res.json({ ok: true }));

  app.get('/api/conversations/:id', async (req, res, next) => {
    try {
      const conversation = await withSpan('db.query conversations', async (span) => {
        span.setAttributes({ 'db.system.name': 'postgresql', 'db.operation.name': 'SELECT', 'db.collection.name': 'conversations' });
        await new Promise((r) => setTimeout(r, 8 + Math.random() * 12));
        return { id: req.params.id, turns: 4, model: 'gpt-5.4-mini' };
      });
      res.json(conversation);
    } catch (err) {
      next(err);
    }
  });

  app.post('/api/chat', async (req, res, next) => {
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    try {
      const upstream = await tracedFetch(`${chatUrl}/v1/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(req.body ?? {}),
        signal: controller.signal,
      });
      res.status(upstream.status);
      res.setHeader('content-type', upstream.headers.get('content-type') ?? 'application/octet-stream');
      res.setHeader('cache-control', 'no-cache');
      res.flushHeaders();
      for await (const bytes of upstream.body) {
        if (res.destroyed) break;
        res.write(bytes);
      }
      res.end();
    } catch (err) {
      if (controller.signal.aborted) {
        res.destroy();
        return;
      }
      if (res.headersSent) {
        res.destroy(err);
        return;
      }
      next(err);
    }
  });

  app.use((err, req, res, _next) => {
    res.status(502).json({ error: 'upstream failed', detail: err.message });
  });
  return app;
}

module.exports = { createGateway };
