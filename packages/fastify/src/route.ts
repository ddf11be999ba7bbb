/**
 * What only Fastify knows: the route template (`request.routeOptions.url`, register prefixes
 * included) and a route's own tracing settings (`config.tracing`).
 */
import type { FastifyRequest } from 'fastify';

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

/** The route template, prefixes included; undefined when no route matched (404). */
export function routeOf(request: FastifyRequest): string | undefined {
  const r = request as unknown as LegacyRequest;
  return r.routeOptions ? r.routeOptions.url : r.routerPath;
}

/** The route's own `config.tracing`, when it has one. */
export function routeConfigOf(request: FastifyRequest): RouteTracingConfig | undefined {
  const r = request as unknown as LegacyRequest;
  const config = r.routeOptions ? r.routeOptions.config : r.routeConfig;
  const tracing = config && config.tracing;
  return tracing && typeof tracing === 'object' ? tracing : undefined;
}
