/**
 * Official OpenTelemetry instrumentations through the bridge, in a real Node process (they patch
 * modules through Node's own require, which jest's registry bypasses): test/fixtures/instrumentations.js
 * runs an Express app traced by Tracewire with dns, net, undici and http instrumentations registered
 * by `registerInstrumentations`, calls its routes, and prints what was exported and what the
 * downstream server received.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { FinishedTrace, SpanData } from '@tracewire/core';

interface Result {
  responses: Record<string, number>;
  received: Array<{ url: string; traceparent: string[] }>;
  traces: FinishedTrace[];
}

const FIXTURES = join(__dirname, 'fixtures');

function run(sampler: number): Promise<Result> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-r', join(FIXTURES, 'sources.js'), join(FIXTURES, 'instrumentations.js'), String(sampler)], { timeout: 60000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Result);
    });
  });
}

jest.setTimeout(90000);

const traceOf = (r: Result, route: string): FinishedTrace => {
  const t = r.traces.find((x) => x.spans.some((s) => s.spanId === x.rootSpanId && s.name === `GET ${route}`));
  if (!t) throw new Error(`no trace for ${route}`);
  return t;
};
const scopeName = (s: SpanData) => s.instrumentationScope?.name;

describe('OpenTelemetry instrumentations inside Tracewire traces (sampled)', () => {
  let r: Result;
  beforeAll(async () => {
    r = await run(1);
  });

  it('every route answered', () => {
    expect(r.responses).toEqual({ '/lookup': 200, '/traced': 200, '/plain': 200, '/node': 200 });
  });

  it('instrumentation-dns and -net: dns.lookup and tcp.connect are children of the server span, with their scope', () => {
    const t = traceOf(r, '/lookup');
    const root = t.spans.find((s) => s.spanId === t.rootSpanId)!;
    const lookup = t.spans.find((s) => s.name === 'dns.lookup')!;
    const connect = t.spans.find((s) => s.name === 'tcp.connect')!;
    expect(lookup).toMatchObject({ parentSpanId: root.spanId, kind: 'client', instrumentationScope: { name: '@opentelemetry/instrumentation-dns', version: '0.66.0' } });
    expect(lookup.attributes).toEqual({ 'peer.ipv4': '127.0.0.1' });
    expect(connect).toMatchObject({ parentSpanId: root.spanId, instrumentationScope: { name: '@opentelemetry/instrumentation-net', version: '0.67.0' } });
    expect(connect.attributes).toMatchObject({ 'server.address': '127.0.0.1', 'network.transport': 'tcp', 'network.peer.address': '127.0.0.1' });
    expect(t.spans).toHaveLength(3);
  });

  it('tracedFetch under the undici instrumentation: one client span (Tracewire\'s), one traceparent on the wire', () => {
    const t = traceOf(r, '/traced');
    const clients = t.spans.filter((s) => s.kind === 'client');
    expect(clients).toHaveLength(1);
    expect(scopeName(clients[0])).toBeUndefined();
    const received = r.received.find((x) => x.url === '/traced')!;
    expect(received.traceparent).toEqual([`00-${t.traceId}-${clients[0].spanId}-03`]);
    // What runs under the request (the socket) still continues tracedFetch's span.
    const connect = t.spans.find((s) => s.name === 'tcp.connect');
    if (connect) expect(connect.parentSpanId).toBe(clients[0].spanId);
  });

  it('the global fetch without tracedFetch: the undici instrumentation\'s client span, and its traceparent', () => {
    const t = traceOf(r, '/plain');
    const root = t.spans.find((s) => s.spanId === t.rootSpanId)!;
    const clients = t.spans.filter((s) => s.kind === 'client');
    expect(clients).toHaveLength(1);
    expect(clients[0]).toMatchObject({ name: 'GET', parentSpanId: root.spanId, instrumentationScope: { name: '@opentelemetry/instrumentation-undici' } });
    expect(clients[0].attributes).toMatchObject({ 'http.request.method': 'GET', 'http.response.status_code': 200 });
    expect(r.received.find((x) => x.url === '/plain')!.traceparent).toEqual([`00-${t.traceId}-${clients[0].spanId}-03`]);
  });

  it('http.get: the http instrumentation\'s client span, and its traceparent', () => {
    const t = traceOf(r, '/node');
    const clients = t.spans.filter((s) => s.kind === 'client');
    expect(clients).toHaveLength(1);
    expect(scopeName(clients[0])).toBe('@opentelemetry/instrumentation-http');
    expect(r.received.find((x) => x.url === '/node')!.traceparent).toEqual([`00-${t.traceId}-${clients[0].spanId}-03`]);
  });
});

describe('OpenTelemetry instrumentations, unsampled requests', () => {
  it('nothing is exported and every downstream request gets exactly one unsampled traceparent', async () => {
    const r = await run(0);
    expect(r.traces.filter((t) => t.spans.some((s) => s.kind === 'server'))).toEqual([]);
    expect(r.received.map((x) => x.url)).toEqual(['/traced', '/plain', '/node']);
    for (const x of r.received) expect(x.traceparent).toEqual([expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-02$/)]);
  });
});
