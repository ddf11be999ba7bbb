/** The route template of a Koa request, as @koa/router leaves it on the context. */

interface RouterLayer {
  path?: unknown;
  methods?: unknown;
}
/** What @koa/router leaves on a context. */
export interface RoutedContext {
  method?: string;
  _matchedRoute?: unknown;
  matched?: unknown;
}

function template(path: unknown): string | undefined {
  if (typeof path === 'string') return path || undefined;
  return path instanceof RegExp ? path.toString() : undefined;
}

/**
 * The route template @koa/router matched (nested prefixes included), or undefined (404).
 * `_matchedRoute` is set when a route matched, then overwritten by each layer the router runs,
 * router-level `use()` middleware included: one that answers itself (an auth 401) would leave its
 * own path there (`/api(?:\/|$)`). Then the router's matched route layers in `ctx.matched` name it.
 */
export function routeOf(ctx: RoutedContext): string | undefined {
  const last = template(ctx._matchedRoute);
  if (last === undefined || !Array.isArray(ctx.matched)) return last;
  let route: string | undefined;
  for (const layer of ctx.matched as RouterLayer[]) {
    const methods = layer && layer.methods;
    if (!Array.isArray(methods) || methods.length === 0) continue;
    const path = template(layer.path);
    if (path === last) return last;
    if (methods.includes(ctx.method)) route = path;
  }
  return route ?? last;
}
