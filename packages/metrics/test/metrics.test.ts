/**
 * A known mix of requests — sampled and unsampled, successes, failures, a 404, LLM streams the app
 * serves and an LLM call it makes — against real Express, Koa and Fastify apps; then the metric
 * points as exported over OTLP/HTTP (decoded with protobufjs over the official protos) and as
 * scraped from the Prometheus endpoint (read with parse-prometheus-text-format) must equal the
 * counts and sums of what happened.
 */
import { createTracer, InMemoryExporter } from '@tracewire/core';
import type { ClientRequestOutcome, LLMCallOutcome, SamplingParams, ServerRequestOutcome, Tracer } from '@tracewire/core';
import { createMetrics, GEN_AI_DURATION_BUCKETS, HTTP_DURATION_BUCKETS, SERVER_TPOT_BUCKETS, SERVER_TTFT_BUCKETS, TOKEN_BUCKETS } from '../src';
import type { TracewireMetrics } from '../src';
import { CALLED, FRAMEWORKS, SERVED, startApp, startUpstream } from './apps';
import type { Framework } from './apps';
import { metricsOf, resourceOf, sampleOf, scrape, startOtlpReceiver, waitUntil } from './helpers';
import type { OtlpMetric, OtlpPoint, OtlpReceiver } from './helpers';
import { request } from '../../../test-utils/http';
import type { Listening } from '../../../test-utils/http';

jest.setTimeout(60000);

/** Every other new trace is sampled; children follow their parent: a known half of the requests. */
function alternating(): (p: SamplingParams) => boolean {
  let n = 0;
  return (p) => (p.parent ? (p.parent.traceFlags & 1) === 1 : n++ % 2 === 0);
}

/** What the test saw happen, through an observer of its own on the same tracer. */
interface Seen {
  server: ServerRequestOutcome[];
  client: ClientRequestOutcome[];
  llm: LLMCallOutcome[];
}

interface Setup {
  tracer: Tracer;
  metrics: TracewireMetrics;
  app: Listening;
  upstream: Listening;
  receiver: OtlpReceiver;
  seen: Seen;
  close(): Promise<void>;
}

async function setup(framework: Framework, otlp: { protocol?: 'http/protobuf' | 'http/json'; temporality?: 'cumulative' | 'delta' } = {}, cardinalityLimit?: number): Promise<Setup> {
  const receiver = await startOtlpReceiver();
  const upstream = await startUpstream();
  const tracer = createTracer({ serviceName: `metrics-${framework}`, sampler: alternating(), exporters: [new InMemoryExporter()], batch: { scheduledDelayMillis: 1 } });
  const seen: Seen = { server: [], client: [], llm: [] };
  tracer.addObserver!({ serverRequest: (o) => seen.server.push(o), clientRequest: (o) => seen.client.push(o), llmCall: (o) => seen.llm.push(o) });
  const metrics = createMetrics({
    tracer,
    exporters: ['otlp', 'prometheus'],
    otlp: { url: `${receiver.url}/v1/metrics`, ...otlp },
    prometheus: { port: 0 },
    exportIntervalMillis: 600000,
    ...(cardinalityLimit !== undefined ? { cardinalityLimit } : {}),
  });
  await metrics.ready;
  const app = await startApp(framework, tracer, upstream.url);
  return {
    tracer,
    metrics,
    app,
    upstream,
    receiver,
    seen,
    async close() {
      await app.close();
      await metrics.shutdown();
      await tracer.shutdown();
      await upstream.close();
      await receiver.close();
    },
  };
}

/** The mix: 4 users, 2 failures, 1 not found, 2 served streams, 1 model call. */
const MIX: Array<[string, number]> = [
  ['/users/1', 200],
  ['/fail', 500],
  ['/chat', 200],
  ['/users/2', 200],
  ['/nowhere', 404],
  ['/ask', 200],
  ['/users/3', 200],
  ['/fail', 500],
  ['/chat', 200],
  ['/users/4', 200],
];

async function sendMix(s: Setup): Promise<void> {
  for (const [path, status] of MIX) {
    const res = await request(`${s.app.url}${path}`);
    expect([path, res.status]).toEqual([path, status]);
  }
  // Every response ended on the server (its `close`) and the LLM stream of /ask was read.
  await waitUntil(() => s.seen.server.length === MIX.length && s.seen.llm.length === 3 && s.seen.client.length === 1);
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
/** The expected histogram of `values` over `bounds`, as OTLP bucket counts. */
function buckets(values: number[], bounds: number[]): number[] {
  const counts = new Array(bounds.length + 1).fill(0);
  for (const v of values) {
    let i = 0;
    while (i < bounds.length && v > bounds[i]) i++;
    counts[i]++;
  }
  return counts;
}

function point(m: OtlpMetric | undefined, attributes: Record<string, unknown>): OtlpPoint {
  if (m === undefined) throw new Error('metric missing');
  const found = m.points.filter((p) => JSON.stringify(sortKeys(p.attributes)) === JSON.stringify(sortKeys(attributes)));
  if (found.length !== 1) throw new Error(`${m.name}: ${found.length} points with ${JSON.stringify(attributes)}; have ${JSON.stringify(m.points.map((p) => p.attributes))}`);
  return found[0];
}
function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

/** The server outcomes of one route template (undefined: no route) and status. */
function durations(seen: Seen, route: string | undefined, status: number): number[] {
  return seen.server.filter((o) => o.route === route && o.statusCode === status).map((o) => o.duration);
}

for (const framework of FRAMEWORKS) {
  describe(`${framework}: metrics of every request, sampled or not`, () => {
    let s: Setup;
    beforeAll(async () => {
      s = await setup(framework);
      await sendMix(s);
    });
    afterAll(() => s.close());

    it('counted unsampled requests too: half the traces were recorded, every request was measured', () => {
      expect(s.seen.server.filter((o) => o.sampled)).toHaveLength(5);
      expect(s.seen.server.filter((o) => !o.sampled)).toHaveLength(5);
      expect(s.tracer.stats().startedTraces).toBe(5);
    });

    it('exports over OTLP/HTTP protobuf the exact counts, sums and buckets', async () => {
      await s.metrics.forceFlush();
      const [req] = await s.receiver.waitFor(1);
      expect(req.contentType).toBe('application/x-protobuf');
      expect(resourceOf(req.body)).toMatchObject({ 'service.name': `metrics-${framework}`, 'telemetry.sdk.name': 'tracewire' });
      const m = metricsOf(req.body);

      // RED per route template: never a raw path.
      const http = m.get('http.server.request.duration')!;
      expect(http).toMatchObject({ unit: 's', kind: 'histogram', temporality: 2, scope: '@tracewire/metrics' });
      expect(http.points).toHaveLength(5);
      const base = { 'http.request.method': 'GET', 'url.scheme': 'http', 'network.protocol.version': '1.1' };
      const expectRoute = (route: string | undefined, status: number, count: number, errorType?: string) => {
        const attrs: Record<string, unknown> = { ...base, 'http.response.status_code': status };
        if (route !== undefined) attrs['http.route'] = route;
        if (errorType !== undefined) attrs['error.type'] = errorType;
        const p = point(http, attrs);
        const values = durations(s.seen, route, status);
        expect(values).toHaveLength(count);
        expect(p.count).toBe(count);
        expect(p.sum).toBe(sum(values));
        expect(p.min).toBe(Math.min(...values));
        expect(p.max).toBe(Math.max(...values));
        expect(p.explicitBounds).toEqual(HTTP_DURATION_BUCKETS);
        expect(p.bucketCounts).toEqual(buckets(values, HTTP_DURATION_BUCKETS));
      };
      expectRoute('/users/:id', 200, 4);
      expectRoute('/fail', 500, 2, 'Error');
      expectRoute(undefined, 404, 1);
      expectRoute('/chat', 200, 2);
      expectRoute('/ask', 200, 1);

      // The model call /ask made with tracedFetch.
      const client = point(m.get('http.client.request.duration'), { 'http.request.method': 'POST', 'server.address': '127.0.0.1', 'server.port': s.upstream.port, 'url.scheme': 'http', 'http.response.status_code': 200 });
      expect(client.count).toBe(1);
      expect(client.sum).toBe(s.seen.client[0].duration);

      const call = s.seen.llm.find((o) => o.side === 'client')!;
      const genAi = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'anthropic', 'gen_ai.request.model': 'claude-opus-4-5', 'gen_ai.response.model': CALLED.expected.model, 'server.address': '127.0.0.1', 'server.port': s.upstream.port };
      const op = point(m.get('gen_ai.client.operation.duration'), genAi);
      expect([op.count, op.sum, op.explicitBounds]).toEqual([1, call.duration, GEN_AI_DURATION_BUCKETS]);
      const input = point(m.get('gen_ai.client.token.usage'), { ...genAi, 'gen_ai.token.type': 'input' });
      const output = point(m.get('gen_ai.client.token.usage'), { ...genAi, 'gen_ai.token.type': 'output' });
      expect([input.count, input.sum, output.count, output.sum]).toEqual([1, CALLED.expected.usage.input, 1, CALLED.expected.usage.output]);
      expect(input.explicitBounds).toEqual(TOKEN_BUCKETS);
      expect(m.get('gen_ai.client.token.usage')!.unit).toBe('{token}');
      const ttfc = point(m.get('gen_ai.client.operation.time_to_first_chunk'), genAi);
      expect([ttfc.count, ttfc.sum]).toEqual([1, call.timeToFirstChunk]);
      // One measurement per content chunk after the first.
      const tpoc = point(m.get('gen_ai.client.operation.time_per_output_chunk'), genAi);
      const intervals = Array.from(call.chunkIntervals!);
      expect(intervals.length).toBe(call.contentChunks! - 1);
      expect(tpoc.count).toBe(intervals.length);
      expect(tpoc.sum).toBeCloseTo(sum(intervals), 12);
      expect(tpoc.bucketCounts).toEqual(buckets(intervals, GEN_AI_DURATION_BUCKETS));
      const cost = m.get('tracewire.usage.cost')!;
      expect(cost).toMatchObject({ kind: 'sum', monotonic: true, unit: 'USD', temporality: 2 });
      expect(point(cost, { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'anthropic', 'gen_ai.request.model': 'claude-opus-4-5', 'gen_ai.response.model': CALLED.expected.model }).value).toBe(call.cost);
      expect(call.cost).toBeGreaterThan(0);

      // The token streams the app served (GET /chat): server-side GenAI figures.
      const served = s.seen.llm.filter((o) => o.side === 'server');
      expect(served).toHaveLength(2);
      const serverAttrs = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.response.model': SERVED.expected.model, 'server.address': '127.0.0.1', 'server.port': s.app.port };
      const ttft = point(m.get('gen_ai.server.time_to_first_token'), serverAttrs);
      expect([ttft.count, ttft.sum, ttft.explicitBounds]).toEqual([2, sum(served.map((o) => o.timeToFirstChunk!)), SERVER_TTFT_BUCKETS]);
      const tpot = point(m.get('gen_ai.server.time_per_output_token'), serverAttrs);
      const perToken = served.map((o) => (o.duration! - o.timeToFirstChunk!) / (SERVED.expected.usage.output - 1));
      expect(tpot.count).toBe(2);
      expect(tpot.sum).toBeCloseTo(sum(perToken), 12);
      expect(tpot.explicitBounds).toEqual(SERVER_TPOT_BUCKETS);
      expect(point(m.get('gen_ai.server.request.duration'), serverAttrs).count).toBe(2);

      // Tracewire's health: 5 traces started, none still live.
      expect(point(m.get('tracewire.traces.started'), {}).value).toBe(5);
      expect(m.get('tracewire.traces.live')!.points[0].value).toBe(0);
    });

    it('serves the same figures on the Prometheus endpoint', async () => {
      const p = await scrape(s.metrics.prometheusUrl!);
      expect(p.types.get('http_server_request_duration')).toBe('HISTOGRAM');
      expect(p.types.get('tracewire_usage_cost_total')).toBe('COUNTER');
      const labels = (route: string | undefined, status: number, errorType?: string) => {
        const l: Record<string, string> = { http_request_method: 'GET', url_scheme: 'http', network_protocol_version: '1.1', http_response_status_code: String(status) };
        if (route !== undefined) l.http_route = route;
        if (errorType !== undefined) l.error_type = errorType;
        return l;
      };
      for (const [route, status, count, errorType] of [
        ['/users/:id', 200, 4],
        ['/fail', 500, 2, 'Error'],
        [undefined, 404, 1],
        ['/chat', 200, 2],
        ['/ask', 200, 1],
      ] as Array<[string | undefined, number, number, string?]>) {
        const l = labels(route, status, errorType);
        expect(sampleOf(p, 'http_server_request_duration_count', l)).toBe(count);
        expect(sampleOf(p, 'http_server_request_duration_sum', l)).toBe(sum(durations(s.seen, route, status)));
        expect(sampleOf(p, 'http_server_request_duration_bucket', { ...l, le: '+Inf' })).toBe(count);
      }
      const call = s.seen.llm.find((o) => o.side === 'client')!;
      const genAi = { gen_ai_operation_name: 'chat', gen_ai_provider_name: 'anthropic', gen_ai_request_model: 'claude-opus-4-5', gen_ai_response_model: CALLED.expected.model!, server_address: '127.0.0.1', server_port: String(s.upstream.port) };
      expect(sampleOf(p, 'gen_ai_client_token_usage_sum', { ...genAi, gen_ai_token_type: 'input' })).toBe(CALLED.expected.usage.input);
      expect(sampleOf(p, 'gen_ai_client_token_usage_sum', { ...genAi, gen_ai_token_type: 'output' })).toBe(CALLED.expected.usage.output);
      expect(sampleOf(p, 'gen_ai_client_operation_time_per_output_chunk_count', genAi)).toBe(call.contentChunks! - 1);
      const { server_address: _a, server_port: _p, ...costLabels } = genAi;
      expect(sampleOf(p, 'tracewire_usage_cost_total', costLabels)).toBe(call.cost);
      expect(sampleOf(p, 'gen_ai_server_time_to_first_token_count', { gen_ai_operation_name: 'chat', gen_ai_provider_name: 'openai', gen_ai_response_model: SERVED.expected.model!, server_address: '127.0.0.1', server_port: String(s.app.port) })).toBe(2);
      expect(sampleOf(p, 'tracewire_traces_started_total', {})).toBe(5);
      expect(p.samples.get('target_info')![0].labels.service_name).toBe(`metrics-${framework}`);
    });
  });
}

describe('OTLP/HTTP JSON and delta temporality', () => {
  it('sends OTLP/JSON the receiver decodes through the official message types', async () => {
    const s = await setup('express', { protocol: 'http/json' });
    try {
      await sendMix(s);
      await s.metrics.forceFlush();
      const [req] = await s.receiver.waitFor(1);
      expect(req.contentType).toBe('application/json');
      const http = metricsOf(req.body).get('http.server.request.duration')!;
      expect(sum(http.points.map((p) => p.count!))).toBe(MIX.length);
      expect(point(http, { 'http.request.method': 'GET', 'url.scheme': 'http', 'network.protocol.version': '1.1', 'http.route': '/users/:id', 'http.response.status_code': 200 }).count).toBe(4);
    } finally {
      await s.close();
    }
  });

  it('with delta temporality each export holds what happened since the one before', async () => {
    const s = await setup('fastify', { temporality: 'delta' });
    try {
      await sendMix(s);
      await s.metrics.forceFlush();
      for (const path of ['/users/9', '/users/10', '/fail']) await request(`${s.app.url}${path}`);
      await waitUntil(() => s.seen.server.length === MIX.length + 3);
      await s.metrics.forceFlush();
      const [first, second] = await s.receiver.waitFor(2);
      const a = metricsOf(first.body).get('http.server.request.duration')!;
      const b = metricsOf(second.body).get('http.server.request.duration')!;
      expect(a.temporality).toBe(1); // DELTA
      expect(sum(a.points.map((p) => p.count!))).toBe(MIX.length);
      expect(b.points.map((p) => [p.attributes['http.route'], p.count]).sort()).toEqual([
        ['/fail', 1],
        ['/users/:id', 2],
      ]);
      const users = point(b, { 'http.request.method': 'GET', 'url.scheme': 'http', 'network.protocol.version': '1.1', 'http.route': '/users/:id', 'http.response.status_code': 200 });
      expect(users.sum).toBeCloseTo(sum(s.seen.server.slice(MIX.length, MIX.length + 2).map((o) => o.duration)), 12);
      // The second window starts where the first ended.
      const firstUsers = point(a, { 'http.request.method': 'GET', 'url.scheme': 'http', 'network.protocol.version': '1.1', 'http.route': '/users/:id', 'http.response.status_code': 200 });
      expect(users.startTimeUnixNano).toBe(firstUsers.timeUnixNano);
      // The health counters are delta too (the SDK's observable instruments).
      expect(point(metricsOf(second.body).get('tracewire.traces.started'), {}).value).toBe(2);
    } finally {
      await s.close();
    }
  });
});

describe('cardinality', () => {
  it('keeps at most cardinalityLimit attribute sets, the rest in the otel.metric.overflow set', async () => {
    const s = await setup('koa', {}, 4);
    try {
      // 3 distinct sets fit, the overflow set is the 4th: /users/:id, /fail, /chat, then the 404 and /ask overflow.
      await sendMix(s);
      const p = await scrape(s.metrics.prometheusUrl!);
      const counts = (p.samples.get('http_server_request_duration_count') ?? []).map((x) => {
        const { otel_scope_name: _n, otel_scope_version: _v, ...labels } = x.labels;
        return [labels, x.value];
      });
      expect(counts).toEqual([
        [{ http_request_method: 'GET', url_scheme: 'http', http_route: '/users/:id', http_response_status_code: '200', network_protocol_version: '1.1' }, 4],
        [{ http_request_method: 'GET', url_scheme: 'http', http_route: '/fail', http_response_status_code: '500', error_type: 'Error', network_protocol_version: '1.1' }, 2],
        [{ http_request_method: 'GET', url_scheme: 'http', http_route: '/chat', http_response_status_code: '200', network_protocol_version: '1.1' }, 2],
        [{ otel_metric_overflow: 'true' }, 2],
      ]);
    } finally {
      await s.close();
    }
  });
});
