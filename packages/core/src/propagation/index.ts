/** W3C Trace Context propagation: `traceparent` / `tracestate` parsing, formatting, extract and inject. */
export { parseTraceparent, formatTraceparent, isValidTraceId, isValidSpanId } from './traceparent';
export { parseTracestate, formatTracestate, normalizeTracestate, MAX_TRACESTATE_MEMBERS } from './tracestate';
export { defaultGetter, defaultSetter, extractContext, injectContext } from './carrier';
export type { CarrierGetter, CarrierSetter } from './carrier';
