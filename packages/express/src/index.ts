/**
 * @tracewire/express — `app.use(tracingMiddleware())` for Express 4 and 5.
 * Only what is Express-specific lives here (app.ts: the route template and where handler errors
 * flow). Everything else, the end at the response's `close` included, is core's
 * ServerInstrumentation.
 */
import type { ServerResponse } from 'node:http';
import { createServerInstrumentation } from '@tracewire/core';
import type { ServerTracingOptions } from '@tracewire/core';
import { MATCHED, STATE, patchResolvableExpress, prepareApp, routeOf } from './app';
import type { Next, Tracked } from './app';

export { traced } from './traced';

/** Options of `tracingMiddleware` (README.md "Adapter options"). */
export type ExpressTracingOptions = ServerTracingOptions;

/** Tracing middleware: register it first, `app.use(tracingMiddleware())`. */
export function tracingMiddleware(options?: ExpressTracingOptions): (req: any, res: any, next: Next) => void {
  // Express replaces the prototypes of req and res on every request: the symbols set on them are
  // reserved before it does (a cost on Node 20 and 22 otherwise; core's http/slots.ts).
  const inst = createServerInstrumentation<Tracked>(options, { name: 'express', route: routeOf, requestSlots: [STATE, MATCHED] });
  patchResolvableExpress();

  // Apps whose error recorder is in place and whose routes report their template.
  const ready = new WeakSet<object>();
  const record = (req: Tracked, err: unknown): void => inst.error(req[STATE], err);

  return function tracewireMiddleware(req: Tracked, res: ServerResponse, next: Next): void {
    const handle = inst.start(req, res, req);
    if (!handle) return next();
    req[STATE] = handle;
    // Unsampled requests too when an observer (metrics) waits for their outcome.
    if (handle.needsEnd && req.app && !ready.has(req.app) && prepareApp(req.app, record)) ready.add(req.app);
    inst.run(handle, next);
  };
}
