/**
 * The checks every framework adapter must pass the same way: continuing or restarting an incoming
 * W3C trace context, and keeping concurrent requests in their own traces. Each takes a running
 * app (its URL and the InMemoryExporter it exports to) and asserts with jest `expect`.
 */
import type { FinishedTrace, InMemoryExporter, SpanData } from '@tracewire/core';
import { request } from './http';
import type { Response } from './http';

/** The incoming context the adapter tests send (the W3C Trace Context example ids). */
export const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
export const PARENT = 'b7ad6b7169203331';

/** The attributes of the server span of any GET to 127.0.0.1 over HTTP/1.1 that was answered 200. */
export const LOCAL_GET_OK = {
  'http.request.method': 'GET',
  'url.scheme': 'http',
  'http.response.status_code': 200,
  'server.address': '127.0.0.1',
  'client.address': '127.0.0.1',
  'network.protocol.version': '1.1',
};

/** A running app under test. */
export interface Served {
  url: string;
  exporter: InMemoryExporter;
}

/** The server span: the root of a trace the adapter started. */
export function rootSpan(trace: FinishedTrace): SpanData {
  return trace.spans.find((s) => s.spanId === trace.rootSpanId)!;
}

/**
 * Sends GET /hello (which the app must serve) with a traceparent (flags 03) and a tracestate, and
 * checks that the server span continues both.
 */
export async function expectContinuesTraceparent(t: Served): Promise<void> {
  await request(`${t.url}/hello`, { headers: { traceparent: `00-${TRACE_ID}-${PARENT}-03`, tracestate: 'a=1,b@c=2' } });
  const [trace] = await t.exporter.waitFor(1);
  const span = rootSpan(trace);
  expect(trace.traceId).toBe(TRACE_ID);
  expect(span.parentSpanId).toBe(PARENT);
  expect(span.traceFlags).toBe(3);
  expect(span.traceState).toBe('a=1,b@c=2');
  expect(span.kind).toBe('server');
  expect(span.name).toBe('GET /hello');
}

/**
 * Sends GET /hello with a traceparent to an app whose tracer has `trustIncoming: false`, and
 * checks that the server span starts a new trace linked to the incoming one.
 */
export async function expectRestartsWithLink(t: Served): Promise<void> {
  await request(`${t.url}/hello`, { headers: { traceparent: `00-${TRACE_ID}-${PARENT}-01` } });
  const [trace] = await t.exporter.waitFor(1);
  const span = rootSpan(trace);
  expect(trace.traceId).not.toBe(TRACE_ID);
  expect(span.parentSpanId).toBeUndefined();
  expect(span.links).toEqual([{ traceId: TRACE_ID, spanId: PARENT, attributes: { 'tracewire.link.reason': 'untrusted_parent' } }]);
}

/** An incoming context one of many concurrent requests carries. */
export interface SentContext {
  traceId: string;
  parent: string;
}

/** Sends one sampled request per context, all at once; `url(i)` is where the i-th goes. */
export function requestConcurrently(sent: SentContext[], url: (i: number) => string): Promise<Response[]> {
  return Promise.all(sent.map((s, i) => request(url(i), { headers: { traceparent: `00-${s.traceId}-${s.parent}-01` } })));
}

/**
 * Checks that each sent context came back as a trace of its own: exactly the server span, which
 * continues that context, then one `childName` span under it, all with that trace id.
 * Returns the traces by trace id.
 */
export function expectOwnTraces(traces: FinishedTrace[], sent: SentContext[], childName: string): Map<string, FinishedTrace> {
  expect(traces).toHaveLength(sent.length);
  const byTrace = new Map(traces.map((tr) => [tr.traceId, tr]));
  expect(byTrace.size).toBe(sent.length);
  for (const s of sent) {
    const trace = byTrace.get(s.traceId)!;
    expect(trace).toBeDefined();
    const server = rootSpan(trace);
    const child = trace.spans.find((sp) => sp.name === childName)!;
    expect(trace.spans.map((sp) => sp.spanId)).toEqual([server.spanId, child?.spanId]);
    expect(server.parentSpanId).toBe(s.parent);
    expect(child.parentSpanId).toBe(server.spanId);
    for (const span of trace.spans) expect(span.traceId).toBe(s.traceId);
  }
  return byTrace;
}
