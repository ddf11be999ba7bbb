import type { FinishedTrace, SpanData } from '@tracewire/core';
import { SDK_VERSION } from '@tracewire/core';
import { encodeTraceRequest, encodeTraceRequestJson, unixNanosString, unixNanosBigInt, unixNanosHalves, splitEpochMs, hrTime, epochMicros } from '../src';
import { ProtoWriter } from '../src/proto-writer';
import { attrs, decodeJson, decodeProtobuf, RequestType } from './otlp-receiver';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const OTHER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const T0 = 1764662400123 + 0.4567; // epoch ms with a sub-millisecond fraction
// The exact decimal value of a double, rounded to the nanosecond, by another route than ours.
const nanos = (ms: number): string => ms.toFixed(6).replace('.', '');

function span(over: Partial<SpanData>): SpanData {
  return {
    traceId: TRACE,
    spanId: '00f067aa0ba902b7',
    name: 'op',
    kind: 'internal',
    startTime: T0,
    endTime: T0 + 1.5,
    ended: true,
    status: { code: 'unset' },
    attributes: {},
    events: [],
    links: [],
    traceFlags: 3,
    dropped: { attributes: 0, events: 0, links: 0 },
    ...over,
  };
}

const resource = {
  'service.name': 'chat-api',
  'service.version': '1.2.3',
  'telemetry.sdk.name': 'tracewire',
  'process.pid': 4242,
  'host.cpu.ratio': 0.75,
  'feature.on': true,
  'tags': ['a', 'b'],
};

const root = span({
  spanId: 'b7ad6b7169203331',
  parentSpanId: 'a3ce929d0e0e4736',
  parentIsRemote: true,
  name: 'POST /chat',
  kind: 'server',
  traceState: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
  traceFlags: 1,
  status: { code: 'error', message: 'upstream failed' },
  attributes: {
    'http.request.method': 'POST',
    'http.response.status_code': 500,
    'tracewire.usage.cost': 0.000123,
    'negative.int': -42,
    'big.int': 2 ** 40 + 7,
    'unsafe.int': 2 ** 60,
    'not.finite': Infinity,
    'gen_ai.response.finish_reasons': ['stop', 'length'],
    'ints': [1, 2, 3],
    'mixed.numbers': [1, 2.5],
    'flags': [true, false],
    'empty': [],
    'unicode': 'héllo ✓ 日本 🚀',
    'long.text': 'x'.repeat(300) + 'é',
  },
  events: [
    { name: 'exception', time: T0 + 0.25, attributes: { 'exception.type': 'UpstreamError', 'exception.message': 'boom' } },
    { name: 'gen_ai.first_chunk', time: T0 + 0.000001, attributes: {} },
  ],
  links: [
    { traceId: OTHER_TRACE, spanId: '00f067aa0ba902b7', attributes: { 'tracewire.link.reason': 'untrusted_parent' } },
    { traceId: 'not-a-trace-id', spanId: 'zz', attributes: {} },
  ],
  dropped: { attributes: 3, events: 2, links: 1 },
});
const child = span({ spanId: 'c1c1c1c1c1c1c1c1', parentSpanId: 'b7ad6b7169203331', kind: 'client', name: 'chat gpt-4o-mini', status: { code: 'ok' } });
const open = span({ spanId: 'd2d2d2d2d2d2d2d2', parentSpanId: 'b7ad6b7169203331', name: 'still running', ended: false, kind: 'producer' });
const late = span({ spanId: 'e3e3e3e3e3e3e3e3', parentSpanId: 'b7ad6b7169203331', name: 'late', kind: 'consumer' });

const traces: FinishedTrace[] = [
  { traceId: TRACE, rootSpanId: root.spanId, resource, spans: [root, child, open], incomplete: true, fragment: 0 },
  { traceId: TRACE, rootSpanId: root.spanId, resource, spans: [late], incomplete: false, fragment: 2 },
];

describe('time conversion', () => {
  it('keeps the sub-millisecond part, to the nanosecond the double holds', () => {
    expect(unixNanosString(1764662400123.5)).toBe('1764662400123500000');
    expect(unixNanosString(T0)).toBe(nanos(T0));
    expect(unixNanosString(T0)).toMatch(/^1764662400123456\d{3}$/);
    expect(unixNanosBigInt(T0)).toBe(BigInt(nanos(T0)));
    for (let i = 0; i < 1000; i++) {
      const t = 1764662400000 + Math.random() * 1e9;
      expect(unixNanosString(t)).toBe(nanos(t));
    }
    expect(unixNanosString(0.001)).toBe('1000');
    expect(unixNanosString(-5)).toBe('0');
    expect(splitEpochMs(1.9999999999)).toEqual([2, 0]);
  });

  it('splits into exact 32-bit halves for fixed64', () => {
    for (const t of [T0, 1, 0.5, 4102444800000.999, Date.now() + 0.123]) {
      const [lo, hi] = unixNanosHalves(t);
      expect((BigInt(hi) << 32n) + BigInt(lo)).toBe(unixNanosBigInt(t));
    }
  });

  it('gives HrTime and microseconds', () => {
    expect(hrTime(1764662400123.5)).toEqual([1764662400, 123500000]);
    expect(epochMicros(1764662400123.5)).toBe(1764662400123500);
  });
});

describe('ProtoWriter', () => {
  it('writes int64 varints protobufjs reads back, negatives included', () => {
    const { Writer, Reader } = require('protobufjs') as typeof import('protobufjs');
    for (const n of [0, 1, 127, 128, 300, 2 ** 31, 2 ** 32 + 5, 2 ** 53 - 1, -1, -300, -(2 ** 40)]) {
      const w = new ProtoWriter(16);
      w.int64(n);
      const bytes = w.finish();
      expect(Buffer.from(Writer.create().int64(n).finish())).toEqual(bytes);
      expect(Number(Reader.create(bytes).int64().toString())).toBe(n);
    }
  });

  it('moves a nested message when its length needs more or fewer bytes than reserved', () => {
    const w = new ProtoWriter(8);
    const outer = w.begin(1, 1);
    w.string(1, 'y'.repeat(200)); // 203 bytes: needs 2 length bytes
    w.end(outer, 1);
    const small = w.begin(2, 3);
    w.string(1, 'z');
    w.end(small, 3);
    const bytes = w.finish();
    expect(bytes.subarray(0, 3)).toEqual(Buffer.from([0x0a, 0xcb, 0x01]));
    expect(bytes.subarray(206)).toEqual(Buffer.from([0x12, 0x03, 0x0a, 0x01, 0x7a]));
  });
});

describe('encodeTraceRequest / encodeTraceRequestJson', () => {
  const proto = decodeProtobuf(encodeTraceRequest(traces));
  const json = decodeJson(encodeTraceRequestJson(traces));

  it('decode to the same message with protobufjs over the official protos', () => {
    expect(json).toEqual(proto);
    expect(RequestType.verify(RequestType.fromObject(proto))).toBeNull();
  });

  it.each([
    ['protobuf', proto],
    ['json', json],
  ])('maps every field of FinishedTrace (%s)', (_format, req) => {
    expect(req.resourceSpans).toHaveLength(1);
    const rs = req.resourceSpans[0];
    expect(attrs(rs.resource.attributes)).toEqual(resource);
    expect(rs.resource.attributes.find((a: any) => a.key === 'process.pid').value).toEqual({ intValue: '4242' });
    expect(rs.resource.attributes.find((a: any) => a.key === 'host.cpu.ratio').value).toEqual({ doubleValue: 0.75 });
    expect(rs.scopeSpans).toHaveLength(1);
    expect(rs.scopeSpans[0].scope).toEqual({ name: '@tracewire/core', version: SDK_VERSION, attributes: [] });
    const spans = rs.scopeSpans[0].spans;
    expect(spans.map((s: any) => s.name)).toEqual(['POST /chat', 'chat gpt-4o-mini', 'still running', 'late']);

    const [r, c, o, l] = spans;
    expect(r.traceId).toBe(TRACE);
    expect(r.spanId).toBe('b7ad6b7169203331');
    expect(r.parentSpanId).toBe('a3ce929d0e0e4736');
    expect(r.traceState).toBe('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
    expect(r.kind).toBe(2);
    expect(r.flags).toBe(0x301); // sampled, remote-ness known, parent remote
    expect(r.startTimeUnixNano).toBe(nanos(T0));
    expect(r.endTimeUnixNano).toBe(nanos(T0 + 1.5));
    expect(r.status).toEqual({ code: 2, message: 'upstream failed' });
    expect(r.droppedAttributesCount).toBe(3);
    expect(r.droppedEventsCount).toBe(2);
    expect(r.droppedLinksCount).toBe(2); // 1 dropped by the limit + 1 with invalid ids
    const a = Object.fromEntries(r.attributes.map((kv: any) => [kv.key, kv.value]));
    expect(a['http.request.method']).toEqual({ stringValue: 'POST' });
    expect(a['http.response.status_code']).toEqual({ intValue: '500' });
    expect(a['tracewire.usage.cost']).toEqual({ doubleValue: 0.000123 });
    expect(a['negative.int']).toEqual({ intValue: '-42' });
    expect(a['big.int']).toEqual({ intValue: String(2 ** 40 + 7) });
    expect(a['unsafe.int']).toEqual({ doubleValue: 2 ** 60 });
    expect(a['not.finite']).toEqual({ doubleValue: 'Infinity' });
    expect(a['gen_ai.response.finish_reasons']).toEqual({ arrayValue: { values: [{ stringValue: 'stop' }, { stringValue: 'length' }] } });
    expect(a.ints).toEqual({ arrayValue: { values: [{ intValue: '1' }, { intValue: '2' }, { intValue: '3' }] } });
    expect(a['mixed.numbers']).toEqual({ arrayValue: { values: [{ doubleValue: 1 }, { doubleValue: 2.5 }] } });
    expect(a.flags).toEqual({ arrayValue: { values: [{ boolValue: true }, { boolValue: false }] } });
    expect(a.empty).toEqual({ arrayValue: { values: [] } });
    expect(a.unicode).toEqual({ stringValue: 'héllo ✓ 日本 🚀' });
    expect(a['long.text']).toEqual({ stringValue: 'x'.repeat(300) + 'é' });
    expect(r.attributes.map((kv: any) => kv.key)).not.toContain('tracewire.span.incomplete');
    expect(r.events).toEqual([
      {
        timeUnixNano: nanos(T0 + 0.25),
        name: 'exception',
        attributes: [
          { key: 'exception.type', value: { stringValue: 'UpstreamError' } },
          { key: 'exception.message', value: { stringValue: 'boom' } },
        ],
      },
      { timeUnixNano: nanos(T0 + 0.000001), name: 'gen_ai.first_chunk', attributes: [] },
    ]);
    expect(r.links).toEqual([
      { traceId: OTHER_TRACE, spanId: '00f067aa0ba902b7', attributes: [{ key: 'tracewire.link.reason', value: { stringValue: 'untrusted_parent' } }] },
    ]);

    expect(c.kind).toBe(3);
    expect(c.flags).toBe(0x103); // sampled + random, parent local
    expect(c.status).toEqual({ code: 1 });
    expect(c.parentSpanId).toBe('b7ad6b7169203331');
    expect(c.droppedAttributesCount).toBeUndefined();

    expect(o.kind).toBe(4);
    expect(attrs(o.attributes)).toEqual({ 'tracewire.span.incomplete': true });
    expect(l.kind).toBe(5);
    expect(attrs(l.attributes)).toEqual({ 'tracewire.trace.fragment': 2 });
    expect(l.attributes[0].value).toEqual({ intValue: '2' });
  });

  it('sends one ResourceSpans per distinct resource', () => {
    const other = { 'service.name': 'other' };
    const req = decodeProtobuf(encodeTraceRequest([traces[0], { ...traces[1], resource: other }, traces[1]]));
    expect(req.resourceSpans.map((rs: any) => attrs(rs.resource.attributes)['service.name'])).toEqual(['chat-api', 'other']);
    expect(req.resourceSpans[0].scopeSpans[0].spans).toHaveLength(4);
  });

  it('encodes a large batch, growing its buffer, and the next small one from a clean start', () => {
    const many: FinishedTrace[] = [];
    for (let i = 0; i < 300; i++) {
      many.push({ ...traces[0], spans: [root, child], incomplete: false });
    }
    const big = decodeProtobuf(encodeTraceRequest(many));
    expect(big.resourceSpans[0].scopeSpans[0].spans).toHaveLength(600);
    const small = decodeProtobuf(encodeTraceRequest([traces[1]]));
    expect(small.resourceSpans[0].scopeSpans[0].spans.map((s: any) => s.name)).toEqual(['late']);
  });
});
