'use strict';
// The front service, "shop": an Express app that calls the back service through tracedFetch, so
// both services' spans join one distributed trace. Exporter from the environment, as in back.js.
const express = require('express');
const { getTracer, tracedFetch, withSpan } = require('@tracewire/core');
const { tracingMiddleware } = require('@tracewire/express');
const { listening, stopOnSignals } = require('./service');

const tracer = getTracer();
const INVENTORY_URL = process.env.INVENTORY_URL || 'http://127.0.0.1:3011';

const app = express();
app.use(tracingMiddleware({ tracer }));

app.get('/checkout/:sku', async (req, res) => {
  const price = await withSpan('price.quote', async (span) => {
    span.setAttribute('app.sku', req.params.sku);
    await new Promise((r) => setTimeout(r, 3));
    return 1999;
  });
  const stock = await tracedFetch(`${INVENTORY_URL}/stock/${encodeURIComponent(req.params.sku)}`);
  if (!stock.ok) {
    await stock.body?.cancel(); // a body nobody reads would keep the client span open
    if (stock.status === 404) return res.status(404).json({ error: 'unknown sku' });
    return res.status(502).json({ error: `inventory answered ${stock.status}` });
  }
  const { count } = await stock.json();
  res.json({ sku: req.params.sku, price, inStock: count > 0 });
});

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => listening('shop', server));
stopOnSignals(tracer, server);
