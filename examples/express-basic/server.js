'use strict';
// Express app traced by Tracewire; every request prints its trace through ConsoleExporter.
// Run: pnpm demo   (or: pnpm build && node examples/express-basic/server.js)
const express = require('express');
const { createTracer, ConsoleExporter, withSpan } = require('@tracewire/core');
const { tracingMiddleware, traced } = require('@tracewire/express');
const { serve, stopOnSignals } = require('../shared/lifecycle');

const tracer = createTracer({
  serviceName: 'express-basic',
  exporters: [new ConsoleExporter()],
  batch: { scheduledDelayMillis: 200 }, // print promptly in a demo (default 5 s)
});

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

// A streamed response: the server span lasts until the last byte.
app.get('/stream', (req, res) => {
  res.setHeader('content-type', 'text/event-stream');
  let i = 0;
  const timer = setInterval(() => {
    res.write(`data: {"token": ${i}}\n\n`);
    if (++i === 5) {
      clearInterval(timer);
      res.end('data: [DONE]\n\n');
    }
  }, 20);
  res.on('close', () => clearInterval(timer));
});

app.get('/fail', () => {
  throw new Error('something broke');
});

// The app's own error handler sees the very error the trace recorded.
app.use((err, req, res, _next) => {
  res.status(500).json({ error: err.message });
});

const paths = ['/users/42', '/hello/world?token=secret', '/stream', '/fail', '/missing'];
const server = serve('express-basic', app, 3000, paths);
stopOnSignals(tracer, () => server.close());
