/**
 * Propagation: W3C Trace Context (`traceparent` / `tracestate`), W3C Baggage, B3 (single and
 * multiple headers) and the legacy `X-Trace-ID` / `X-Span-ID` headers, composed by the
 * `propagators` option; extract and inject through carrier getters and setters.
 */
export { parseTraceparent, formatTraceparent, isValidTraceId, isValidSpanId } from './traceparent';
export { parseTracestate, formatTracestate, normalizeTracestate, MAX_TRACESTATE_MEMBERS, MAX_TRACESTATE_LENGTH } from './tracestate';
export { parseBaggage, formatBaggage, isValidBaggageKey, MAX_BAGGAGE_MEMBERS, MAX_BAGGAGE_BYTES } from './baggage';
export type { Baggage, BaggageEntry, BaggageProperty } from './baggage';
export { parseB3, formatB3, extractB3Multi, injectB3Multi } from './b3';
export { extractXTrace, injectXTrace, parseXTraceId, formatXTraceId } from './xtrace';
export { checkPropagators, compilePropagation, DEFAULT_PROPAGATION, DEFAULT_PROPAGATORS, PROPAGATOR_NAMES } from './composite';
export type { Propagation, PropagatorEntry, PropagatorName, PropagatorsOption } from './composite';
export { defaultGetter, defaultSetter, extractContext, extractBaggage, injectContext, setGlobalPropagation, contextToInject } from './carrier';
export type { CarrierGetter, CarrierSetter } from './carrier';
