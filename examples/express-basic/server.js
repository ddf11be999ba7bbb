'use strict';
// Express app traced by Tracewire; every request prints its trace through ConsoleExporter as soon
// as it is complete. /chat calls a (local, mock) LLM through tracedFetch and relays its token stream:
// its trace shows time to first token, token counts and cost on both the server and client span.
// Run: pnpm demo   (or: pnpm build && node examples/express-basic/server.js)
const express = require('express');
const { createTracer, createTracedFetch, ConsoleExporter, withSpan } = require('@tracewire/core');
const { tracingMiddleware, traced } = require('@tracewire/express');
const { serve, stopOnSignals } = require('../shared/lifecycle');

const tracer = createTracer({ serviceName: 'express-basic', exporters: [new ConsoleExporter()] });
const tracedFetch = createTracedFetch(undefined, { tracer });

const app = express();
app.use(tracingMiddleware({ tracer, captureHeaders: ['x-request-id'] }));

app.get('/hello/:name', (req, res) => {
  res.json({ hello: req.params.name });
});

// A child span per unit of work, with withSpan and traced().
app.get('/users/:id', traced('load user', async (req, res) => {
  const user = await withSpan('db.query users', async (span) => {
    span.setAttribute('db.system.name', 'postgresql');
    await new Promise((r) => setTimeout(r, 15));
    return { id: req.params.id, name: 'Ada' };
  });
  const score = await withSpan('score.compute', async () => {
    await new Promise((r) => setTimeout(r, 5));
    return 42;
  });
  res.json({ ...user, score });
}));

// The LLM provider's side: an OpenAI-compatible streaming endpoint (a local mock, no network): a
// Chat Completions stream word by word, then the finish reason and the usage chunk. Its own trace
// shows what the server-side tap reads from a stream the app generates.
function streamChatCompletion(res, { model = 'gpt-5.4-mini', delayMs = 15, promptTokens = 24 } = {}) {
  const id = `chatcmpl-${Math.random().toString(36).slice(2, 12)}`;
  const created = Math.floor(Date.now() / 1000);
  const words = 'Tracing shows where a request spends its time, from the first token to the last.'.split(/(?<= )/);
  const chunk = (delta, finish = null, usage) =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: usage ? [] : [{ index: 0, delta, finish_reason: finish }], ...(usage ? { usage } : {}) })}\n\n`;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write(chunk({ role: 'assistant', content: '' }));
  let i = 0;
  const timer = setInterval(() => {
    if (i < words.length) {
      res.write(chunk({ content: words[i++] }));
      return;
    }
    clearInterval(timer);
    res.write(chunk({}, 'stop'));
    res.write(chunk(null, null, { prompt_tokens: promptTokens, completion_tokens: words.length, total_tokens: promptTokens + words.length }));
    res.end('data: [DONE]\n\n');
  }, delayMs);
  res.on('close', () => clearInterval(timer));
}
app.post('/v1/chat/completions', express.json(), (req, res) => {
  streamChatCompletion(res, { model: req.body.model });
});

// An LLM call through tracedFetch, its token stream relayed to the client: the server span lasts
// until the last byte and, like the client span, records TTFT, tokens and cost.
app.get('/chat', async (req, res) => {
  const upstream = await tracedFetch(`http://127.0.0.1:${server.address().port}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'gpt-5.4-mini',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: String(req.query.q ?? 'Why trace an LLM service?') }],
    }),
  });
  res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/event-stream' });
  for await (const bytes of upstream.body) res.write(bytes);
  res.end();
});

app.get('/fail', () => {
  throw new Error('something broke');
});

// The app's own error handler sees the very error the trace recorded.
app.use((err, req, res, _next) => {
  res.status(500).json({ error: err.message });
});

const paths = ['/users/42', '/hello/world?token=secret', '/chat', '/fail', '/missing'];
const server = serve('express-basic', app, 3000, paths);
stopOnSignals(tracer, () => server.close());
