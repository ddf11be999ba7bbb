import { AsyncLocalStorage } from 'node:async_hooks';
import { currentSpan, isTracingSuppressed, runWithSpan, suppressTracing } from '../../src/context/storage';
import { memoryTracer } from '../helpers';

/**
 * The context a handler relies on, on every supported Node: Node 24+ carries it with
 * AsyncContextFrame, Node 20 and 22 with async_hooks; both must give the same answers.
 */
describe('context storage', () => {
  const { tracer } = memoryTracer();
  afterAll(() => tracer.shutdown());

  async function inSpan(fn: () => Promise<unknown>): Promise<{ span: unknown; seen: unknown }> {
    const span = tracer.startSpan('outer');
    const seen = await runWithSpan(span, fn);
    span.end();
    return { span, seen };
  }

  it('follows timers, immediates, microtasks and awaits', async () => {
    const { span, seen } = await inSpan(async () => {
      const out: unknown[] = [];
      await new Promise<void>((r) => setTimeout(() => (out.push(currentSpan()), r()), 1));
      await new Promise<void>((r) => setImmediate(() => (out.push(currentSpan()), r())));
      await new Promise<void>((r) => queueMicrotask(() => (out.push(currentSpan()), r())));
      await Promise.resolve();
      out.push(currentSpan());
      return out;
    });
    expect(seen).toEqual([span, span, span, span]);
  });

  it('is the caller\'s inside an async generator iterated under a span', async () => {
    async function* tokens() {
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 1));
        yield currentSpan();
      }
    }
    const { span, seen } = await inSpan(async () => {
      const out: unknown[] = [];
      for await (const s of tokens()) out.push(s);
      return out;
    });
    expect(seen).toEqual([span, span, span]);
  });

  it('reaches the pull of a ReadableStream read under the span that created it', async () => {
    const { span, seen } = await inSpan(async () => {
      const pulled: unknown[] = [];
      let n = 0;
      const stream = new ReadableStream<number>({
        async pull(controller) {
          await new Promise((r) => setTimeout(r, 1));
          pulled.push(currentSpan());
          if (++n > 2) controller.close();
          else controller.enqueue(n);
        },
      });
      for await (const chunk of stream as unknown as AsyncIterable<number>) void chunk;
      return pulled;
    });
    expect((seen as unknown[]).length).toBe(3);
    for (const s of seen as unknown[]) expect(s).toBe(span);
  });

  it('does not leak out of run into the code after it', async () => {
    const span = tracer.startSpan('leak-check');
    runWithSpan(span, () => undefined);
    await new Promise((r) => setTimeout(r, 1));
    expect(currentSpan()).toBeUndefined();
    span.end();
  });

  it('suppression hides the active span and reaches async work inside it', async () => {
    const span = tracer.startSpan('outer');
    const seen = await runWithSpan(span, () =>
      suppressTracing(async () => {
        await new Promise((r) => setTimeout(r, 1));
        return { span: currentSpan(), suppressed: isTracingSuppressed() };
      }),
    );
    expect(seen).toEqual({ span: undefined, suppressed: true });
    expect(isTracingSuppressed()).toBe(false);
    span.end();
  });

  it('puts the outer span back when the function returns or throws, nested or not', () => {
    const a = tracer.startSpan('a');
    const b = tracer.startSpan('b');
    const seen: unknown[] = [];
    runWithSpan(a, () => {
      seen.push(currentSpan());
      expect(() =>
        runWithSpan(b, () => {
          seen.push(currentSpan());
          throw new Error('boom');
        }),
      ).toThrow('boom');
      seen.push(currentSpan());
      seen.push(runWithSpan(b, () => currentSpan()));
      seen.push(currentSpan());
    });
    expect(seen).toEqual([a, b, a, b, a]);
    expect(currentSpan()).toBeUndefined();
    a.end();
    b.end();
  });

  it("keeps another AsyncLocalStorage's value inside the span's context, then and after awaits, and around it", async () => {
    const other = new AsyncLocalStorage<string>();
    const span = tracer.startSpan('with-other');
    const seen = await other.run('theirs', async () => {
      const inside = await runWithSpan(span, async () => {
        const first = [other.getStore(), currentSpan()];
        await new Promise((r) => setImmediate(r));
        return [first, [other.getStore(), currentSpan()]];
      });
      return { inside, after: [other.getStore(), currentSpan()] };
    });
    expect(seen).toEqual({ inside: [['theirs', span], ['theirs', span]], after: ['theirs', undefined] });
    span.end();
  });

  it('gives work started inside each of many interleaved runs its own span', async () => {
    const spans = Array.from({ length: 20 }, (_, i) => tracer.startSpan(`s${i}`));
    const seen = await Promise.all(
      spans.map((s, i) =>
        runWithSpan(s, async () => {
          await new Promise((r) => setTimeout(r, 20 - i));
          return currentSpan();
        }),
      ),
    );
    expect(seen).toEqual(spans);
    for (const s of spans) s.end();
  });
});
