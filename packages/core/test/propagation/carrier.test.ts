import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import {
  defaultGetter,
  defaultSetter,
  extractContext,
  injectContext,
  type CarrierGetter,
  type CarrierSetter,
} from '../../src/propagation';
import { runWithSpan, suppressTracing } from '../../src/context/storage';
import type { Span, SpanContext } from '../../src/types';
import { memoryTracer } from '../helpers';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${SPAN_ID}-01`;

const CONTEXT: SpanContext = { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 0x03, traceState: 'rojo=1,congo=2' };
const EXPECTED_TRACEPARENT = `00-${TRACE_ID}-${SPAN_ID}-03`;
/** What TRACEPARENT with the tracestate `rojo=1, congo=2` extracts to, whatever the carrier. */
const EXTRACTED: SpanContext = { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1, traceState: 'rojo=1,congo=2', isRemote: true };

/** The smallest object that passes as a Span for propagation: only spanContext() is called. */
function fakeSpan(ctx: SpanContext): Span {
  return { spanContext: () => ctx } as unknown as Span;
}

describe('defaultGetter', () => {
  it('reads Node IncomingHttpHeaders', () => {
    const headers: IncomingHttpHeaders = { traceparent: TRACEPARENT, 'x-forwarded-for': ['a', 'b'] };
    expect(defaultGetter.get(headers, 'traceparent')).toBe(TRACEPARENT);
    expect(defaultGetter.get(headers, 'x-forwarded-for')).toEqual(['a', 'b']);
  });

  it('reads WHATWG Headers case-insensitively', () => {
    expect(defaultGetter.get(new Headers({ TraceParent: TRACEPARENT }), 'traceparent')).toBe(TRACEPARENT);
  });

  it('reads a Map, falling back to a case-insensitive match', () => {
    expect(defaultGetter.get(new Map([['traceparent', TRACEPARENT]]), 'traceparent')).toBe(TRACEPARENT);
    expect(defaultGetter.get(new Map([['Traceparent', TRACEPARENT]]), 'traceparent')).toBe(TRACEPARENT);
  });

  it('reads a plain object, falling back to a case-insensitive match', () => {
    expect(defaultGetter.get({ Traceparent: TRACEPARENT }, 'traceparent')).toBe(TRACEPARENT);
    expect(defaultGetter.get({ TRACESTATE: 'a=1' }, 'tracestate')).toBe('a=1');
  });

  it('does not read inherited properties of a plain object', () => {
    const proto = { traceparent: TRACEPARENT };
    expect(defaultGetter.get(Object.create(proto), 'traceparent')).toBeUndefined();
  });

  it('returns undefined for a missing header, a non-string value or a non-object carrier', () => {
    expect(defaultGetter.get({}, 'traceparent')).toBeUndefined();
    expect(defaultGetter.get({ traceparent: 42 }, 'traceparent')).toBeUndefined();
    expect(defaultGetter.get(undefined, 'traceparent')).toBeUndefined();
    expect(defaultGetter.get('traceparent', 'traceparent')).toBeUndefined();
  });
});

describe('defaultSetter', () => {
  it('sets on WHATWG Headers', () => {
    const headers = new Headers();
    defaultSetter.set(headers, 'traceparent', TRACEPARENT);
    expect(headers.get('traceparent')).toBe(TRACEPARENT);
  });

  it('replaces an existing value on Headers instead of appending', () => {
    const headers = new Headers({ Traceparent: 'old' });
    defaultSetter.set(headers, 'traceparent', TRACEPARENT);
    expect(headers.get('traceparent')).toBe(TRACEPARENT);
  });

  it('sets a lowercase key on a Map and drops a differently cased copy', () => {
    const map = new Map<string, string>([['TraceParent', 'old']]);
    defaultSetter.set(map, 'traceparent', TRACEPARENT);
    expect([...map.entries()]).toEqual([['traceparent', TRACEPARENT]]);
  });

  it('sets a lowercase key on a plain object and drops a differently cased copy', () => {
    const obj: Record<string, string> = { Traceparent: 'old', accept: 'text/plain' };
    defaultSetter.set(obj, 'traceparent', TRACEPARENT);
    expect(obj).toEqual({ traceparent: TRACEPARENT, accept: 'text/plain' });
  });

  it('sends one traceparent through fetch Headers after writing into an object that had another case', () => {
    const obj: Record<string, string> = { Traceparent: 'old' };
    defaultSetter.set(obj, 'traceparent', TRACEPARENT);
    expect(new Headers(obj).get('traceparent')).toBe(TRACEPARENT);
  });

  it('uses setHeader on a Node outgoing message', () => {
    const req = new http.OutgoingMessage();
    defaultSetter.set(req, 'traceparent', TRACEPARENT);
    expect(req.getHeader('traceparent')).toBe(TRACEPARENT);
  });

  it('ignores non-object carriers', () => {
    expect(() => defaultSetter.set(undefined, 'traceparent', TRACEPARENT)).not.toThrow();
    expect(() => defaultSetter.set('headers', 'traceparent', TRACEPARENT)).not.toThrow();
  });
});

describe('extractContext', () => {
  it('extracts from IncomingHttpHeaders with string values', () => {
    const headers: IncomingHttpHeaders = { traceparent: TRACEPARENT, tracestate: 'rojo=1, congo=2' };
    expect(extractContext(headers)).toEqual(EXTRACTED);
  });

  it('extracts from headers with string[] values', () => {
    const headers = { traceparent: [TRACEPARENT], tracestate: ['rojo=1', 'congo=2'] };
    expect(extractContext(headers)?.traceState).toBe('rojo=1,congo=2');
  });

  it('rejects several traceparent values', () => {
    expect(extractContext({ traceparent: [TRACEPARENT, TRACEPARENT] })).toBeNull();
  });

  it('extracts from WHATWG Headers', () => {
    const headers = new Headers();
    headers.append('traceparent', TRACEPARENT);
    headers.append('tracestate', 'rojo=1');
    headers.append('tracestate', 'congo=2');
    expect(extractContext(headers)).toEqual(EXTRACTED);
  });

  it('rejects two traceparent values appended to WHATWG Headers', () => {
    const headers = new Headers();
    headers.append('traceparent', TRACEPARENT);
    headers.append('traceparent', TRACEPARENT);
    expect(extractContext(headers)).toBeNull();
  });

  it('extracts from a plain object with capitalised names', () => {
    expect(extractContext({ Traceparent: TRACEPARENT, TraceState: 'rojo=1' })?.traceState).toBe('rojo=1');
  });

  it('extracts from a Map', () => {
    const map = new Map([
      ['traceparent', TRACEPARENT],
      ['tracestate', 'rojo=1'],
    ]);
    expect(extractContext(map)).toMatchObject({ traceId: TRACE_ID, traceState: 'rojo=1' });
  });

  it('extracts from a real Node request, combining repeated tracestate headers', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.headers);
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      await new Promise<void>((resolve, reject) => {
        const req = http.request({ port, host: '127.0.0.1', path: '/' }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
        req.setHeader('traceparent', TRACEPARENT);
        req.setHeader('tracestate', ['rojo=1', 'congo=2']);
        req.end();
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(extractContext(seen[0])).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID, traceState: 'rojo=1,congo=2' });
  });

  it('drops an invalid tracestate and keeps the valid traceparent', () => {
    expect(extractContext({ traceparent: TRACEPARENT, tracestate: 'rojo=1,Rojo=2' })).toEqual({
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      traceFlags: 1,
      isRemote: true,
    });
  });

  it('leaves traceState unset for an empty tracestate', () => {
    expect(extractContext({ traceparent: TRACEPARENT, tracestate: ' , ' })).not.toHaveProperty('traceState');
  });

  it('returns null for an invalid traceparent even with a valid tracestate', () => {
    expect(extractContext({ traceparent: TRACEPARENT.toUpperCase(), tracestate: 'rojo=1' })).toBeNull();
  });

  it('returns null without a traceparent', () => {
    expect(extractContext({ tracestate: 'rojo=1' })).toBeNull();
    expect(extractContext(new Headers())).toBeNull();
  });

  it('returns null for a getter that throws', () => {
    const getter: CarrierGetter<unknown> = {
      get() {
        throw new Error('boom');
      },
    };
    expect(extractContext({ traceparent: TRACEPARENT }, getter)).toBeNull();
  });

  it('returns null for a carrier whose get method throws', () => {
    const carrier = {
      get() {
        throw new Error('boom');
      },
    };
    expect(extractContext(carrier)).toBeNull();
  });

  it('reads through a custom getter', () => {
    const carrier = { meta: [['traceparent', TRACEPARENT]] as Array<[string, string]> };
    const getter: CarrierGetter<typeof carrier> = {
      get: (c, key) => c.meta.find(([k]) => k === key)?.[1],
    };
    expect(extractContext(carrier, getter)?.spanId).toBe(SPAN_ID);
  });

  it('returns null for non-object carriers', () => {
    expect(extractContext(undefined)).toBeNull();
    expect(extractContext(null)).toBeNull();
    expect(extractContext(TRACEPARENT)).toBeNull();
  });
});

describe('injectContext', () => {
  it('writes traceparent and tracestate into WHATWG Headers', () => {
    const headers = new Headers();
    injectContext(headers, CONTEXT);
    expect(headers.get('traceparent')).toBe(EXPECTED_TRACEPARENT);
    expect(headers.get('tracestate')).toBe('rojo=1,congo=2');
  });

  it('writes into a Map', () => {
    const map = new Map<string, string>();
    injectContext(map, CONTEXT);
    expect(Object.fromEntries(map)).toEqual({ traceparent: EXPECTED_TRACEPARENT, tracestate: 'rojo=1,congo=2' });
  });

  it('writes into a plain object', () => {
    const obj: Record<string, string> = {};
    injectContext(obj, CONTEXT);
    expect(obj).toEqual({ traceparent: EXPECTED_TRACEPARENT, tracestate: 'rojo=1,congo=2' });
  });

  it('accepts a Span and uses its spanContext()', () => {
    const obj: Record<string, string> = {};
    injectContext(obj, fakeSpan({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 0 }));
    expect(obj).toEqual({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-00` });
  });

  it("writes a recording span's own ids and the tracestate it continued, and its spanContext() is a plain copy", async () => {
    const { tracer } = memoryTracer();
    const span = tracer.startSpan('client', { parent: { ...CONTEXT, isRemote: true } });
    const obj: Record<string, string> = {};
    injectContext(obj, span);
    const ctx = span.spanContext();
    expect(ctx).toEqual({ traceId: TRACE_ID, spanId: ctx.spanId, traceFlags: 0x03, traceState: 'rojo=1,congo=2' });
    expect(ctx.spanId).not.toBe(SPAN_ID);
    expect(obj).toEqual({ traceparent: `00-${TRACE_ID}-${ctx.spanId}-03`, tracestate: 'rojo=1,congo=2' });
    // A new object each call, nothing of the span's internal state in it.
    expect(span.spanContext()).not.toBe(ctx);
    expect(Object.getOwnPropertySymbols(ctx)).toEqual([]);
    span.end();
    await tracer.shutdown();
  });

  it('uses the active span by default', () => {
    const obj: Record<string, string> = {};
    runWithSpan(fakeSpan(CONTEXT), () => injectContext(obj));
    expect(obj.traceparent).toBe(EXPECTED_TRACEPARENT);
  });

  it('prefers the span passed over the active one', () => {
    const obj: Record<string, string> = {};
    const other = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 };
    runWithSpan(fakeSpan(CONTEXT), () => injectContext(obj, other));
    expect(obj.traceparent).toBe(`00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`);
  });

  it('does nothing with no active span', () => {
    const obj: Record<string, string> = {};
    injectContext(obj);
    expect(obj).toEqual({});
  });

  it('does nothing while tracing is suppressed, even for a span passed in', () => {
    const obj: Record<string, string> = {};
    suppressTracing(() => injectContext(obj, CONTEXT));
    expect(obj).toEqual({});
  });

  it('does nothing for an invalid context', () => {
    const obj: Record<string, string> = {};
    injectContext(obj, { traceId: '0'.repeat(32), spanId: SPAN_ID, traceFlags: 1 });
    injectContext(obj, { traceId: TRACE_ID, spanId: 'XYZ', traceFlags: 1 });
    injectContext(obj, fakeSpan(undefined as unknown as SpanContext));
    expect(obj).toEqual({});
  });

  it('omits tracestate when the context has none or an empty one', () => {
    const obj: Record<string, string> = {};
    injectContext(obj, { ...CONTEXT, traceState: '' });
    expect(obj).toEqual({ traceparent: EXPECTED_TRACEPARENT });
  });

  it('omits a tracestate holding control characters', () => {
    const obj: Record<string, string> = {};
    injectContext(obj, { ...CONTEXT, traceState: 'a=1\r\nset-cookie: x' });
    expect(obj).toEqual({ traceparent: EXPECTED_TRACEPARENT });
  });

  it('writes through a custom setter', () => {
    const written: Array<[string, string]> = [];
    const setter: CarrierSetter<unknown> = { set: (_c, key, value) => void written.push([key, value]) };
    injectContext({}, CONTEXT, setter);
    expect(written).toEqual([
      ['traceparent', EXPECTED_TRACEPARENT],
      ['tracestate', 'rojo=1,congo=2'],
    ]);
  });

  it('does not throw when the setter, the span or the carrier throws', () => {
    const setter: CarrierSetter<unknown> = {
      set() {
        throw new Error('boom');
      },
    };
    const throwingSpan = {
      spanContext() {
        throw new Error('boom');
      },
    } as unknown as Span;
    expect(() => injectContext({}, CONTEXT, setter)).not.toThrow();
    expect(() => injectContext({}, throwingSpan)).not.toThrow();
    expect(() => injectContext(Object.freeze({}), CONTEXT)).not.toThrow();
    expect(() => injectContext(undefined, CONTEXT)).not.toThrow();
  });

  it('round-trips through extractContext', () => {
    const headers = new Headers();
    injectContext(headers, CONTEXT);
    expect(extractContext(headers)).toEqual({ ...CONTEXT, isRemote: true });
  });
});
