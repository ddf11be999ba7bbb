import { defaultGetter, defaultSetter, extractXTrace, formatXTraceId, injectXTrace, parseXTraceId } from '../../src/propagation';
import { SAMPLING_DEFERRED } from '../../src/propagation/remote';

const UUID = '550e8400-e29b-41d4-a716-446655440000';
const HEX = '550e8400e29b41d4a716446655440000';
const SPAN = '00f067aa0ba902b7';

describe('parseXTraceId', () => {
  it('maps a UUID to the 32-hex trace id by dropping the dashes', () => {
    expect(parseXTraceId(UUID)).toBe(HEX);
    expect(parseXTraceId(UUID.toUpperCase())).toBe(HEX);
  });

  it('accepts 32 hex digits, and 16 padded to 32', () => {
    expect(parseXTraceId(HEX)).toBe(HEX);
    expect(parseXTraceId('a716446655440000')).toBe('0000000000000000a716446655440000');
  });

  it.each([
    ['a UUID with misplaced dashes', '550e8400e-29b-41d4-a716-446655440000'],
    ['a UUID with a non-hex digit', '550e8400-e29b-41d4-a716-44665544000g'],
    ['the nil UUID', '00000000-0000-0000-0000-000000000000'],
    ['31 hex digits', HEX.slice(1)],
    ['a request id', 'req_8f2a1c'],
    ['an empty value', ''],
  ])('ignores %s', (_case, value) => {
    expect(parseXTraceId(value)).toBeUndefined();
  });
});

describe('extractXTrace', () => {
  it('reads trace id and span id, leaving the sampling decision open', () => {
    const ctx = extractXTrace({ 'X-Trace-ID': UUID, 'X-Span-ID': SPAN }, defaultGetter)!;
    expect(ctx).toMatchObject({ traceId: HEX, spanId: SPAN, traceFlags: 0, isRemote: true });
    expect(ctx[SAMPLING_DEFERRED]).toBe(true);
  });

  it('keeps the trace id alone when the span id is missing or invalid', () => {
    expect(extractXTrace({ 'x-trace-id': UUID }, defaultGetter)!.spanId).toBe('');
    expect(extractXTrace({ 'x-trace-id': UUID, 'x-span-id': 'nope' }, defaultGetter)!.spanId).toBe('');
    expect(extractXTrace({ 'x-trace-id': UUID, 'x-span-id': '0000000000000000' }, defaultGetter)!.spanId).toBe('');
  });

  it('gives no context for an invalid trace id, whatever the span id', () => {
    expect(extractXTrace({ 'x-trace-id': 'abc', 'x-span-id': SPAN }, defaultGetter)).toBeNull();
    expect(extractXTrace({ 'x-span-id': SPAN }, defaultGetter)).toBeNull();
  });
});

describe('injectXTrace', () => {
  it('writes the trace id as a UUID and the span id as 16 hex', () => {
    const out: Record<string, string> = {};
    injectXTrace({ traceId: HEX, spanId: SPAN, traceFlags: 1 }, out, defaultSetter);
    expect(out).toEqual({ 'x-trace-id': UUID, 'x-span-id': SPAN });
    expect(formatXTraceId(HEX)).toBe(UUID);
  });
});
