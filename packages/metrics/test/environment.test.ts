/**
 * Metrics from the environment, as OTEL_TRACES_EXPORTER gives traces: a tracer created while
 * OTEL_METRICS_EXPORTER names an exporter loads this package (core requires it) and is observed
 * by the process's one pipeline; and the untouched OpenTelemetry OTLP exporters in a Node.js
 * process of their own (Jest's module VM cannot run their dynamic import, see jest.project.js).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createTracer } from '@tracewire/core';
import { environmentMetrics } from '../src';
import { metricsOf, sampleOf, scrape, startOtlpReceiver } from './helpers';

jest.setTimeout(60000);

const saved = { ...process.env };
afterEach(() => {
  for (const k of Object.keys(process.env)) if (k.startsWith('OTEL_')) delete process.env[k];
  Object.assign(process.env, saved);
});

describe('OTEL_METRICS_EXPORTER', () => {
  it('prometheus: every tracer created from then on is observed by one endpoint on OTEL_EXPORTER_PROMETHEUS_PORT', async () => {
    process.env.OTEL_METRICS_EXPORTER = 'prometheus';
    process.env.OTEL_EXPORTER_PROMETHEUS_PORT = '0';
    const a = createTracer({ serviceName: 'env-a', exporters: [] });
    const b = createTracer({ serviceName: 'env-b', exporters: [] });
    const metrics = environmentMetrics();
    try {
      expect(metrics).toBeDefined();
      await metrics!.ready;
      expect(metrics!.prometheusUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      for (const t of [a, b]) t.observer!.serverRequest({ method: 'GET', scheme: 'http', route: '/x', statusCode: 200, errorType: undefined, protocolVersion: '1.1', duration: 0.25, sampled: false });
      const s = await scrape(metrics!.prometheusUrl!);
      const labels = { http_request_method: 'GET', url_scheme: 'http', http_route: '/x', http_response_status_code: '200', network_protocol_version: '1.1' };
      expect(sampleOf(s, 'http_server_request_duration_count', labels)).toBe(2);
      expect(sampleOf(s, 'http_server_request_duration_sum', labels)).toBe(0.5);
      // The resource is the first tracer's.
      expect(s.samples.get('target_info')![0].labels.service_name).toBe('env-a');
    } finally {
      await metrics?.shutdown();
      await a.shutdown();
      await b.shutdown();
    }
  });
});

describe('the OTLP exporters in a Node.js process', () => {
  it.each(['http/protobuf', 'http/json'])('send %s (the default exporter) to OTEL_EXPORTER_OTLP_METRICS_ENDPOINT every OTEL_METRIC_EXPORT_INTERVAL', async (protocol) => {
    const receiver = await startOtlpReceiver();
    try {
      const child = spawn(process.execPath, [join(__dirname, 'fixtures', 'otlp-child.js')], {
        env: {
          PATH: process.env.PATH,
          OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${receiver.url}/v1/metrics`,
          OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: protocol,
          OTEL_METRIC_EXPORT_INTERVAL: '200',
          OTEL_SERVICE_NAME: 'otlp-child',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const [first] = await receiver.waitFor(1, 15000);
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      expect(stderr).toBe('');
      expect(first.contentType).toBe(protocol === 'http/json' ? 'application/json' : 'application/x-protobuf');
      const http = metricsOf(first.body).get('http.server.request.duration')!;
      expect(http.points.map((p) => [p.attributes['http.route'], p.count, p.sum])).toEqual([['/child', 3, 0.75]]);
    } finally {
      await receiver.close();
    }
  });
});
