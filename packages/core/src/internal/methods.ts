/**
 * HTTP request methods the semantic conventions name (`http.request.method`); any other is
 * recorded as `_OTHER` with `http.request.method_original`. Shared by server spans and tracedFetch.
 */
export const KNOWN_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY']);
