import { getTracer, recordError } from '@tracewire/core';
import { STATE } from './app';
import type { ErrorHandler, Next, Tracked } from './app';

type Handler = (req: any, res: any, next: any) => unknown;

/**
 * Wraps a route handler in a child span named `name`: `app.get('/x', traced('load x', handler))`.
 * A throw, a rejection or `next(err)` is recorded on the child span and passed on unchanged.
 */
export function traced<H extends Handler | ErrorHandler>(name: string, handler: H): H {
  if (typeof name !== 'string' || !name) throw new TypeError('tracewire: traced(name, handler) needs a non-empty name');
  if (typeof handler !== 'function') throw new TypeError('tracewire: traced(name, handler) needs a handler function');
  const run = (req: Tracked, args: unknown[], nextIndex: number): unknown => {
    const tracer = req[STATE]?.tracer ?? getTracer();
    return tracer.withSpan(name, (span) => {
      const next = args[nextIndex] as Next;
      args[nextIndex] = (err?: unknown) => {
        if (err && err !== 'route' && err !== 'router') recordError(span, err);
        next(err);
      };
      return (handler as (...a: unknown[]) => unknown)(...args);
    });
  };
  if (handler.length === 4) {
    return function tracedErrorHandler(err: unknown, req: Tracked, res: unknown, next: Next) {
      return run(req, [err, req, res, next], 3);
    } as H;
  }
  return function tracedHandler(req: Tracked, res: unknown, next: Next) {
    return run(req, [req, res, next], 2);
  } as H;
}
