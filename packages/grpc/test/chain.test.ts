/**
 * A request across HTTP and gRPC in one trace: Express → gRPC client → gRPC server →
 * tracedFetch → Fastify, each hop a real server on 127.0.0.1, each adapter the published one.
 */
import http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import express from 'express';
import Fastify from 'fastify';
import { createTracedFetch, createTracer, InMemoryExporter } from '@tracewire/core';
import type { SpanData } from '@tracewire/core';
import { tracingMiddleware } from '@tracewire/express';
import { tracingPlugin } from '@tracewire/fastify';
import { clientInterceptor, serverInterceptor } from '../src';
import { listen, request } from '../../../test-utils/http';
import { SERVICE, echoClient, say, startEchoServer } from './echo';

describe('Express → gRPC client → gRPC server → tracedFetch → Fastify', () => {
  it('is one trace, each span the child of the one before', async () => {
    const exporter = new InMemoryExporter();
    const tracer = createTracer({ serviceName: 'chain', exporters: [exporter], batch: { scheduledDelayMillis: 1 } });
    const fetchTraced = createTracedFetch(fetch, { tracer });

    const fastify = Fastify();
    await fastify.register(tracingPlugin, { tracer });
    fastify.get('/inventory/:sku', async (req) => ({ sku: (req.params as { sku: string }).sku, stock: 3, traceparent: req.headers.traceparent }));
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    const fastifyUrl = `http://127.0.0.1:${(fastify.server.address() as { port: number }).port}`;

    const rpc = await startEchoServer(grpc, [serverInterceptor({ tracer })], {
      async Say(call: grpc.ServerUnaryCall<{ text: string }, unknown>, cb: grpc.sendUnaryData<unknown>) {
        const res = await fetchTraced(`${fastifyUrl}/inventory/${call.request.text}`);
        const body = (await res.json()) as { stock: number };
        cb(null, { text: `stock ${body.stock}` });
      },
    });
    const client = echoClient(grpc, rpc.port, [clientInterceptor({ tracer })]);

    const app = express();
    app.use(tracingMiddleware({ tracer }));
    app.get('/orders/:sku', async (req, res) => {
      const { reply, error } = await say(client, { text: req.params.sku });
      if (error) res.status(502).json({ error: error.message });
      else res.json({ reply: reply!.text });
    });
    const web = await listen(http.createServer(app));
    try {
      const res = await request(`${web.url}/orders/sku-1`);
      expect([res.status, JSON.parse(res.body)]).toEqual([200, { reply: 'stock 3' }]);
      const deadline = Date.now() + 5000;
      let spans: SpanData[] = [];
      while (Date.now() < deadline && (spans = exporter.spans()).length < 5) await new Promise((r) => setTimeout(r, 10));
      const find = (kind: SpanData['kind'], name: string) => {
        const s = spans.find((x) => x.kind === kind && x.name === name);
        if (!s) throw new Error(`no ${kind} ${name} in ${JSON.stringify(spans.map((x) => [x.kind, x.name]))}`);
        return s;
      };
      const web1 = find('server', 'GET /orders/:sku');
      const rpcClient = find('client', `${SERVICE}/Say`);
      const rpcServer = find('server', `${SERVICE}/Say`);
      const fetchClient = find('client', 'GET');
      const inventory = find('server', 'GET /inventory/:sku');
      expect(spans).toHaveLength(5);
      expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
      expect(web1.parentSpanId).toBeUndefined();
      expect(rpcClient.parentSpanId).toBe(web1.spanId);
      expect(rpcServer.parentSpanId).toBe(rpcClient.spanId);
      expect(fetchClient.parentSpanId).toBe(rpcServer.spanId);
      expect(inventory.parentSpanId).toBe(fetchClient.spanId);
      expect(inventory.attributes['http.response.status_code']).toBe(200);
      expect(rpcServer.attributes['rpc.status_code']).toBe('OK');
      // The gRPC server span lasts as long as the fetch inside it.
      expect(rpcServer.endTime).toBeGreaterThanOrEqual(fetchClient.endTime);
      expect(rpcClient.endTime).toBeGreaterThanOrEqual(rpcServer.endTime);
    } finally {
      client.close();
      await web.close();
      await rpc.close();
      await fastify.close();
      await tracer.shutdown();
    }
  });
});
