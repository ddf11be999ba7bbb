/**
 * `propagateTo`: which destinations receive the trace context (every configured format) and the
 * baggage from tracedFetch. Compiled once into one predicate at setup; undefined means "every
 * destination" (the default). `injectOutgoing` writes them.
 */
import { optionError } from '../internal/validate';
import { guardPredicate } from '../internal/guard';
import type { Span } from '../types';
import { currentBaggage } from '../context/storage';
import { contextToInject } from '../propagation/carrier';
import type { CarrierSetter } from '../propagation/carrier';
import type { Propagation } from '../propagation/composite';

/** Hosts (`api.internal`, `api.internal:8443`), host globs (`*.internal`), RegExps or a predicate. */
export type PropagateToOption = Array<string | RegExp> | ((url: URL) => boolean);

/** A compiled `propagateTo`; never throws. */
export type PropagateMatcher = (url: URL) => boolean;

// `*` matches any run of characters, dots included (`*.internal` covers `a.b.internal`), as in
// Datadog's and Sentry's allow-lists; a host glob is about names, not path segments.
function hostGlob(glob: string): RegExp {
  let re = '';
  for (const c of glob) re += c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${re}$`, 'i');
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * A host pattern matches the URL's hostname, or `hostname:port` when the pattern names a port
 * (an IPv6 literal is written in brackets, with or without a port: `[::1]`, `[::1]:8080`).
 */
function compileHost(pattern: string): (url: URL) => boolean {
  const p = pattern.toLowerCase();
  const close = p.lastIndexOf(']');
  const colon = p.lastIndexOf(':');
  // `host:port`, `[v6]:port`; a bare IPv6 literal has several colons and no port.
  const withPort = p.startsWith('[') ? colon > close : colon !== -1 && p.indexOf(':') === colon;
  const host = stripBrackets(withPort ? p.slice(0, colon) : p);
  const port = withPort ? p.slice(colon + 1) : undefined;
  const glob = host.includes('*') || host.includes('?') ? hostGlob(host) : undefined;
  return (url) => {
    if (port !== undefined) {
      const urlPort = url.port || (url.protocol === 'https:' ? '443' : url.protocol === 'http:' ? '80' : '');
      if (urlPort !== port) return false;
    }
    const h = stripBrackets(url.hostname);
    return glob ? glob.test(h) : h === host;
  };
}

/** Compiles `propagateTo`; bad configuration throws a TypeError naming the option. */
export function compilePropagateTo(option: PropagateToOption | undefined, name = 'propagateTo'): PropagateMatcher | undefined {
  if (option === undefined) return undefined;
  // A throwing predicate means "do not propagate" (the safe answer), reported once.
  if (typeof option === 'function') return guardPredicate(option, name, false);
  if (!Array.isArray(option)) throw optionError(name, 'an array of hosts, globs and RegExps, or a function (url) => boolean', option);
  const tests: Array<(url: URL) => boolean> = option.map((item: unknown, i) => {
    if (typeof item === 'string' && item !== '') return compileHost(item);
    if (item instanceof RegExp) {
      // A RegExp is tested against the whole URL; lastIndex is reset so /g and /y stay stateless.
      return (url: URL) => {
        item.lastIndex = 0;
        return item.test(url.href);
      };
    }
    throw optionError(`${name}[${i}]`, 'a non-empty string or a RegExp', item);
  });
  if (tests.length === 0) return () => false;
  return (url) => {
    for (let i = 0; i < tests.length; i++) if (tests[i](url)) return true;
    return false;
  };
}

/**
 * Writes the call's context in every format the tracer injects, and the active baggage, into the
 * outgoing headers (a copy tracedFetch made). A format whose header the caller set is theirs (a
 * proxy forwarding its caller's context) and left as it is; so is a `baggage` header the caller set.
 * Never throws.
 */
export function injectOutgoing(propagation: Propagation, headers: Headers, span: Span): void {
  try {
    propagation.inject(headers, contextToInject(span), currentBaggage(), headersSetter, (name) => headers.has(name));
  } catch {
    // Propagation is best effort: the call goes out without it rather than fail.
  }
}

const headersSetter: CarrierSetter<Headers> = {
  set(headers, key, value) {
    headers.set(key, value);
  },
};
