import { activeSpan, createTracedFetch, isTracedFetchSpan } from '../../src';
import type { Span } from '../../src';
import { memoryTracer } from '../helpers';
import { startServer } from './server';

describe('isTracedFetchSpan', () => {
  it('is true for the active span inside the inner fetch of a call, sampled or not, and false after it', async () => {
    const server = await startServer();
    try {
      for (const sampler of [1, 0]) {
        const { tracer } = memoryTracer({ sampler });
        const seen: Array<{ span: Span | undefined; inFlight: boolean; recording: boolean }> = [];
        const inner = (input: string | URL | Request, init?: RequestInit) => {
          const span = activeSpan();
          seen.push({ span, inFlight: isTracedFetchSpan(span), recording: span?.isRecording() === true });
          return fetch(input, init);
        };
        const traced = createTracedFetch(inner, { tracer });
        await tracer.withSpan('parent', async (parent) => {
          expect(isTracedFetchSpan(parent)).toBe(false);
          const res = await traced(`${server.url}/x`);
          await res.text();
        });
        expect(seen).toHaveLength(1);
        expect(seen[0].inFlight).toBe(true);
        expect(seen[0].recording).toBe(sampler === 1);
        expect(seen[0].span?.spanContext().spanId).toMatch(/^[0-9a-f]{16}$/);
        expect(isTracedFetchSpan(seen[0].span)).toBe(false);
        await tracer.shutdown();
      }
    } finally {
      await server.close();
    }
  });

  it('is false for no span and for spans that are not a call', () => {
    const { tracer } = memoryTracer();
    const span = tracer.startSpan('GET', { kind: 'client' });
    expect(isTracedFetchSpan(undefined)).toBe(false);
    expect(isTracedFetchSpan(span)).toBe(false);
    span.end();
    return tracer.shutdown();
  });
});
