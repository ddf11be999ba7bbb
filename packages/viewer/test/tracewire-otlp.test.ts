/**
 * Tracewire's own OTLPTraceExporter (@tracewire/otlp) → the viewer, protobuf and JSON: a span
 * exported still open (linger) and its later, ended copy in a follow-up fragment merge into one.
 */
import { createTracer } from '@tracewire/core';
import { OTLPTraceExporter } from '@tracewire/otlp';
import { createViewer } from '../src';
import type { TraceDetail, Viewer } from '../src';
import { getJson, until } from './helpers';

describe.each(['http/protobuf', 'http/json'] as const)('OTLPTraceExporter (%s) → viewer', (protocol) => {
  let viewer: Viewer;
  beforeAll(async () => {
    viewer = await createViewer();
  });
  afterAll(() => viewer.close());

  it('shows the trace, and replaces the span exported open by its ended copy from the late fragment', async () => {
    const tracer = createTracer({
      serviceName: `otlp-${protocol}`,
      exporters: [new OTLPTraceExporter({ url: `${viewer.url}/v1/traces`, protocol })],
      batch: { scheduledDelayMillis: 10 },
      limits: { lingerMs: 30 },
    });
    const root = tracer.startSpan('GET /slow', { kind: 'server' });
    const late = tracer.startSpan('background job', { parent: root });
    root.end();
    const traceId = root.spanContext().traceId;
    const open = await until(async () => {
      const r = await fetch(`${viewer.url}/api/traces/${traceId}`);
      if (r.status !== 200) return undefined;
      const d = (await r.json()) as TraceDetail;
      return d.spans.length === 2 ? d : undefined;
    });
    expect(open.spans.map((s) => [s.name, s.ended, s.service])).toEqual([
      ['GET /slow', true, `otlp-${protocol}`],
      ['background job', false, `otlp-${protocol}`],
    ]);
    late.setAttribute('job.result', 'done');
    late.end();
    const merged = await until(async () => {
      const d = await getJson<TraceDetail>(viewer.url, `/api/traces/${traceId}`);
      return d.spans[1].ended ? d : undefined;
    });
    expect(merged.spans).toHaveLength(2);
    expect(merged.spans[1].attributes).toMatchObject({ 'job.result': 'done', 'tracewire.trace.fragment': 1 });
    expect(merged.spans[1].attributes['tracewire.span.incomplete']).toBeUndefined();
    await tracer.shutdown();
    expect(viewer.stats()).toMatchObject({ traces: 1, spans: 2, droppedSpans: 0, rejectedRequests: 0 });
  });
});
