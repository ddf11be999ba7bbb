import { resetWarnings } from '../../src/config';
import { memoryTracer } from '../helpers';
import type { SpanData } from '../../src';
import { writeAttributes } from '../../src/trace/span';

async function oneSpan(fn: (s: import('../../src').Span) => void, limits = {}): Promise<SpanData> {
  const { tracer, exporter } = memoryTracer({ limits });
  const span = tracer.startSpan('op', { parent: null });
  fn(span);
  span.end();
  const [trace] = await exporter.waitFor(1);
  await tracer.shutdown();
  return trace.spans[0];
}

describe('Span', () => {
  it('exposes a valid span context with the sampled and random flags on a new trace', () => {
    const { tracer } = memoryTracer();
    const span = tracer.startSpan('op', { parent: null });
    const ctx = span.spanContext();
    expect(ctx.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(ctx.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(ctx.traceFlags).toBe(0x03);
    span.end();
    return tracer.shutdown();
  });

  it('gives every span its own attributes object, whichever way its attributes came (or none did)', async () => {
    const { tracer, exporter } = memoryTracer({ limits: { lingerMs: 20 } });
    const root = tracer.startSpan('root', { parent: null });
    const none = tracer.startSpan('none', { parent: root });
    const set = tracer.startSpan('set', { parent: root });
    const filled = tracer.startSpan('filled', { parent: root });
    const open = tracer.startSpan('open', { parent: root });
    set.setAttribute('k', 'v');
    writeAttributes(filled, (a) => {
      a['f'] = 1;
    });
    for (const s of [none, set, filled]) s.end();
    root.end();
    const [trace] = await exporter.waitFor(1);
    const byName = new Map(trace.spans.map((s) => [s.name, s]));
    expect(byName.get('none')?.attributes).toEqual({});
    expect(byName.get('set')?.attributes).toEqual({ k: 'v' });
    expect(byName.get('filled')?.attributes).toEqual({ f: 1 });
    // The open span goes out as a snapshot; it too has an object of its own.
    expect(byName.get('open')?.ended).toBe(false);
    const objects = [...byName.values()].map((s) => s.attributes);
    for (const a of objects) expect(Object.isFrozen(a)).toBe(false);
    expect(new Set(objects).size).toBe(objects.length);
    open.end();
    await tracer.shutdown();
  });

  it('records attributes, skipping invalid values and keeping arrays homogeneous', async () => {
    const data = await oneSpan((s) => {
      s.setAttribute('a', 'x').setAttribute('n', 1).setAttribute('b', true).setAttribute('arr', ['p', 'q']);
      s.setAttribute('undef', undefined).setAttribute('nul', null);
      s.setAttribute('obj', { x: 1 } as never).setAttribute('mixed', ['a', 1] as never);
      s.setAttributes({ c: 'y', d: undefined });
    });
    expect(data.attributes).toEqual({ a: 'x', n: 1, b: true, arr: ['p', 'q'], c: 'y' });
  });

  it('drops attributes past the count limit and counts them', async () => {
    const data = await oneSpan((s) => {
      for (let i = 0; i < 5; i++) s.setAttribute(`k${i}`, i);
      s.setAttribute('k0', 'overwrite is not a new attribute');
    }, { attributeCountLimit: 3 });
    expect(Object.keys(data.attributes)).toEqual(['k0', 'k1', 'k2']);
    expect(data.attributes.k0).toBe('overwrite is not a new attribute');
    expect(data.dropped.attributes).toBe(2);
  });

  it('counts keys, not writes, against the count limit: overwrites leave room for new keys', async () => {
    const data = await oneSpan((s) => {
      for (let i = 0; i < 5; i++) s.setAttribute('k0', i);
      s.setAttribute('k1', 'a').setAttribute('k2', 'b');
      // Full at 3 keys: a new one is dropped and counted, an overwrite still lands.
      s.setAttribute('k3', 'dropped').setAttribute('k4', 'dropped');
      s.setAttribute('k1', 'overwritten');
    }, { attributeCountLimit: 3 });
    expect(data.attributes).toEqual({ k0: 4, k1: 'overwritten', k2: 'b' });
    expect(data.dropped.attributes).toBe(2);
  });

  it('writeAttributes writes into the span and counts only new keys against the limit', async () => {
    const data = await oneSpan((s) => {
      s.setAttribute('kept', 1).setAttribute('shared', 'old');
      writeAttributes(s, { shared: 'new', a: 2 });
      // 3 attributes so far: one more fits the limit of 4, the next is dropped and counted.
      s.setAttribute('b', 3).setAttribute('c', 4);
    }, { attributeCountLimit: 4 });
    expect(data.attributes).toEqual({ kept: 1, shared: 'new', a: 2, b: 3 });
    expect(data.dropped.attributes).toBe(1);
  });

  it('writeAttributes merges within the limit, counting drops, when the span has too little room', async () => {
    const data = await oneSpan((s) => {
      s.setAttribute('kept', 1);
      writeAttributes(s, { a: 2, b: 3 });
    }, { attributeCountLimit: 2 });
    expect(data.attributes).toEqual({ kept: 1, a: 2 });
    expect(data.dropped.attributes).toBe(1);
  });

  it('writeAttributes with a fill function writes into the span and applies the count limit after it', async () => {
    const data = await oneSpan((s) => {
      s.setAttribute('kept', 1).setAttribute('shared', 'old');
      writeAttributes(s, (t) => {
        t['shared'] = 'new';
        t['a'] = 2;
        t['b'] = 3;
        t['c'] = 4;
      });
      // Full: a later attribute is dropped and counted too.
      s.setAttribute('d', 5);
    }, { attributeCountLimit: 4 });
    expect(data.attributes).toEqual({ kept: 1, shared: 'new', a: 2, b: 3 });
    expect(data.dropped.attributes).toBe(2);
  });

  it('writeAttributes with a fill function truncates to the length limit', async () => {
    const data = await oneSpan((s) => {
      writeAttributes(s, (t) => {
        t['s'] = 'abcdefgh';
      });
    }, { attributeValueLengthLimit: 4 });
    expect(data.attributes).toEqual({ s: 'abcd' });
  });

  it('truncates string values to the length limit', async () => {
    const data = await oneSpan((s) => {
      s.setAttribute('s', 'abcdefgh');
      s.setAttribute('arr', ['abcdefgh', 'ab']);
    }, { attributeValueLengthLimit: 4 });
    expect(data.attributes.s).toBe('abcd');
    expect(data.attributes.arr).toEqual(['abcd', 'ab']);
  });

  it('limits events and links and counts the drops', async () => {
    const data = await oneSpan((s) => {
      for (let i = 0; i < 4; i++) s.addEvent(`e${i}`, { i });
      for (let i = 0; i < 3; i++) s.addLink({ context: { traceId: '1'.repeat(32), spanId: `${i}`.repeat(16), traceFlags: 1 } });
    }, { eventCountLimit: 2, linkCountLimit: 1 });
    expect(data.events.map((e) => e.name)).toEqual(['e0', 'e1']);
    expect(data.links).toHaveLength(1);
    expect(data.dropped).toEqual({ attributes: 0, events: 2, links: 2 });
  });

  it('records an exception as an event with type, message and stack', async () => {
    class QuotaError extends Error {}
    const data = await oneSpan((s) => {
      s.recordException(new QuotaError('over quota'));
    });
    expect(data.events[0].name).toBe('exception');
    expect(data.events[0].attributes['exception.type']).toBe('QuotaError');
    expect(data.events[0].attributes['exception.message']).toBe('over quota');
    expect(String(data.events[0].attributes['exception.stacktrace'])).toContain('over quota');
    expect(String(data.events[0].attributes['exception.stacktrace'])).toContain('span.test.ts');
  });

  it('keeps Ok final and ignores Unset, as the OpenTelemetry API says', async () => {
    const data = await oneSpan((s) => {
      s.setStatus({ code: 'error', message: 'boom' });
      s.setStatus({ code: 'unset' });
    });
    expect(data.status).toEqual({ code: 'error', message: 'boom' });
    const ok = await oneSpan((s) => {
      s.setStatus({ code: 'ok' });
      s.setStatus({ code: 'error', message: 'late' });
    });
    expect(ok.status).toEqual({ code: 'ok' });
  });

  it('ignores calls after end() and warns once', async () => {
    resetWarnings();
    const warn = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const { tracer, exporter } = memoryTracer();
      const span = tracer.startSpan('op', { parent: null });
      span.end();
      span.setAttribute('late', 1).updateName('renamed').addEvent('e').setStatus({ code: 'error' });
      span.end();
      expect(span.isRecording()).toBe(false);
      const [trace] = await exporter.waitFor(1);
      expect(trace.spans[0].name).toBe('op');
      expect(trace.spans[0].attributes).toEqual({});
      expect(trace.spans[0].events).toEqual([]);
      const lines = warn.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('after end()'));
      expect(lines).toHaveLength(1);
      await tracer.shutdown();
    } finally {
      warn.mockRestore();
    }
  });

  it('keeps sub-millisecond wall-clock times and a non-negative duration', async () => {
    const before = Date.now();
    const data = await oneSpan(() => undefined);
    expect(data.startTime).toBeGreaterThanOrEqual(before - 1);
    expect(data.startTime).toBeLessThanOrEqual(Date.now() + 1);
    expect(data.endTime).toBeGreaterThanOrEqual(data.startTime);
    expect(Number.isInteger(data.startTime)).toBe(false);
  });

  it('is plain data when exported: JSON round-trips without internal state', async () => {
    const data = await oneSpan((s) => s.setAttribute('k', 'v'));
    const json = JSON.parse(JSON.stringify(data));
    expect(Object.keys(json).sort()).toEqual(
      ['attributes', 'dropped', 'ended', 'endTime', 'events', 'kind', 'links', 'name', 'spanId', 'startTime', 'status', 'traceFlags', 'traceId'].sort(),
    );
  });
});
