/**
 * Metrics in the viewer: @tracewire/metrics (the official OpenTelemetry OTLP exporters, protobuf
 * and JSON) exporting to POST /v1/metrics, then GET /api/metrics: requests per service and route,
 * errors and percentiles, LLM calls per model with tokens, cost and time to first chunk.
 */
import zlib from 'node:zlib';
import { createTracer } from '@tracewire/core';
import type { LLMCallOutcome, ServerRequestOutcome } from '@tracewire/core';
import { createMetrics } from '@tracewire/metrics';
import { createViewer } from '../src';
import type { Viewer } from '../src';
import { MetricStore, quantile } from '../src/metrics';
import { getJson, send } from './helpers';

jest.setTimeout(30000);

const request = (route: string | undefined, status: number, duration: number, errorType?: string): ServerRequestOutcome => ({
  method: 'GET', scheme: 'http', route, statusCode: status, errorType, protocolVersion: '1.1', duration, sampled: false,
});
const call: LLMCallOutcome = {
  side: 'client', provider: 'openai', operation: 'chat', requestModel: 'gpt-4o-mini', responseModel: 'gpt-4o-mini-2024-07-18', serverAddress: 'api.openai.com', serverPort: 443,
  stream: true, usage: { input: 100, output: 40 }, estimatedOutputTokens: undefined, duration: 1.2, timeToFirstChunk: 0.3, contentChunks: 40, chunkIntervals: [0.02, 0.03],
  cost: 0.000039, errorType: undefined, sampled: false,
};

let viewer: Viewer;
beforeEach(async () => {
  viewer = await createViewer();
});
afterEach(() => viewer.close());

describe.each(['http/protobuf', 'http/json'] as const)('POST /v1/metrics (%s from @tracewire/metrics)', (protocol) => {
  it('shows every request by route and every LLM call by model on /api/metrics', async () => {
    const tracer = createTracer({ serviceName: 'chat-api', exporters: [] });
    const metrics = createMetrics({ tracer, exporters: ['otlp'], otlp: { url: `${viewer.url}/v1/metrics`, protocol }, exportIntervalMillis: 600000 });
    try {
      for (const d of [0.004, 0.006, 0.02, 0.2]) tracer.observer!.serverRequest(request('/chat', 200, d));
      tracer.observer!.serverRequest(request('/chat', 500, 0.01, 'Error'));
      tracer.observer!.serverRequest(request(undefined, 404, 0.001));
      tracer.observer!.llmCall(call);
      tracer.observer!.llmCall({ ...call, usage: {}, cost: undefined, duration: 0.1, timeToFirstChunk: undefined, chunkIntervals: undefined, errorType: 'rate_limit_error', stream: false });
      await metrics.forceFlush();
      const view = await getJson(viewer.url, '/api/metrics');
      expect(view.stats).toMatchObject({ requests: 1, rejectedRequests: 0 });
      expect(view.routes.map((r: any) => [r.service, r.route, r.requests, r.errors])).toEqual([
        ['chat-api', '/chat', 5, 1],
        ['chat-api', null, 1, 0],
      ]);
      // Buckets (0, 0.005] 1, (0.005, 0.01] 2 (0.006, 0.01), then 0.02 and 0.2: the median, rank 2.5 of
      // 5, is 1.5 of the 2 in (0.005, 0.01]: 0.005 + 0.005 × 0.75.
      const chat = view.routes[0];
      expect(chat.p50).toBeCloseTo(0.00875, 12);
      expect(chat.p95).toBeGreaterThan(0.1);
      expect(chat.p95).toBeLessThanOrEqual(0.25);
      expect(view.models).toEqual([
        { service: 'chat-api', model: 'gpt-4o-mini', provider: 'openai', calls: 2, errors: 1, inputTokens: 100, outputTokens: 40, cost: 0.000039, ttfcP50: expect.any(Number), served: 0 },
      ]);
      expect(view.models[0].ttfcP50).toBeGreaterThan(0.16);
      expect(view.models[0].ttfcP50).toBeLessThanOrEqual(0.32);
      // A second cumulative export replaces the first: the counts are not doubled.
      tracer.observer!.serverRequest(request('/chat', 200, 0.003));
      await metrics.forceFlush();
      const again = await getJson(viewer.url, '/api/metrics');
      expect(again.routes[0].requests).toBe(6);
      expect(again.stats.requests).toBe(2);
    } finally {
      await metrics.shutdown();
      await tracer.shutdown();
    }
  });
});

describe('POST /v1/metrics', () => {
  it('adds up delta points, and refuses what is not an OTLP metrics request', async () => {
    const tracer = createTracer({ serviceName: 'worker', exporters: [] });
    const metrics = createMetrics({ tracer, exporters: ['otlp'], otlp: { url: `${viewer.url}/v1/metrics`, temporality: 'delta' }, exportIntervalMillis: 600000, health: false });
    try {
      tracer.observer!.serverRequest(request('/job', 200, 0.05));
      await metrics.forceFlush();
      tracer.observer!.serverRequest(request('/job', 200, 0.05));
      tracer.observer!.serverRequest(request('/job', 200, 0.05));
      await metrics.forceFlush();
      expect((await getJson(viewer.url, '/api/metrics')).routes).toEqual([{ service: 'worker', route: '/job', requests: 3, errors: 0, p50: expect.any(Number), p95: expect.any(Number) }]);
    } finally {
      await metrics.shutdown();
      await tracer.shutdown();
    }
    expect((await send(viewer.url, 'POST', '/v1/metrics', 'x', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await send(viewer.url, 'POST', '/v1/metrics', Buffer.from([0x0a, 0x05, 0x01]), { 'content-type': 'application/x-protobuf' })).status).toBe(400);
    expect((await send(viewer.url, 'POST', '/v1/metrics', zlib.gzipSync('{"resourceMetrics":[]}'), { 'content-type': 'application/json', 'content-encoding': 'gzip' })).status).toBe(200);
    expect((await send(viewer.url, 'GET', '/v1/metrics')).status).toBe(405);
    expect((await getJson(viewer.url, '/api/metrics')).stats).toMatchObject({ rejectedRequests: 2 });
  });
});

describe('MetricStore', () => {
  it('keeps at most its number of series, the oldest evicted first and counted', () => {
    const store = new MetricStore(2);
    const metric = (route: string) => ({ name: 'http.server.request.duration', unit: 's', description: '', kind: 'histogram' as const, temporality: 2, monotonic: false, points: [{ attributes: { 'http.route': route }, start: 1, time: 2, count: 1, sum: 1, bucketCounts: [1, 0], bounds: [5] }] });
    store.add([{ resource: { 'service.name': 's' }, metrics: [metric('/a'), metric('/b'), metric('/c')] }]);
    const view = store.view();
    expect(view.routes.map((r) => r.route).sort()).toEqual(['/b', '/c']);
    expect(view.stats).toMatchObject({ series: 2, evicted: 1 });
  });

  it('quantile: linear within the bucket, as histogram_quantile', () => {
    expect(quantile(0.5, [1, 2], [0, 4, 0])).toBe(1.5);
    expect(quantile(0.25, [1, 2], [2, 2, 0])).toBe(0.5);
    expect(quantile(0.99, [1, 2], [0, 0, 3])).toBe(2);
    expect(quantile(0.5, [1], [0, 0])).toBeNull();
  });
});
