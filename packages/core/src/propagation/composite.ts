import type { SpanContext } from '../types';
import { optionError, isPlainObject } from '../internal/validate';
import type { CarrierGetter, CarrierSetter } from './carrier';
import { formatTraceparent, parseTraceparent } from './traceparent';
import { normalizeTracestate } from './tracestate';
import { formatBaggage, parseBaggage, isValidBaggageKey } from './baggage';
import type { Baggage, BaggageEntry } from './baggage';
import { B3, B3_FLAGS, B3_SAMPLED, B3_SPAN_ID, B3_TRACE_ID, extractB3Multi, formatB3, injectB3Multi, parseB3 } from './b3';
import { X_SPAN_ID, X_TRACE_ID, extractXTrace, injectXTrace } from './xtrace';
import type { RemoteContext } from './remote';

// The `propagators` option and OTEL_PROPAGATORS: which header formats are read from incoming
// requests and written to outgoing ones. Compiled once per tracer into a `Propagation`; the
// per-request work is then a loop over the configured formats and nothing else.
// https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/#general-sdk-configuration

/** The formats Tracewire speaks. */
export type PropagatorName = 'tracecontext' | 'baggage' | 'b3' | 'b3multi' | 'xtrace';

/** A format with its settings, for the `propagators` option. */
export interface PropagatorEntry {
  name: PropagatorName;
  /** Read this format from incoming requests (default true). */
  extract?: boolean;
  /** Write this format to outgoing requests (default true; false for `xtrace`). */
  inject?: boolean;
  /** `baggage` only: keys whose values are recorded on the server span as attributes of that name. */
  attributes?: string[];
}

/** `propagators`: names and entries in order, `'none'` (or `[]`) for no propagation. */
export type PropagatorsOption = Array<PropagatorName | PropagatorEntry> | 'none';

/** Every name the option and OTEL_PROPAGATORS accept, `none` included. */
export const PROPAGATOR_NAMES: readonly string[] = Object.freeze(['tracecontext', 'baggage', 'b3', 'b3multi', 'xtrace', 'none']);

/** The default, as in OpenTelemetry: W3C Trace Context and W3C Baggage. */
export const DEFAULT_PROPAGATORS: readonly PropagatorName[] = Object.freeze(['tracecontext', 'baggage'] as const);

interface Normalized {
  name: PropagatorName;
  extract: boolean;
  inject: boolean;
  attributes?: string[];
}

/** A trace-context format: how it reads and writes one context. */
interface TraceFormat {
  readonly name: PropagatorName;
  /** Lowercase header names it reads. */
  readonly fields: readonly string[];
  /** The header whose presence means "the caller set this format himself" (tracedFetch leaves it). */
  readonly owner: string;
  extract<C>(carrier: C, getter: CarrierGetter<C>): RemoteContext | null;
  inject<C>(ctx: RemoteContext, carrier: C, setter: CarrierSetter<C>): void;
}

const TRACEPARENT = 'traceparent';
const TRACESTATE = 'tracestate';
const BAGGAGE = 'baggage';

/** True when every character is printable ASCII, so the value is safe as a header value. */
function isPrintableAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

const FORMATS: Record<Exclude<PropagatorName, 'baggage'>, TraceFormat> = {
  tracecontext: {
    name: 'tracecontext',
    fields: [TRACEPARENT, TRACESTATE],
    owner: TRACEPARENT,
    extract(carrier, getter) {
      const ctx = parseTraceparent(getter.get(carrier, TRACEPARENT));
      // "If the vendor failed to parse traceparent, it MUST NOT attempt to parse tracestate"
      // (https://www.w3.org/TR/trace-context-2/#tracestate-header).
      if (ctx === null) return null;
      // "failure to parse tracestate MUST NOT affect the parsing of traceparent": an invalid
      // tracestate is dropped whole and the traceparent kept.
      const traceState = normalizeTracestate(getter.get(carrier, TRACESTATE));
      if (traceState !== undefined) ctx.traceState = traceState;
      return ctx;
    },
    inject(ctx, carrier, setter) {
      setter.set(carrier, TRACEPARENT, formatTraceparent(ctx));
      const traceState = ctx.traceState;
      // SpanContext.traceState is already normalised when it came from an extraction; the check
      // only keeps a hand-made one with control characters (CR/LF) out of a header.
      if (typeof traceState === 'string' && traceState.length > 0 && isPrintableAscii(traceState)) {
        setter.set(carrier, TRACESTATE, traceState);
      }
    },
  },
  b3: {
    name: 'b3',
    fields: [B3],
    owner: B3,
    extract: (carrier, getter) => parseB3(getter.get(carrier, B3)),
    inject: (ctx, carrier, setter) => setter.set(carrier, B3, formatB3(ctx)),
  },
  b3multi: {
    name: 'b3multi',
    fields: [B3_TRACE_ID, B3_SPAN_ID, B3_SAMPLED, B3_FLAGS],
    owner: B3_TRACE_ID,
    extract: extractB3Multi,
    inject: injectB3Multi,
  },
  xtrace: {
    name: 'xtrace',
    fields: [X_TRACE_ID, X_SPAN_ID],
    owner: X_TRACE_ID,
    extract: extractXTrace,
    inject: injectXTrace,
  },
};

/** The compiled `propagators` of one tracer. Every method is safe on any carrier; none throws. */
export interface Propagation {
  /** The configured format names, in order (for diagnostics and tests). */
  readonly names: readonly PropagatorName[];
  /** True when a Node header object (lowercase keys) has a header some extractor reads. */
  present(headers: Record<string, unknown>): boolean;
  /** The first valid context of the extracting formats, in order; `null` when none. */
  extract<C>(carrier: C, getter: CarrierGetter<C>): RemoteContext | null;
  /** The incoming baggage, when `baggage` is extracted and the carrier has some. */
  extractBaggage<C>(carrier: C, getter: CarrierGetter<C>): Map<string, BaggageEntry> | undefined;
  /**
   * Writes every injecting format for `ctx` (when given and valid) and `baggage` (when given and
   * not empty). With `has`, a format whose header the carrier already has is left as it is.
   */
  inject<C>(carrier: C, ctx: SpanContext | undefined, baggage: Baggage | undefined, setter: CarrierSetter<C>, has?: (name: string) => boolean): void;
  /** Baggage keys recorded as server span attributes (`baggage` entry `attributes`), if any. */
  readonly baggageAttributes: readonly string[] | undefined;
}

function checkEntry(value: unknown, path: string): Normalized {
  if (typeof value === 'string') {
    if (value === 'none' || !PROPAGATOR_NAMES.includes(value)) {
      throw optionError(path, `one of ${PROPAGATOR_NAMES.filter((n) => n !== 'none').join(', ')}`, value);
    }
    const name = value as PropagatorName;
    return { name, extract: true, inject: name !== 'xtrace' };
  }
  if (!isPlainObject(value)) throw optionError(path, 'a propagator name or { name, extract, inject }', value);
  for (const key of Object.keys(value)) {
    if (key !== 'name' && key !== 'extract' && key !== 'inject' && key !== 'attributes') {
      throw new TypeError(`tracewire: unknown option "${path}.${key}" (known: name, extract, inject, attributes)`);
    }
  }
  const base = checkEntry(value.name, `${path}.name`);
  for (const k of ['extract', 'inject'] as const) {
    if (value[k] !== undefined && typeof value[k] !== 'boolean') throw optionError(`${path}.${k}`, 'a boolean', value[k]);
  }
  const out: Normalized = {
    name: base.name,
    extract: value.extract === undefined ? base.extract : (value.extract as boolean),
    inject: value.inject === undefined ? base.inject : (value.inject as boolean),
  };
  if (value.attributes !== undefined) {
    if (base.name !== 'baggage') throw optionError(`${path}.attributes`, 'given only for the "baggage" propagator', value.attributes);
    const list = value.attributes;
    if (!Array.isArray(list)) throw optionError(`${path}.attributes`, 'an array of baggage keys', list);
    list.forEach((k: unknown, i) => {
      if (!isValidBaggageKey(k)) throw optionError(`${path}.attributes[${i}]`, 'a baggage key (an HTTP token)', k);
    });
    out.attributes = [...new Set(list as string[])];
  }
  return out;
}

/**
 * Validates the `propagators` option; bad configuration throws a TypeError naming the option.
 * `'none'`, `['none']` and `[]` mean no propagation at all.
 */
export function checkPropagators(value: unknown, path = 'propagators'): Normalized[] {
  if (value === 'none') return [];
  if (!Array.isArray(value)) throw optionError(path, 'an array of propagator names (tracecontext, baggage, b3, b3multi, xtrace) or "none"', value);
  if (value.length === 1 && value[0] === 'none') return [];
  const out: Normalized[] = [];
  value.forEach((item: unknown, i) => {
    if (item === 'none') throw optionError(`${path}[${i}]`, 'a propagator ("none" only alone)', item);
    const entry = checkEntry(item, `${path}[${i}]`);
    if (out.some((e) => e.name === entry.name)) throw optionError(`${path}[${i}]`, 'listed once', item);
    out.push(entry);
  });
  return out;
}

/** Compiles validated entries (from `checkPropagators`, or names from OTEL_PROPAGATORS). */
export function compilePropagation(list: ReadonlyArray<Normalized | PropagatorName>): Propagation {
  const entries = list.map((e) => (typeof e === 'string' ? checkEntry(e, 'propagators') : e));
  const extractors: TraceFormat[] = [];
  const injectors: TraceFormat[] = [];
  let baggageIn = false;
  let baggageOut = false;
  let baggageAttributes: string[] | undefined;
  const fieldSet = new Set<string>();
  for (const e of entries) {
    if (e.name === 'baggage') {
      baggageIn = e.extract;
      baggageOut = e.inject;
      if (e.extract && e.attributes !== undefined && e.attributes.length > 0) baggageAttributes = e.attributes;
      if (e.extract) fieldSet.add(BAGGAGE);
      continue;
    }
    const f = FORMATS[e.name];
    if (e.extract) {
      extractors.push(f);
      // tracestate alone is no context: only the headers that can start one make a request "carry" one.
      for (const field of f.fields) if (field !== TRACESTATE) fieldSet.add(field);
    }
    if (e.inject) injectors.push(f);
  }
  const fields = [...fieldSet];
  const nExtract = extractors.length;
  const nInject = injectors.length;
  return {
    names: Object.freeze(entries.map((e) => e.name)),
    baggageAttributes,
    present(headers) {
      for (let i = 0; i < fields.length; i++) if (headers[fields[i]] !== undefined) return true;
      return false;
    },
    extract(carrier, getter) {
      for (let i = 0; i < nExtract; i++) {
        const ctx = extractors[i].extract(carrier, getter);
        if (ctx !== null) return ctx;
      }
      return null;
    },
    extractBaggage(carrier, getter) {
      if (!baggageIn) return undefined;
      const raw = getter.get(carrier, BAGGAGE);
      return raw === undefined || raw === null ? undefined : parseBaggage(raw);
    },
    inject(carrier, ctx, baggage, setter, has) {
      if (ctx !== undefined) {
        for (let i = 0; i < nInject; i++) {
          const f = injectors[i];
          if (has !== undefined && has(f.owner)) continue;
          f.inject(ctx, carrier, setter);
        }
      }
      if (baggageOut && baggage !== undefined && baggage.size > 0 && (has === undefined || !has(BAGGAGE))) {
        const value = formatBaggage(baggage);
        if (value !== '') setter.set(carrier, BAGGAGE, value);
      }
    },
  };
}

/** The default propagation (tracecontext, baggage), compiled once for every tracer that uses it. */
export const DEFAULT_PROPAGATION: Propagation = compilePropagation(DEFAULT_PROPAGATORS);
