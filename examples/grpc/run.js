'use strict';
/* global AbortController */
/**
 * HTTP at the edge, gRPC inside: a gateway (Express) answers `GET /ask`, `GET /stream` and
 * `GET /slow` by calling an AI service over gRPC (@grpc/grpc-js), which asks a model over HTTP (the
 * demo's local mock LLM, examples/demo/services/mock-llm.js: no network, no key). Each service has
 * its own tracer and service name, as if it ran in its own process; the trace context crosses the
 * gRPC hop in the call metadata (`traceparent`), so each request is one trace:
 *
 *   gateway    GET /ask                              SERVER  (Express)
 *   gateway    └─ assistant.v1.Assistant/Ask         CLIENT  (clientInterceptor)
 *   assistant     └─ assistant.v1.Assistant/Ask      SERVER  (serverInterceptor)
 *   assistant        └─ chat gpt-5.4-mini            CLIENT  (tracedFetch: tokens, cost)
 *   model               └─ POST /v1/chat/completions SERVER  (Koa)
 *
 * `/stream` is the same with a server-streaming call (tokens relayed as gRPC messages, counted on
 * both gRPC spans); `/slow` asks for a slow reasoning answer with a 150 ms deadline: both gRPC spans
 * end DEADLINE_EXCEEDED, and the AI service, told the call was cancelled, aborts its model call.
 *
 * Run: `npx -y pnpm@10 example:grpc` (or `node examples/grpc/run.js` after a build). Each
 * service's part of a trace is printed as a waterfall on a terminal, as one JSON line otherwise.
 */
const http = require('node:http');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const express = require('express');
const { createTracer, createTracedFetch, ConsoleExporter } = require('@tracewire/core');
const { tracingMiddleware } = require('@tracewire/express');
const { serverInterceptor, clientInterceptor } = require('@tracewire/grpc');
const { startMockLLM } = require('../demo/services/mock-llm');

const MODEL = 'gpt-5.4-mini';
const tracerFor = (serviceName) => createTracer({ serviceName, exporters: [new ConsoleExporter()] });
const tracers = { gateway: tracerFor('gateway'), assistant: tracerFor('assistant'), model: tracerFor('model') };

const assistant = grpc.loadPackageDefinition(protoLoader.loadSync(path.join(__dirname, 'assistant.proto'))).assistant.v1;

/** The AI service: a gRPC server whose handlers ask the model with tracedFetch. */
function startAssistant(modelUrl) {
  const fetchModel = createTracedFetch(fetch, { tracer: tracers.assistant });
  // A call the client cancelled (or whose deadline passed) stops asking the model.
  const complete = (call, stream) => {
    const controller = new AbortController();
    call.once('cancelled', () => controller.abort());
    return fetchModel(`${modelUrl}/v1/chat/completions`, {
      method: 'POST',
      signal: controller.signal,
      headers: { 'content-type': 'application/json', authorization: 'Bearer mock' },
      body: JSON.stringify({ model: MODEL, stream, stream_options: stream ? { include_usage: true } : undefined, messages: [{ role: 'user', content: call.request.text }] }),
    });
  };

  const server = new grpc.Server({ interceptors: [serverInterceptor({ tracer: tracers.assistant })] });
  server.addService(assistant.Assistant.service, {
    async Ask(call, callback) {
      try {
        const res = await complete(call, false);
        const body = await res.json();
        callback(null, { text: body.choices[0].message.content, model: body.model });
      } catch (err) {
        if (!call.cancelled) callback({ code: grpc.status.UNAVAILABLE, details: `the model failed: ${err.message}` });
      }
    },
    async AskStream(call) {
      try {
        const res = await complete(call, true);
        // The model's SSE stream, relayed token by token.
        let buffered = '';
        for await (const chunk of res.body) {
          buffered += Buffer.from(chunk).toString('utf8');
          let nl;
          while ((nl = buffered.indexOf('\n\n')) !== -1) {
            const event = buffered.slice(0, nl);
            buffered = buffered.slice(nl + 2);
            const data = event.startsWith('data: ') ? event.slice(6) : '';
            if (!data || data === '[DONE]') continue;
            const text = JSON.parse(data).choices?.[0]?.delta?.content;
            if (text) call.write({ text });
          }
        }
        call.end();
      } catch (err) {
        if (!call.cancelled) call.emit('error', { code: grpc.status.UNAVAILABLE, details: `the model failed: ${err.message}` });
      }
    },
  });
  return new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve({ server, port })));
  });
}

/** The gateway: Express, calling the AI service over gRPC. */
function startGateway(assistantPort) {
  const client = new assistant.Assistant(`127.0.0.1:${assistantPort}`, grpc.credentials.createInsecure(), {
    interceptors: [clientInterceptor({ tracer: tracers.gateway })],
  });
  const app = express();
  app.use(tracingMiddleware({ tracer: tracers.gateway }));
  const ask = (text, deadlineMs) =>
    new Promise((resolve, reject) => {
      client.Ask({ text }, { deadline: Date.now() + deadlineMs }, (err, answer) => (err ? reject(err) : resolve(answer)));
    });
  app.get('/ask', async (req, res) => {
    try {
      res.json(await ask(String(req.query.q), 10_000));
    } catch (err) {
      res.status(502).json({ error: err.details });
    }
  });
  app.get('/slow', async (req, res) => {
    try {
      res.json(await ask(String(req.query.q), 150));
    } catch (err) {
      res.status(err.code === grpc.status.DEADLINE_EXCEEDED ? 504 : 502).json({ error: err.details });
    }
  });
  app.get('/stream', (req, res) => {
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    const call = client.AskStream({ text: String(req.query.q) }, { deadline: Date.now() + 10_000 });
    call.on('data', (token) => res.write(token.text));
    call.on('error', (err) => res.end(`\n[error: ${err.details}]`));
    call.on('end', () => res.end());
  });
  const server = http.createServer(app);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, client, url: `http://127.0.0.1:${server.address().port}` })));
}

function get(url) {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      })
      .on('error', reject);
  });
}

async function main() {
  const model = await startMockLLM({ tracer: tracers.model, errorRate: 0, speed: 0.2 });
  const rpc = await startAssistant(model.url);
  const gateway = await startGateway(rpc.port);
  const log = (line) => (process.stdout.isTTY ? process.stdout : process.stderr).write(`${line}\n`);
  try {
    for (const [route, q] of [
      ['/ask', 'What is distributed tracing?'],
      ['/stream', 'What is time to first token?'],
      ['/slow', 'Think step by step: why trace gRPC calls?'],
    ]) {
      const { status, body } = await get(`${gateway.url}${route}?q=${encodeURIComponent(q)}`);
      log(`GET ${route} -> ${status} ${body.length > 90 ? `${body.slice(0, 87)}...` : body}`);
    }
  } finally {
    gateway.client.close();
    await new Promise((resolve) => gateway.server.close(resolve));
    rpc.server.forceShutdown();
    await model.close();
    // The model's server span for the abandoned /slow call ends on its socket's close, a tick after.
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Each tracer prints what it still holds.
    await Promise.all(Object.values(tracers).map((t) => t.shutdown(2000)));
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
