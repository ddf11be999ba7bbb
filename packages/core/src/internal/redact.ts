/**
 * Redaction of URLs and headers (docs/design.md "Safety defaults"). Values of sensitive query
 * parameters become REDACTED; the rest of the string is left byte for byte as it came.
 */
export const REDACTED = 'REDACTED';

/** Headers never recorded, whatever the allow-list says. */
export const SENSITIVE_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'cookie',
  'set-cookie',
  'proxy-authorization',
  'x-api-key',
  'api-key',
]);

/** Compiles a query redactor for the given lowercase parameter names (done once, at setup). */
export function createQueryRedactor(names: readonly string[]): (query: string) => string {
  const sensitive = new Set(names.map((n) => n.toLowerCase()));
  return (query: string): string => {
    if (query === '') return query;
    let out = '';
    let start = 0;
    while (start <= query.length) {
      let end = query.indexOf('&', start);
      if (end === -1) end = query.length;
      const part = query.slice(start, end);
      const eq = part.indexOf('=');
      let rawKey = eq === -1 ? part : part.slice(0, eq);
      try {
        rawKey = decodeURIComponent(rawKey.replace(/\+/g, ' '));
      } catch {
        // keep the raw key: a malformed escape cannot hide a sensitive name we match on
      }
      out += eq !== -1 && sensitive.has(rawKey.toLowerCase()) ? part.slice(0, eq + 1) + REDACTED : part;
      if (end === query.length) break;
      out += '&';
      start = end + 1;
    }
    return out;
  };
}

/**
 * `url.full` for a client span: credentials in the userinfo and sensitive query values replaced
 * (OpenTelemetry: url.full MUST NOT contain credentials).
 */
export function redactUrl(url: URL, redactQuery: (q: string) => string): string {
  let auth = '';
  if (url.username || url.password) auth = `${REDACTED}:${REDACTED}@`;
  const query = url.search.length > 1 ? `?${redactQuery(url.search.slice(1))}` : url.search;
  return `${url.protocol}//${auth}${url.host}${url.pathname}${query}${url.hash}`;
}

/** An http(s) URL inside free text (an error message or stack), up to whitespace or a quote. */
const URL_IN_TEXT = /\bhttps?:\/\/[^\s"'<>`]+/gi;

/**
 * `text` with every http(s) URL in it redacted as `redactUrl` does: error messages from fetch quote
 * the URL they refused (undici: "Request cannot be constructed from a URL that includes credentials").
 */
export function redactUrlsIn(text: string, redactQuery: (q: string) => string): string {
  if (text.indexOf('://') === -1) return text;
  return text.replace(URL_IN_TEXT, (match) => {
    try {
      return redactUrl(new URL(match), redactQuery);
    } catch {
      return REDACTED; // not parseable as a URL, but looked like one: keep nothing of it
    }
  });
}
