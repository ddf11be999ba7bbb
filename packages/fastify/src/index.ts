/**
 * @tracewire/fastify — `await app.register(tracingPlugin, options?)` for Fastify 4 and 5.
 * Only what is Fastify-specific lives here: the route template and per-route config (route.ts)
 * and where handler errors flow (`onError`). Everything else, the end at the raw response's
 * `close` included, is core's ServerInstrumentation.
 */
import type { ServerResponse } from 'node:http';
import fp from 'fastify-plugin';
import type { FastifyPluginCallback, FastifyRequest } from 'fastify';
import { createServerInstrumentation } from '@tracewire/core';
import type { ServerInstrumentation, ServerRequestState, ServerTracingOptions } from '@tracewire/core';
import { routeConfigOf, routeOf } from './route';

export type { RouteTracingConfig } from './route';

/** Options of `tracingPlugin` (README.md "Adapter options"). */
export type FastifyTracingOptions = ServerTracingOptions;

// Per-request state under a Symbol declared with decorateRequest, so every request object keeps
// Fastify's fixed shape; a WeakMap here cost ~5 µs/req in GC (ephemerons) under load.
const STATE = Symbol('tracewire.fastify.state');
type Tracked = FastifyRequest & { [STATE]?: ServerRequestState | null };

function startRequest(inst: ServerInstrumentation<FastifyRequest>, request: FastifyRequest, res: ServerResponse): ServerRequestState | undefined {
  const route = routeConfigOf(request);
  // A route's settings are known only after routing: `ignore` then propagates context only.
  const handle = inst.start(request.raw, res, request, route === undefined ? undefined : { ignore: route.ignore === true, spanName: typeof route.spanName === 'string' && route.spanName ? route.spanName : undefined });
  if (handle) (request as Tracked)[STATE] = handle;
  return handle;
}

const plugin: FastifyPluginCallback<FastifyTracingOptions> = (app, options, done) => {
  let inst: ServerInstrumentation<FastifyRequest>;
  try {
    // The span ends on the raw response's `close`, after the last byte of a streamed body, not at
    // onSend/onResponse time; the route template is read then.
    inst = createServerInstrumentation<FastifyRequest>(options, { name: 'fastify', route: routeOf });
  } catch (err) {
    // Bad options: the TypeError reaches `await app.register()` (avvio loses a synchronous throw).
    return done(err as Error);
  }

  app.decorateRequest(STATE as unknown as string, null);
  app.addHook('onRequest', function tracewireOnRequest(request, reply, next) {
    let state: ServerRequestState | undefined;
    try {
      state = startRequest(inst, request, reply.raw);
    } catch (err) {
      inst.internalError(err);
      state = undefined;
    }
    // The rest of the lifecycle (hooks, body parsing, handler) runs with the server span active.
    inst.run(state, next);
  });

  // Called with the very error the app's error handler receives; it is only recorded here.
  app.addHook('onError', function tracewireOnError(request, _reply, error, next) {
    inst.error((request as Tracked)[STATE] ?? undefined, error);
    next();
  });

  done();
};

/** Traces every route of the Fastify instance: `await app.register(tracingPlugin, options?)`. */
export const tracingPlugin = fp(plugin, { fastify: '4.x || 5.x', name: '@tracewire/fastify' });
