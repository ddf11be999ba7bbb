/**
 * What only Express knows: the route template a request matched, and where in an app's stack its
 * errors can be seen. The middleware (index.ts) uses these; core does everything else.
 */
import type { IncomingMessage } from 'node:http';
import type { ServerRequestState } from '@tracewire/core';

export type Next = (err?: unknown) => void;
export type ErrorHandler = (err: any, req: any, res: any, next: any) => unknown;
interface Layer {
  handle?: ((...args: unknown[]) => unknown) & { stack?: Layer[] };
  route?: RouteLike;
  constructor: new (path: string, options: object, fn: ErrorHandler) => Layer;
}
export interface ExpressApp {
  _router?: { stack?: Layer[] };
  router?: { stack?: Layer[] };
}
interface RouteLike {
  path?: unknown;
  dispatch?: (...args: unknown[]) => unknown;
}

export const STATE = Symbol('tracewire.express.state');
export const MATCHED = Symbol('tracewire.express.matched');
const DISPATCH_PATCHED = Symbol.for('tracewire.express.dispatch');

/** A request as the adapter sees it: Express's fields, and the adapter's state under Symbols. */
export type Tracked = IncomingMessage & { app?: ExpressApp; baseUrl?: string; route?: { path?: unknown }; [STATE]?: ServerRequestState; [MATCHED]?: string };

function routePath(path: unknown): string | undefined {
  if (typeof path === 'string') return path;
  if (path instanceof RegExp) return path.toString();
  if (Array.isArray(path)) return path.map(String).join(',');
  return undefined;
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

function patchRouteDispatch(stack: Layer[] | undefined, depth = 0): boolean {
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
 * The route template of a request, read when the response is over: the one taken at dispatch,
 * else (a route whose dispatch Express 4 bound before the patch) `req.route`, right for responses
 * the handler sent while `req.baseUrl` was still the mount path.
 */
export function routeOf(req: Tracked): string | undefined {
  const matched = req[MATCHED];
  if (matched !== undefined) return matched;
  const p = req.route ? routePath(req.route.path) : undefined;
  return p === undefined ? undefined : (req.baseUrl || '') + p;
}

/** Wraps `Route.prototype.dispatch` of the Express copy this package resolves, if any. */
export function patchResolvableExpress(): void {
  try {
    const express = require('express') as { Route?: { prototype: RouteLike } };
    if (express && express.Route) patchRoutePrototype(express.Route.prototype);
  } catch {
    // no resolvable copy: the app's own copy is patched on its first request
  }
}

const RECORDER = Symbol('tracewire.express.recorder');

/**
 * Readies an app on its first traced requests: an error-handling layer that hands each error to
 * `record` and passes the very same error on goes before the app's first error handler (or last),
 * so it sees the errors they see, and the app's routes report their template. Returns whether the
 * app is ready (false until it has a route: ask again).
 */
export function prepareApp(app: ExpressApp & { [RECORDER]?: true }, record: (req: Tracked, err: unknown) => void): boolean {
  const stack = (app._router ?? app.router)?.stack;
  if (!Array.isArray(stack) || stack.length === 0) return false;
  if (!app[RECORDER]) {
    app[RECORDER] = true;
    const recorder: ErrorHandler = function tracewireErrorRecorder(err, req: Tracked, _res, next: Next) {
      record(req, err);
      next(err);
    };
    const layer = new stack[0].constructor('/', { sensitive: false, strict: false, end: false }, recorder);
    const firstErrorHandler = stack.findIndex((l) => typeof l.handle === 'function' && l.handle.length === 4);
    stack.splice(firstErrorHandler === -1 ? stack.length : firstErrorHandler, 0, layer);
  }
  return patchRouteDispatch(stack);
}
