/** Outbound HTTP: `tracedFetch`, `createTracedFetch`, `instrumentGlobalFetch`. */
export { tracedFetch, createTracedFetch, instrumentGlobalFetch, isTracedFetchSpan, DEFAULT_BODY_TIMEOUT_MS } from './fetch';
export type { FetchFunction, TracedFetchOptions } from './fetch';
export type { PropagateToOption } from './propagate';
