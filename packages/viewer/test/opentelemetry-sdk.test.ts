/**
 * Traces sent by the OpenTelemetry JS SDK's own OTLP exporters (the last Node 20 versions:
 * exporter-trace-otlp-proto / -http 0.223.x with sdk-trace-base 2.12.x) show in the viewer.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { createViewer } from '../src';
import type { TraceSummary, Viewer, ViewerSpan } from '../src';
import { getJson } from './helpers';

/** Runs fixtures/otel-sdk-sender.js (a service using only the OpenTelemetry SDK); resolves with its trace id. */
function sendWith(url: string, protocol: 'proto' | 'json', service: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(__dirname, 'fixtures', 'otel-sdk-sender.js'), url, protocol, service], { timeout: 20000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(stdout.trim());
    });
  });
}

describe('OpenTelemetry JS SDK → viewer', () => {
  let viewer: Viewer;
  beforeAll(async () => {
    viewer = await createViewer();
  });
  afterAll(() => viewer.close());

  const check = async (traceId: string, service: string) => {
    const [summary] = (await getJson<TraceSummary[]>(viewer.url, `/api/traces?service=${service}`));
    expect(summary).toMatchObject({ traceId, rootName: 'GET /orders/:id', services: [service], spanCount: 2, error: true, llm: { calls: 1, inputTokens: 12, outputTokens: 3 } });
    const { spans } = await getJson<{ spans: ViewerSpan[] }>(viewer.url, `/api/traces/${traceId}`);
    const [root, child] = spans;
    expect(root).toMatchObject({ service, kind: 'server', name: 'GET /orders/:id', attributes: { 'http.route': '/orders/:id', 'http.response.status_code': 200, 'otel.scope.name': 'otel-test' } });
    expect(child).toMatchObject({
      parentSpanId: root.spanId,
      kind: 'client',
      status: { code: 'error', message: 'rate limited' },
      attributes: { 'gen_ai.usage.input_tokens': 12, tags: ['a', 'b'] },
      events: [{ name: 'retry', attributes: { attempt: 2 } }],
    });
    expect(root.traceFlags).toBe(1);
    expect(child.endTime).toBeGreaterThanOrEqual(child.startTime);
    expect(Math.abs(root.startTime - Date.now())).toBeLessThan(60000);
    expect(child.startTime).toBeGreaterThanOrEqual(root.startTime);
  };

  it('receives @opentelemetry/exporter-trace-otlp-proto (protobuf, gzip)', async () => {
    const id = await sendWith(`${viewer.url}/v1/traces`, 'proto', 'otel-proto');
    await check(id, 'otel-proto');
  });

  it('receives @opentelemetry/exporter-trace-otlp-http (JSON)', async () => {
    const id = await sendWith(`${viewer.url}/v1/traces`, 'json', 'otel-json');
    await check(id, 'otel-json');
  });
});
