import { defaultGetter, defaultSetter, extractB3Multi, formatB3, injectB3Multi, parseB3 } from '../../src/propagation';
import { SAMPLING_DEFERRED } from '../../src/propagation/remote';

// Vectors from the B3 specification (openzipkin/b3-propagation README, "Http Encodings").

const T128 = '80f198ee56343ba864fe8b2a57d3eff7';
const T64 = '64fe8b2a57d3eff7';
const S = 'e457b5a2e4d86bd1';
const P = '05e3ac9a4f6e3b90';

describe('parseB3 (single header)', () => {
  it('reads ids, sampling state and parent', () => {
    expect(parseB3(`${T128}-${S}-1-${P}`)).toEqual({ traceId: T128, spanId: S, traceFlags: 1, isRemote: true });
  });

  it('reads a deny decision', () => {
    expect(parseB3(`${T128}-${S}-0`)).toEqual({ traceId: T128, spanId: S, traceFlags: 0, isRemote: true });
  });

  it('reads debug as sampled', () => {
    expect(parseB3(`${T128}-${S}-d`)!.traceFlags).toBe(1);
  });

  it('marks a missing sampling state as deferred', () => {
    const ctx = parseB3(`${T128}-${S}`)!;
    expect(ctx.traceFlags).toBe(0);
    expect(ctx[SAMPLING_DEFERRED]).toBe(true);
  });

  it('pads a 64-bit trace id to 128 bits', () => {
    expect(parseB3(`${T64}-${S}-1`)!.traceId).toBe('0000000000000000' + T64);
  });

  it('lowercases ids and trims OWS; takes the first of repeated headers', () => {
    expect(parseB3(` ${T128.toUpperCase()}-${S}-1\t`)!.traceId).toBe(T128);
    expect(parseB3(`${T128}-${S.toUpperCase()}-1`)!.spanId).toBe(S);
    expect(parseB3([`${T128}-${S}-1`, `${T64}-${S}-0`])!.traceId).toBe(T128);
  });

  it.each([
    ['only a sampling state', '0'],
    ['only a debug flag', 'd'],
    ['a 20-hex trace id', `${T64}abcd-${S}-1`],
    ['an all-zero trace id', `${'0'.repeat(32)}-${S}-1`],
    ['an all-zero span id', `${T128}-${'0'.repeat(16)}-1`],
    ['a short span id', `${T128}-${S.slice(1)}-1`],
    ['a non-ASCII character in the trace id', `\u00e1${T128.slice(1)}-${S}-1`],
    ['a non-ASCII character in the span id', `${T128}-${S.slice(0, 15)}\u0146-1`],
    ['a letter past f in the span id', `${T128}-${S.slice(0, 15)}g-1`],
    ['a non-hex character', `${T128.slice(1)}g-${S}-1`],
    ['an unknown sampling state', `${T128}-${S}-2`],
    ['an empty sampling state', `${T128}-${S}-`],
    ['a bad parent span id', `${T128}-${S}-1-xyz`],
    ['an empty value', ''],
  ])('rejects %s', (_case, value) => {
    expect(parseB3(value)).toBeNull();
  });

  it('formats ids and the sampling state, and leaves a deferred state out', () => {
    expect(formatB3({ traceId: T128, spanId: S, traceFlags: 1 })).toBe(`${T128}-${S}-1`);
    expect(formatB3({ traceId: T128, spanId: S, traceFlags: 2 })).toBe(`${T128}-${S}-0`);
    expect(formatB3(parseB3(`${T128}-${S}`)!)).toBe(`${T128}-${S}`);
  });
});

describe('extractB3Multi / injectB3Multi', () => {
  const extract = (h: Record<string, string>) => extractB3Multi(h, defaultGetter);

  it('reads the headers whatever their case', () => {
    expect(extract({ 'X-B3-TraceId': T128, 'X-B3-SpanId': S, 'X-B3-ParentSpanId': P, 'X-B3-Sampled': '1' })).toEqual({
      traceId: T128,
      spanId: S,
      traceFlags: 1,
      isRemote: true,
    });
  });

  it('reads deny, the legacy true/false, and X-B3-Flags: 1 as sampled', () => {
    expect(extract({ 'x-b3-traceid': T128, 'x-b3-spanid': S, 'x-b3-sampled': '0' })!.traceFlags).toBe(0);
    expect(extract({ 'x-b3-traceid': T128, 'x-b3-spanid': S, 'x-b3-sampled': 'true' })!.traceFlags).toBe(1);
    expect(extract({ 'x-b3-traceid': T128, 'x-b3-spanid': S, 'x-b3-sampled': 'false' })!.traceFlags).toBe(0);
    expect(extract({ 'x-b3-traceid': T128, 'x-b3-spanid': S, 'x-b3-flags': '1' })!.traceFlags).toBe(1);
  });

  it('pads a 64-bit trace id and defers a missing sampling header', () => {
    const ctx = extract({ 'x-b3-traceid': T64, 'x-b3-spanid': S })!;
    expect(ctx.traceId).toBe('0000000000000000' + T64);
    expect(ctx[SAMPLING_DEFERRED]).toBe(true);
  });

  it.each([
    ['no trace id', { 'x-b3-spanid': S, 'x-b3-sampled': '1' }],
    ['no span id', { 'x-b3-traceid': T128, 'x-b3-sampled': '1' }],
    ['only a sampling decision', { 'x-b3-sampled': '0' }],
    ['an empty sampling header', { 'x-b3-traceid': T128, 'x-b3-spanid': S, 'x-b3-sampled': '' }],
    ['a nonsense sampling header', { 'x-b3-traceid': T128, 'x-b3-spanid': S, 'x-b3-sampled': 'yes' }],
    ['a bad trace id', { 'x-b3-traceid': 'xyz', 'x-b3-spanid': S }],
  ])('gives no context for %s', (_case, headers) => {
    expect(extract(headers as Record<string, string>)).toBeNull();
  });

  it('writes trace id, span id and sampled, without sampled when deferred', () => {
    const out: Record<string, string> = {};
    injectB3Multi({ traceId: T128, spanId: S, traceFlags: 3 }, out, defaultSetter);
    expect(out).toEqual({ 'x-b3-traceid': T128, 'x-b3-spanid': S, 'x-b3-sampled': '1' });
    const deferred: Record<string, string> = {};
    injectB3Multi(extract({ 'x-b3-traceid': T128, 'x-b3-spanid': S })!, deferred, defaultSetter);
    expect(deferred).toEqual({ 'x-b3-traceid': T128, 'x-b3-spanid': S });
  });
});
