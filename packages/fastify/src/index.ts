/**
 * @tracewire/fastify — `await app.register(tracingPlugin, options?)` for Fastify 4 and 5.
 * Only what is Fastify-specific lives here: the route template (`request.routeOptions.url`, which
 * includes register prefixes), per-route config, the finish hook (the raw response's `close`) and
 * where handler errors flow (`onError`). Everything else is core's ServerInstrumentation.
 */
import type { ServerResponse } from 'node:http';
import fp from 'fastify-plugin';
import type { FastifyPluginCallback, FastifyRequest } from 'fastify';
import { createServerInstrumentation } from '@tracewire/core';
import type { ServerInstrumentation, ServerRequestState, ServerTracingOptions } from '@tracewire/core';

/** Options of `tracingPlugin` (README.md "Adapter options"). */
export type FastifyTracingOptions = ServerTracingOptions;

/** Per-route settings: `app.get('/x', { config: { tracing: { spanName, ignore } } }, handler)`. */
export interface RouteTracingConfig {
  /** A fixed name for this route's server span (wins over the plugin's `spanName`). */
  spanName?: string;
  /** Record no span for this route; an incoming context still propagates. */
  ignore?: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    tracing?: RouteTracingConfig;
  }
}

// Fastify < 4.10 has no `routeOptions`; its older names are read only then (they warn on newer 4.x).
interface LegacyRequest {
  routeOptions?: { url?: string; config?: { tracing?: RouteTracingConfig } };
  routerPath?: string;
  routeConfig?: { tracing?: RouteTracingConfig };
}

// Per-request state under a Symbol declared with decorateRequest, so every request object keeps
// Fastify's fixed shape; a WeakMap here cost ~5 µs/req in GC (ephemerons) under load.
const STATE = Symbol('tracewire.fastify.state');
type Tracked = FastifyRequest & { [STATE]?: ServerRequestState | null };

/** The route template, prefixes included; undefined when no route matched (404). */
function routeOf(request: FastifyRequest): string | undefined {
  const r = request as unknown as LegacyRequest;
  return r.routeOptions ? r.routeOptions.url : r.routerPath;
}

function routeConfigOf(request: FastifyRequest): RouteTracingConfig | undefined {
  const r = request as unknown as LegacyRequest;
  const config = r.routeOptions ? r.routeOptions.config : r.routeConfig;
  const tracing = config && config.tracing;
  return tracing && typeof tracing === 'object' ? tracing : undefined;
}

function startRequest(inst: ServerInstrumentation, request: FastifyRequest, res: ServerResponse): ServerRequestState | undefined {
  const route = routeConfigOf(request);
  // A route's `ignore` is known only after routing: passed to start, it propagates context only.
  const state = inst.start(request.raw, res, route !== undefined && route.ignore === true);
  if (!state) return undefined;
  (request as Tracked)[STATE] = state;
  // Unsampled requests too when an observer (metrics) waits for their outcome.
  if (!state.needsFinish) return state;
  if (route && typeof route.spanName === 'string' && route.spanName) state.name = route.spanName;
  // The span ends on the response's `close`, after the last byte of a streamed body, not at
  // onSend/onResponse time; the route template is read then (docs/design.md "The path of one request").
  const finish = () => inst.finish(state, routeOf(request));
  // An earlier async onRequest hook may have let the client go already: `close` is then past.
  if (res.closed) finish();
  else res.once('close', finish);
  return state;
}

const plugin: FastifyPluginCallback<FastifyTracingOptions> = (app, options, done) => {
  let inst: ServerInstrumentation;
  try {
    inst = createServerInstrumentation(options, 'fastify');
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
