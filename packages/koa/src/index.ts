/**
 * @tracewire/koa — `app.use(tracingMiddleware())` for Koa 2 and 3, with @koa/router.
 * Only what is Koa-specific lives here: the route template (route.ts) and where errors flow (the
 * rejection of `next()`). Everything else, the end at the response's `close` included, is core's
 * ServerInstrumentation.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServerInstrumentation, getTracer } from '@tracewire/core';
import type { ServerRequestState, ServerTracingOptions } from '@tracewire/core';
import { routeOf } from './route';
import type { RoutedContext } from './route';

/** Options of `tracingMiddleware` (README.md "Adapter options"). */
export type KoaTracingOptions = ServerTracingOptions;

/** What the adapter reads from a Koa context; structural, so Koa 2 and Koa 3 contexts both fit. */
export interface KoaContext {
  req: IncomingMessage;
  res: ServerResponse;
}

/** A Koa middleware. */
export type KoaMiddleware<C = any> = (ctx: C, next: () => Promise<any>) => any;

const STATE = Symbol('tracewire.koa.state');
type Tracked = KoaContext & RoutedContext & { [STATE]?: ServerRequestState };

/** Tracing middleware: register it first, `app.use(tracingMiddleware())`. */
export function tracingMiddleware(options?: KoaTracingOptions): (ctx: any, next: () => Promise<any>) => Promise<void> {
  // The route is read when the response is over: Koa writes or pipes the body after the
  // middleware chain returns.
  const inst = createServerInstrumentation<Tracked>(options, { name: 'koa', route: routeOf });

  return function tracewireMiddleware(ctx: Tracked, next: () => Promise<any>): Promise<void> {
    const handle = inst.start(ctx.req, ctx.res, ctx);
    if (!handle) return next();
    ctx[STATE] = handle;
    // koa-compose's next() always returns a promise. No async function here: every promise a
    // request creates also costs AsyncLocalStorage's propagation hook.
    const done = inst.run(handle, next);
    if (!handle.needsEnd) return done;
    return done.then(undefined, (err: unknown) => {
      // Recorded, then re-thrown untouched so ctx.onerror and the app's 'error' event see it.
      inst.error(handle, err);
      throw err;
    });
  };
}

/**
 * Wraps a middleware in a child span named `name`: `router.get('/x', traced('load x', mw))`.
 * The span covers what the middleware awaits, `next()` included (Koa's onion); a throw or a
 * rejection is recorded on it and passed on unchanged.
 */
export function traced<M extends KoaMiddleware>(name: string, middleware: M): M {
  if (typeof name !== 'string' || !name) throw new TypeError('tracewire: traced(name, middleware) needs a non-empty name');
  if (typeof middleware !== 'function') throw new TypeError('tracewire: traced(name, middleware) needs a middleware function');
  return function tracedMiddleware(ctx: Tracked, next: () => Promise<any>) {
    const tracer = (ctx && ctx[STATE]?.tracer) || getTracer();
    return tracer.withSpan(name, () => middleware(ctx, next));
  } as M;
}
