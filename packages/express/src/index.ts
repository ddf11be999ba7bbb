/**
 * @tracewire/express — `app.use(tracingMiddleware())` for Express 4 and 5.
 * Only what is Express-specific lives here: the route template and where handler errors flow.
 * Everything else, the finish at the response's `close` included, is core's ServerInstrumentation.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServerInstrumentation, getTracer, recordError } from '@tracewire/core';
import type { ServerRequestState, ServerTracingOptions } from '@tracewire/core';

/** Options of `tracingMiddleware` (README.md "Adapter options"). */
export type ExpressTracingOptions = ServerTracingOptions;

type Req = IncomingMessage & { app?: ExpressApp; baseUrl?: string; route?: { path?: unknown } };
type Next = (err?: unknown) => void;
type Handler = (req: any, res: any, next: any) => unknown;
type ErrorHandler = (err: any, req: any, res: any, next: any) => unknown;
interface Layer {
  handle?: (...args: unknown[]) => unknown;
  constructor: new (path: string, options: object, fn: ErrorHandler) => Layer;
}
interface ExpressApp {
  _router?: { stack?: Layer[] };
  router?: { stack?: Layer[] };
}

const STATE = Symbol('tracewire.express.state');
const MATCHED = Symbol('tracewire.express.matched');
type Tracked = Req & { [STATE]?: ServerRequestState; [MATCHED]?: string };

function routePath(path: unknown): string | undefined {
  if (typeof path === 'string') return path;
  if (path instanceof RegExp) return path.toString();
  if (Array.isArray(path)) return path.map(String).join(',');
  return undefined;
}

const DISPATCH_PATCHED = Symbol.for('tracewire.express.dispatch');
interface RouteLike {
  path?: unknown;
  dispatch?: (...args: unknown[]) => unknown;
}
interface StackLayer extends Layer {
  route?: RouteLike;
  handle?: ((...args: unknown[]) => unknown) & { stack?: StackLayer[] };
}

/**
 * The route template is taken when Express dispatches to the matched route: at that instant
 * `req.baseUrl` is the mount path of the router holding it. By the time the response finishes (and
 * always after an error unwinds the routers) `baseUrl` has been restored, so reading late would
 * lose the mount path. `Route.prototype.dispatch` of the app's own Express copy is wrapped once;
 * a per-request accessor on `req` cost ~15 µs/req (bench/http).
 */
function patchRoutePrototype(proto: RouteLike & { [DISPATCH_PATCHED]?: boolean }): void {
  if (proto[DISPATCH_PATCHED] || typeof proto.dispatch !== 'function') return;
  const dispatch = proto.dispatch;
  proto[DISPATCH_PATCHED] = true;
  proto.dispatch = function tracewireDispatch(this: RouteLike, ...args: unknown[]) {
    const req = args[0] as Tracked;
    if (req[STATE] !== undefined) {
      const p = routePath(this.path);
      if (p !== undefined) req[MATCHED] = (req.baseUrl || '') + p;
    }
    return dispatch.apply(this, args);
  };
}

function patchRouteDispatch(stack: StackLayer[] | undefined, depth = 0): boolean {
  if (!Array.isArray(stack) || depth > 8) return false;
  for (const layer of stack) {
    const route = layer.route;
    if (route && typeof route.dispatch === 'function') {
      patchRoutePrototype(Object.getPrototypeOf(route) as RouteLike);
      return true;
    }
    if (layer.handle && patchRouteDispatch(layer.handle.stack, depth + 1)) return true;
  }
  return false;
}

/**
 * The route read at finish, for a route whose dispatch was bound before the patch (Express 4
 * binds `route.dispatch` when the route is created): right for responses sent by the handler,
 * while `req.baseUrl` is still the mount path.
 */
function lateRoute(req: Tracked): string | undefined {
  const p = req.route ? routePath(req.route.path) : undefined;
  return p === undefined ? undefined : (req.baseUrl || '') + p;
}

/** Wraps `Route.prototype.dispatch` of the Express copy this package resolves, if any. */
function patchResolvableExpress(): void {
  try {
    const express = require('express') as { Route?: { prototype: RouteLike } };
    if (express && express.Route) patchRoutePrototype(express.Route.prototype);
  } catch {
    // no resolvable copy: the app's own copy is patched on its first request
  }
}

/** Tracing middleware: register it first, `app.use(tracingMiddleware())`. */
export function tracingMiddleware(options?: ExpressTracingOptions): (req: any, res: any, next: Next) => void {
  const inst = createServerInstrumentation<Tracked>(options, { name: 'express', route: (req) => req[MATCHED] ?? lateRoute(req) });
  patchResolvableExpress();

  // An error-handling layer that records the error on the root span and passes the very same
  // error on. Placed before the app's first error handler (or last), so it sees what they see.
  const recorder: ErrorHandler = function tracewireErrorRecorder(err, req: Tracked, _res, next: Next) {
    inst.error(req[STATE], err);
    next(err);
  };
  const recorded = new WeakSet<object>();
  // Apps whose recorder is in place and whose routes report their template: nothing more to do.
  const ready = new WeakSet<object>();
  function prepareApp(app: ExpressApp): void {
    const stack = (app._router ?? app.router)?.stack;
    if (!Array.isArray(stack) || stack.length === 0) return;
    if (!recorded.has(app)) {
      recorded.add(app);
      const LayerCtor = stack[0].constructor;
      const layer = new LayerCtor('/', { sensitive: false, strict: false, end: false }, recorder);
      const firstErrorHandler = stack.findIndex((l) => typeof l.handle === 'function' && l.handle.length === 4);
      stack.splice(firstErrorHandler === -1 ? stack.length : firstErrorHandler, 0, layer);
    }
    // Until the app has a route, look again on the next request.
    if (patchRouteDispatch(stack as StackLayer[])) ready.add(app);
  }

  return function tracewireMiddleware(req: Tracked, res: ServerResponse, next: Next): void {
    const handle = inst.start(req, res, req);
    if (!handle) return next();
    req[STATE] = handle;
    // Unsampled requests too when an observer (metrics) waits for their outcome.
    if (handle.needsEnd && req.app && !ready.has(req.app)) prepareApp(req.app);
    inst.run(handle, next);
  };
}

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
