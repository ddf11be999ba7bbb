import http from 'node:http';
import { createTracer } from '@tracewire/core';
import type { Tracer } from '@tracewire/core';
import { createMetrics } from '../src';
import type { MetricsOptions } from '../src';
import { readMetricsEnv } from '../src/env';
import { sampleOf, scrape } from './helpers';
import { listen } from '../../../test-utils/http';

let tracer: Tracer;
let stderr: jest.SpyInstance;
beforeEach(() => {
  tracer = createTracer({ exporters: [] });
  stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(async () => {
  stderr.mockRestore();
  await tracer.shutdown();
});
const warnings = () => stderr.mock.calls.map((c) => String(c[0]));

describe('createMetrics options', () => {
  it.each<[string, MetricsOptions, RegExp]>([
    ['an unknown option', { exporter: ['otlp'] } as unknown as MetricsOptions, /unknown option "exporter"/],
    ['a tracer that is not one', { tracer: {} as Tracer }, /"tracer" must be a Tracer/],
    ['an unknown exporter', { exporters: ['zipkin' as 'otlp'] }, /"exporters" must be a list of otlp, prometheus, console/],
    ['a bad OTLP URL', { otlp: { url: 'ftp://x' } }, /"otlp.url" must be an http\(s\) URL/],
    ['a bad protocol', { otlp: { protocol: 'grpc' as 'http/json' } }, /"otlp.protocol"/],
    ['a bad temporality', { otlp: { temporality: 'lowmemory' as 'delta' } }, /"otlp.temporality"/],
    ['a bad port', { prometheus: { port: 70000 } }, /"prometheus.port" must be an integer in 0..65535/],
    ['an endpoint without a slash', { prometheus: { endpoint: 'metrics' } }, /"prometheus.endpoint"/],
    ['an interval of 0', { exportIntervalMillis: 0 }, /"exportIntervalMillis"/],
    ['a timeout longer than the interval', { exportIntervalMillis: 1000, exportTimeoutMillis: 2000 }, /"exportTimeoutMillis" must be at most exportIntervalMillis \(1000\)/],
    ['a cardinality limit of 1', { cardinalityLimit: 1 }, /"cardinalityLimit" must be an integer of at least 2/],
    ['readers that are not factories', { readers: [{}] as unknown as MetricsOptions['readers'] }, /"readers"/],
  ])('throws a TypeError naming the option for %s', (_what, options, message) => {
    expect(() => createMetrics({ tracer, exporters: [], ...options })).toThrow(TypeError);
    expect(() => createMetrics({ tracer, exporters: [], ...options })).toThrow(message);
    expect(tracer.observer).toBeUndefined(); // nothing was attached
  });

  it('attach() observes another tracer once, and its remover stops it; shutdown() detaches all and is idempotent', async () => {
    const metrics = createMetrics({ tracer, exporters: ['prometheus'], prometheus: { port: 0 } });
    const other = createTracer({ exporters: [] });
    try {
      await metrics.ready;
      const detach = metrics.attach(other);
      expect(metrics.attach(other)).toBe(detach);
      const outcome = { method: 'GET', scheme: 'http' as const, route: '/a', statusCode: 200, errorType: undefined, protocolVersion: '1.1', duration: 1, sampled: true };
      tracer.observer!.serverRequest(outcome);
      other.observer!.serverRequest(outcome);
      detach();
      expect(other.observer).toBeUndefined();
      const s = await scrape(metrics.prometheusUrl!);
      expect(sampleOf(s, 'http_server_request_duration_count', { http_request_method: 'GET', url_scheme: 'http', http_route: '/a', http_response_status_code: '200', network_protocol_version: '1.1' })).toBe(2);
    } finally {
      await Promise.all([metrics.shutdown(), metrics.shutdown()]);
      await other.shutdown();
    }
    expect(tracer.observer).toBeUndefined();
  });

  it('the Prometheus endpoint answers GET on its path only, and a taken port is reported, not thrown', async () => {
    const busy = await listen(http.createServer((_q, r) => r.end()));
    const metrics = createMetrics({ tracer, exporters: ['prometheus'], prometheus: { port: 0, endpoint: '/m' } });
    const clash = createMetrics({ tracer: createTracer({ exporters: [] }), exporters: ['prometheus'], prometheus: { port: busy.port } });
    try {
      await metrics.ready;
      await clash.ready;
      expect(clash.prometheusUrl).toBeUndefined();
      expect(warnings().some((l) => l.includes(`could not listen on 127.0.0.1:${busy.port} (EADDRINUSE)`))).toBe(true);
      const base = metrics.prometheusUrl!.replace(/\/m$/, '');
      expect((await fetch(`${base}/m`)).status).toBe(200);
      expect((await fetch(`${base}/metrics`)).status).toBe(404);
      expect((await fetch(`${base}/m`, { method: 'POST' })).status).toBe(405);
    } finally {
      await metrics.shutdown();
      await clash.shutdown();
      await busy.close();
    }
  });

  it('health: false leaves out the tracer counters', async () => {
    const metrics = createMetrics({ tracer, exporters: ['prometheus'], prometheus: { port: 0 }, health: false });
    try {
      await metrics.ready;
      const s = await scrape(metrics.prometheusUrl!);
      expect([...s.types.keys()].filter((n) => n.startsWith('tracewire_'))).toEqual([]);
    } finally {
      await metrics.shutdown();
    }
  });
});

describe('readMetricsEnv', () => {
  it('reads the variables, reports each bad value once with the default used', () => {
    expect(readMetricsEnv({})).toEqual({});
    expect(
      readMetricsEnv({
        OTEL_METRICS_EXPORTER: ' OTLP, prometheus ,console,otlp',
        OTEL_METRIC_EXPORT_INTERVAL: '5000',
        OTEL_METRIC_EXPORT_TIMEOUT: '1000',
        OTEL_EXPORTER_PROMETHEUS_HOST: '0.0.0.0',
        OTEL_EXPORTER_PROMETHEUS_PORT: '9999',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      }),
    ).toEqual({ exporters: ['otlp', 'prometheus', 'console'], intervalMillis: 5000, timeoutMillis: 1000, prometheusHost: '0.0.0.0', prometheusPort: 9999, protocol: 'http/json' });
    expect(readMetricsEnv({ OTEL_METRICS_EXPORTER: 'otlp,none' })).toEqual({ exporters: [] });
    expect(readMetricsEnv({ OTEL_METRICS_EXPORTER: 'jaeger', OTEL_METRIC_EXPORT_INTERVAL: '1m', OTEL_EXPORTER_PROMETHEUS_PORT: '-1', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'grpc' })).toEqual({ exporters: [] });
    const w = warnings();
    expect(w.filter((l) => l.includes('unknown exporter "jaeger"'))).toHaveLength(1);
    expect(w.filter((l) => l.includes('OTEL_METRIC_EXPORT_INTERVAL="1m" is not an integer in 1..2147483647; using the default 60000'))).toHaveLength(1);
    expect(w.filter((l) => l.includes('OTEL_EXPORTER_PROMETHEUS_PORT="-1"'))).toHaveLength(1);
    expect(w.filter((l) => l.includes('OTEL_EXPORTER_OTLP_METRICS_PROTOCOL="grpc" is not supported for metrics'))).toHaveLength(1);
    readMetricsEnv({ OTEL_METRICS_EXPORTER: 'jaeger' });
    expect(warnings().filter((l) => l.includes('unknown exporter "jaeger"'))).toHaveLength(1);
  });
});
