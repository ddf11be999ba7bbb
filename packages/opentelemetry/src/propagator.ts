/**
 * The TextMapPropagator registered by `registerOpenTelemetry`: Tracewire's own propagation (the
 * global tracer's `propagators` / `OTEL_PROPAGATORS`; by default W3C `traceparent`, `tracestate`
 * and `baggage`), so a header an OpenTelemetry instrumentation writes is the header `tracedFetch`
 * would write, and one it reads is read as Tracewire's server spans read it.
 */
import { propagation, trace } from '@opentelemetry/api';
import type * as otel from '@opentelemetry/api';
import { extractBaggage, extractContext, injectContext, readContext, runWithContext } from '@tracewire/core';
import type { ContextState, SpanContext } from '@tracewire/core';
import { PassThroughSpan, toOtelSpanContext } from './span';
import { SPAN_KEY, stateOf } from './context';
import { otelBaggageOf } from './baggage';

/** Every header Tracewire's formats can write (W3C, baggage, B3 single and multi, the legacy X-Trace-ID pair). */
const FIELDS: readonly string[] = Object.freeze([
  'traceparent',
  'tracestate',
  'baggage',
  'b3',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-sampled',
  'x-b3-flags',
  'x-trace-id',
  'x-span-id',
]);

export class TracewirePropagator implements otel.TextMapPropagator {
  private readonly scratch: ContextState = { span: undefined, baggage: undefined, suppressed: false, attachment: undefined };

  inject(context: otel.Context, carrier: unknown, setter: otel.TextMapSetter): void {
    if (context === undefined || context === null) return;
    // The request tracedFetch is making: it wrote its headers already (undici would add a second set).
    if (context.getValue(SPAN_KEY) instanceof PassThroughSpan) return;
    const state = stateOf(context);
    if (state.suppressed) return;
    const s = readContext(this.scratch);
    // Core writes the given span with the active baggage (and the active span when given none):
    // when those are the context's own (the active context, what instrumentations pass), write
    // straight away.
    if (!s.suppressed && state.baggage === s.baggage && (state.span !== undefined || s.span === undefined)) {
      injectContext(carrier, state.span, setter);
      return;
    }
    // Another context: Tracewire injects the baggage of the active context, so make it active.
    runWithContext(state, () => injectContext(carrier, state.span, setter));
  }

  extract(context: otel.Context, carrier: unknown, getter: otel.TextMapGetter): otel.Context {
    let ctx = context;
    const remote: SpanContext | null = extractContext(carrier, getter);
    if (remote !== null) ctx = trace.setSpanContext(ctx, toOtelSpanContext(remote, true));
    const baggage = extractBaggage(carrier, getter);
    if (baggage !== undefined && baggage.size > 0) ctx = propagation.setBaggage(ctx, otelBaggageOf(baggage));
    return ctx;
  }

  fields(): string[] {
    return FIELDS.slice();
  }
}
