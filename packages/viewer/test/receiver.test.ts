/**
 * The OTLP/HTTP receiver, fed by an independent encoder: protobufjs over the official
 * opentelemetry-proto files for protobuf, and OTLP/JSON as the specification writes it.
 */
import zlib from 'node:zlib';
import { createViewer } from '../src';
import type { Viewer, ViewerSpan } from '../src';
import { encodeRequest, get, getJson, protoTypes, send } from './helpers';

const TRACE = '5b8efff798038103d269b633813fc60c';
const TRACE_HEX = Buffer.from(TRACE, 'hex');
const ROOT = 'eee19b7ec3c1b174';
const CHILD = 'eee19b7ec3c1b173';
// 2026-11-21T10:00:00.123456789Z: more digits than a double holds in nanoseconds.
const START_NS = '1795255200123456789';
const END_NS = '1795255200373456789';
const START_MS = 1795255200123.4568;

const kv = (key: string, value: Record<string, unknown>) => ({ key, value });

/** A request with two resources (two services) and every kind of attribute value. */
function sampleRequest(): Record<string, unknown> {
  return {
    resourceSpans: [
      {
        resource: { attributes: [kv('service.name', { stringValue: 'gateway' }), kv('service.version', { stringValue: '1.2.3' })] },
        scopeSpans: [
          {
            scope: { name: 'my-instrumentation', version: '0.1.0' },
            spans: [
              {
                traceId: TRACE_HEX,
                spanId: Buffer.from(ROOT, 'hex'),
                traceState: 'vendor=1',
                name: 'POST /api/chat',
                kind: 2,
                startTimeUnixNano: START_NS,
                endTimeUnixNano: END_NS,
                flags: 0x301, // sampled, remote-ness known, parent remote
                parentSpanId: Buffer.from('0102030405060708', 'hex'),
                attributes: [
                  kv('http.route', { stringValue: '/api/chat' }),
                  kv('http.response.status_code', { intValue: 200 }),
                  kv('big', { intValue: '9007199254740993' }),
                  kv('ratio', { doubleValue: 0.25 }),
                  kv('ok', { boolValue: true }),
                  kv('tags', { arrayValue: { values: [{ stringValue: 'a' }, { stringValue: 'b' }] } }),
                  kv('mixed', { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 1 }] } }),
                  kv('map', { kvlistValue: { values: [kv('k', { stringValue: 'v' })] } }),
                  kv('raw', { bytesValue: Buffer.from([1, 2, 3]) }),
                ],
                droppedAttributesCount: 2,
                events: [{ timeUnixNano: '1795255200200000000', name: 'first token', attributes: [kv('n', { intValue: 1 })] }],
                links: [{ traceId: Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex'), spanId: Buffer.from('b7ad6b7169203331', 'hex'), attributes: [kv('why', { stringValue: 'caller' })] }],
                status: { code: 2, message: 'upstream failed' },
              },
            ],
          },
        ],
      },
      {
        resource: { attributes: [kv('service.name', { stringValue: 'chat' })] },
        scopeSpans: [
          {
            spans: [
              {
                traceId: TRACE_HEX,
                spanId: Buffer.from(CHILD, 'hex'),
                parentSpanId: Buffer.from(ROOT, 'hex'),
                name: 'chat gpt-5.4-mini',
                kind: 3,
                startTimeUnixNano: '1795255200130000000',
                endTimeUnixNano: '1795255200300000000',
                attributes: [kv('gen_ai.provider.name', { stringValue: 'openai' }), kv('gen_ai.usage.input_tokens', { intValue: 24 })],
                status: { code: 1 },
              },
            ],
          },
        ],
      },
    ],
  };
}

/** The same request in OTLP/JSON (hex ids, int64 as strings, enums as integers). */
function sampleJson(): Record<string, unknown> {
  const proto = sampleRequest() as any;
  const walk = (v: any): any => {
    if (Buffer.isBuffer(v)) return v.toString('hex');
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === 'bytesValue' ? (x as Buffer).toString('base64') : walk(x)]));
    return v;
  };
  return walk(proto);
}

function checkSample(spans: ViewerSpan[]): void {
  expect(spans.map((s) => [s.service, s.name])).toEqual([
    ['gateway', 'POST /api/chat'],
    ['chat', 'chat gpt-5.4-mini'],
  ]);
  const [root, child] = spans;
  expect(root).toMatchObject({
    traceId: TRACE,
    spanId: ROOT,
    parentSpanId: '0102030405060708',
    parentIsRemote: true,
    traceFlags: 1,
    traceState: 'vendor=1',
    kind: 'server',
    ended: true,
    status: { code: 'error', message: 'upstream failed' },
    dropped: { attributes: 2, events: 0, links: 0 },
  });
  expect(root.startTime).toBeCloseTo(START_MS, 3);
  expect(root.endTime - root.startTime).toBeCloseTo(250, 3);
  expect(root.attributes).toEqual({
    'http.route': '/api/chat',
    'http.response.status_code': 200,
    big: '9007199254740993', // beyond 2^53: kept exact as text
    ratio: 0.25,
    ok: true,
    tags: ['a', 'b'],
    mixed: '["a",1]',
    map: '{"k":"v"}',
    raw: 'AQID',
    'otel.scope.name': 'my-instrumentation',
    'otel.scope.version': '0.1.0',
  });
  expect(root.events).toEqual([{ name: 'first token', time: 1795255200200, attributes: { n: 1 } }]);
  expect(root.links).toEqual([{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', attributes: { why: 'caller' } }]);
  expect(child).toMatchObject({ parentSpanId: ROOT, kind: 'client', status: { code: 'ok' }, attributes: { 'gen_ai.provider.name': 'openai', 'gen_ai.usage.input_tokens': 24 } });
  expect(child.parentIsRemote).toBeUndefined();
}

describe('POST /v1/traces', () => {
  let viewer: Viewer;
  beforeEach(async () => {
    viewer = await createViewer({ maxBodyBytes: 64 * 1024 });
  });
  afterEach(() => viewer.close());

  const postProto = (body: Buffer, headers: Record<string, string> = {}) =>
    send(viewer.url, 'POST', '/v1/traces', body, { 'content-type': 'application/x-protobuf', ...headers });

  it('stores a protobuf request: every field, both services, answered with an empty ExportTraceServiceResponse', async () => {
    const res = await postProto(encodeRequest(sampleRequest()));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-protobuf');
    expect(protoTypes().Response.toObject(protoTypes().Response.decode(res.body))).toEqual({});
    const trace = await getJson(viewer.url, `/api/traces/${TRACE}`);
    expect(trace.traceId).toBe(TRACE);
    checkSample(trace.spans);
  });

  it('reads gzip and deflate bodies', async () => {
    const body = encodeRequest(sampleRequest());
    expect((await postProto(zlib.gzipSync(body), { 'content-encoding': 'gzip' })).status).toBe(200);
    checkSample((await getJson(viewer.url, `/api/traces/${TRACE}`)).spans);
    await viewer.close();
    viewer = await createViewer();
    expect((await postProto(zlib.deflateSync(body), { 'content-encoding': 'deflate' })).status).toBe(200);
    checkSample((await getJson(viewer.url, `/api/traces/${TRACE}`)).spans);
  });

  it('stores an OTLP/JSON request the same way, plain and gzip', async () => {
    const json = JSON.stringify(sampleJson());
    const res = await send(viewer.url, 'POST', '/v1/traces', json, { 'content-type': 'application/json' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.text)).toEqual({});
    checkSample((await getJson(viewer.url, `/api/traces/${TRACE}`)).spans);

    await viewer.close();
    viewer = await createViewer();
    const gz = await send(viewer.url, 'POST', '/v1/traces', zlib.gzipSync(json), { 'content-type': 'application/json; charset=utf-8', 'content-encoding': 'gzip' });
    expect(gz.status).toBe(200);
    checkSample((await getJson(viewer.url, `/api/traces/${TRACE}`)).spans);
  });

  it('reads enum names and base64 ids in JSON, as some senders write them', async () => {
    const body = {
      resourceSpans: [{
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'b64' } }] },
        scopeSpans: [{ spans: [{ traceId: TRACE_HEX.toString('base64'), spanId: Buffer.from(ROOT, 'hex').toString('base64'), name: 'x', kind: 'SPAN_KIND_CONSUMER', startTimeUnixNano: 1795255200000000000, endTimeUnixNano: '1795255200001000000', status: { code: 'STATUS_CODE_ERROR' } }] }],
      }],
    };
    expect((await send(viewer.url, 'POST', '/v1/traces', JSON.stringify(body), { 'content-type': 'application/json' })).status).toBe(200);
    const [span] = (await getJson(viewer.url, `/api/traces/${TRACE}`)).spans;
    expect(span).toMatchObject({ spanId: ROOT, service: 'b64', kind: 'consumer', status: { code: 'error' } });
    expect(span.endTime - span.startTime).toBeCloseTo(1, 6);
  });

  it('skips fields it does not know (a newer OTLP), in every message', async () => {
    const { Request } = protoTypes();
    const base = encodeRequest(sampleRequest());
    // Field 99 (varint 7) and field 100 (a 3-byte string) appended at the top level.
    const extra = Buffer.from([0x98, 0x06, 0x07, 0xa2, 0x06, 0x03, 0x61, 0x62, 0x63]);
    expect(() => Request.decode(Buffer.concat([base, extra]))).not.toThrow();
    expect((await postProto(Buffer.concat([base, extra]))).status).toBe(200);
    checkSample((await getJson(viewer.url, `/api/traces/${TRACE}`)).spans);
  });

  it('answers partial_success with the count of spans whose ids are invalid, and stores the rest', async () => {
    const req = sampleRequest() as any;
    req.resourceSpans[1].scopeSpans[0].spans.push(
      { traceId: Buffer.alloc(16), spanId: Buffer.from('0000000000000001', 'hex'), name: 'zero trace id' },
      { traceId: TRACE_HEX, spanId: Buffer.from('0102', 'hex'), name: 'short span id' },
    );
    const res = await postProto(encodeRequest(req));
    expect(res.status).toBe(200);
    const decoded = protoTypes().Response.toObject(protoTypes().Response.decode(res.body), { longs: Number });
    expect(decoded.partialSuccess.rejectedSpans).toBe(2);
    expect(decoded.partialSuccess.errorMessage).toMatch(/2 span\(s\) refused/);
    expect((await getJson(viewer.url, `/api/traces/${TRACE}`)).spans).toHaveLength(2);
    expect(viewer.stats()).toMatchObject({ droppedSpans: 2, spans: 2 });

    const json = sampleJson() as any;
    json.resourceSpans[0].scopeSpans[0].spans[0].spanId = 'not-hex';
    const r2 = await send(viewer.url, 'POST', '/v1/traces', JSON.stringify(json), { 'content-type': 'application/json' });
    expect(JSON.parse(r2.text)).toEqual({ partialSuccess: { rejectedSpans: '1', errorMessage: expect.stringMatching(/refused/) } });
  });

  it('maps the incomplete mark of Tracewire exporters back to an open span', async () => {
    const req = sampleRequest() as any;
    req.resourceSpans[1].scopeSpans[0].spans[0].attributes.push(kv('tracewire.span.incomplete', { boolValue: true }));
    await postProto(encodeRequest(req));
    const spans: ViewerSpan[] = (await getJson(viewer.url, `/api/traces/${TRACE}`)).spans;
    expect(spans[1].ended).toBe(false);
    expect(spans[1].attributes['tracewire.span.incomplete']).toBeUndefined();
  });

  it('refuses a body over maxBodyBytes with 413, declared or streamed, and counts it', async () => {
    const big = Buffer.alloc(70 * 1024, 1);
    const declared = await postProto(big);
    expect(declared.status).toBe(413);
    expect(declared.text).toMatch(/over the limit of 65536/);
    // Chunked, with no content-length: cut while streaming.
    const chunked = await postProto(big, { 'transfer-encoding': 'chunked' });
    expect(chunked.status).toBe(413);
    expect(viewer.stats().rejectedRequests).toBe(2);
  });

  it('refuses a small gzip body that inflates past maxBodyBytes (a decompression bomb)', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(10 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const res = await postProto(bomb, { 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    expect(res.text).toMatch(/decompressed body is over the limit/);
  });

  it('refuses other content types and encodings with 415, and bad bodies with 400', async () => {
    const text = await send(viewer.url, 'POST', '/v1/traces', 'hello', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    expect(JSON.parse(text.text).message).toMatch(/application\/x-protobuf or application\/json/);
    const br = await postProto(zlib.brotliCompressSync(encodeRequest(sampleRequest())), { 'content-encoding': 'br' });
    expect(br.status).toBe(415);
    const badGzip = await postProto(Buffer.from('not gzip'), { 'content-encoding': 'gzip' });
    expect(badGzip.status).toBe(400);
    // A length running past the end of the message.
    const truncated = await postProto(Buffer.from([0x0a, 0x50, 0x01]));
    expect(truncated.status).toBe(400);
    expect(truncated.headers['content-type']).toBe('application/x-protobuf');
    expect(truncated.body.toString('latin1')).toMatch(/not an OTLP trace request/);
    const badJson = await send(viewer.url, 'POST', '/v1/traces', '{"resourceSpans": [', { 'content-type': 'application/json' });
    expect(badJson.status).toBe(400);
    expect(JSON.parse(badJson.text)).toEqual({ code: 3, message: expect.stringMatching(/body is not JSON/) });
    expect(viewer.stats().rejectedRequests).toBe(5);
    expect((await get(viewer.url, '/v1/traces')).status).toBe(405);
  });
});
