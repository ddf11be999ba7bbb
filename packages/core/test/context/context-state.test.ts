import {
  CONTEXT_SCOPE,
  activeSpan,
  getBaggage,
  injectContext,
  isTracingSuppressed,
  readContext,
  runWithContext,
  suppressTracing,
  tracedFetch,
  withBaggage,
} from '../../src';
import type { ContextState, Span } from '../../src';
import { runWithSpan } from '../../src/context/storage';
import { memoryTracer } from '../helpers';
import { startServer } from '../fetch/server';
import { eventually } from '../../../../test-utils/http';

/** A fresh scratch object, as a bridge keeps one. */
const read = (): ContextState => readContext({ span: undefined, baggage: undefined, suppressed: false, attachment: undefined });

describe('readContext / runWithContext', () => {
  const { tracer, exporter } = memoryTracer();
  afterAll(() => tracer.shutdown());
  afterEach(() => exporter.reset());

  it('reads an empty context outside any span', () => {
    expect(read()).toEqual({ span: undefined, baggage: undefined, suppressed: false, attachment: undefined });
  });

  it('reads the active span of withSpan and fills the caller\'s object (no new one)', () => {
    const out: ContextState = { span: undefined, baggage: undefined, suppressed: false, attachment: undefined };
    tracer.withSpan('outer', (span) => {
      expect(readContext(out)).toBe(out);
      expect(out.span).toBe(span);
    });
  });

  it('runs a state marked with CONTEXT_SCOPE as it is, and copies an unmarked one', async () => {
    const span = tracer.startSpan('marked');
    const attachment = { kind: 'otel-context' };
    const marked = { [CONTEXT_SCOPE]: true, span, baggage: undefined, suppressed: false, attachment };
    await runWithContext(marked, async () => {
      await new Promise((r) => setTimeout(r, 1));
      expect(read()).toEqual({ span, baggage: undefined, suppressed: false, attachment });
      expect(activeSpan()).toBe(span);
      // withSpan inside keeps the marked state's attachment.
      tracer.withSpan('inner', () => expect(read().attachment).toBe(attachment));
      // The very object is the active context, not a copy of it: a change to it (which a caller
      // marking it promises not to make) shows inside.
      const other = { kind: 'other' };
      marked.attachment = other;
      expect(read().attachment).toBe(other);
      marked.attachment = attachment;
    });
    // A marked, suppressing state suppresses; an unmarked one with the mark false is copied.
    const suppressing = { [CONTEXT_SCOPE]: true, span: undefined, baggage: undefined, suppressed: true, attachment };
    runWithContext(suppressing, () => expect(isTracingSuppressed()).toBe(true));
    runWithContext({ [CONTEXT_SCOPE]: false, span, attachment } as Partial<ContextState>, () => expect(read()).toEqual({ span, baggage: undefined, suppressed: false, attachment }));
    span.end();
  });

  it('sets span, baggage and attachment for everything Tracewire reads inside, across await and timers', async () => {
    const span = tracer.startSpan('bridged');
    const attachment = { kind: 'otel-context' };
    const baggage = new Map([['tenant', { value: 'acme' }]]);
    const seen = await runWithContext({ span, baggage, attachment }, async () => {
      await new Promise((r) => setTimeout(r, 1));
      const child = tracer.startSpan('child');
      child.end();
      return { state: read(), active: activeSpan(), baggage: getBaggage(), child };
    });
    span.end();
    expect(seen.state).toEqual({ span, baggage, suppressed: false, attachment });
    expect(seen.active).toBe(span);
    expect(seen.baggage.get('tenant')).toEqual({ value: 'acme' });
    expect((seen.child as unknown as { parentSpanId: string }).parentSpanId).toBe(span.spanContext().spanId);
  });

  it('keeps the attachment through withSpan and withBaggage nested inside, which change span and baggage', () => {
    const outer = tracer.startSpan('outer');
    const attachment = {};
    runWithContext({ span: outer, attachment }, () => {
      tracer.withSpan('inner', (inner) => {
        const a = read();
        expect(a.span).toBe(inner);
        expect(a.attachment).toBe(attachment);
        withBaggage({ k: 'v' }, () => {
          const b = read();
          expect(b.span).toBe(inner);
          expect(b.baggage?.get('k')).toEqual({ value: 'v' });
          expect(b.attachment).toBe(attachment);
        });
      });
    });
    outer.end();
  });

  it('suppressed: no span starts, nothing is injected, the attachment stays readable', async () => {
    const outer = tracer.startSpan('outer');
    const attachment = {};
    const headers: Record<string, string> = {};
    const result = await runWithContext({ span: outer, suppressed: true, attachment }, async () => {
      await Promise.resolve();
      const inner = tracer.startSpan('suppressed');
      injectContext(headers);
      return { state: read(), suppressed: isTracingSuppressed(), active: activeSpan(), recording: inner.isRecording() };
    });
    outer.end();
    expect(result).toEqual({ state: { span: undefined, baggage: undefined, suppressed: true, attachment }, suppressed: true, active: undefined, recording: false });
    expect(headers).toEqual({});
  });

  it('reads suppressTracing as suppressed, without an attachment', () => {
    suppressTracing(() => expect(read()).toEqual({ span: undefined, baggage: undefined, suppressed: true, attachment: undefined }));
  });

  it('tracedFetch inside takes the bridged span as its parent', async () => {
    const server = await startServer((_req, res) => res.end('ok'));
    try {
      const span = tracer.startSpan('bridged');
      await runWithContext({ span }, async () => {
        const res = await tracedFetch(`${server.url}/x`);
        await res.text();
      });
      span.end();
      await tracer.forceFlush();
      const client = await eventually(() => exporter.spans().find((s) => s.kind === 'client' && s.traceId === span.spanContext().traceId));
      expect(client?.parentSpanId).toBe(span.spanContext().spanId);
      expect(server.received[0].headers.traceparent).toBe(`00-${client?.traceId}-${client?.spanId}-03`);
    } finally {
      await server.close();
    }
  });
});

describe('suppressTracing with withSpan inside', () => {
  const { tracer, exporter } = memoryTracer();
  afterAll(() => tracer.shutdown());

  it('stays suppressed: a span started under the invalid span of a suppressed withSpan records nothing', async () => {
    let inner: Span | undefined;
    suppressTracing(() =>
      tracer.withSpan('suppressed-outer', () => {
        expect(isTracingSuppressed()).toBe(true);
        inner = tracer.startSpan('would-be-new-root');
        inner.end();
      }),
    );
    expect(inner?.isRecording()).toBe(false);
    expect(inner?.spanContext().traceId).toBe('00000000000000000000000000000000');
    await tracer.forceFlush();
    expect(exporter.spans()).toHaveLength(0);
    expect(tracer.stats().startedTraces).toBe(0);
  });

  it('runWithSpan of the invalid span outside suppression changes nothing', () => {
    const outer = tracer.startSpan('outer');
    runWithSpan(outer, () => {
      const invalid = suppressTracing(() => tracer.startSpan('x'));
      runWithSpan(invalid, () => expect(activeSpan()).toBe(outer));
    });
    outer.end();
  });
});
