/**
 * The server span of one incoming call on core's transport-neutral server-span layer
 * (`createServerSpans`): the call's metadata is the carrier, the layer continues the caller's
 * context with the tracer's propagators under its trust policy, keeps an ignored call's context
 * flowing, and ends the span once with the outcome the interceptor computed.
 */
import type { Metadata } from '@grpc/grpc-js';
import { createServerSpans } from '@tracewire/core';
import type { Attributes, CarrierGetter, ServerSpan, ServerSpans, Span, Tracer } from '@tracewire/core';
import { metadataGetter } from './metadata';

/** The layer for one interceptor. */
export function serverSpans(tracer: Tracer | undefined): ServerSpans {
  return createServerSpans({ tracer, adapter: 'grpc' });
}

const getter = metadataGetter as CarrierGetter<unknown>;

/**
 * Starts the SERVER span for a call (or, for an ignored one, the context that passes through).
 * Undefined when there is nothing to do.
 */
export function startServerCallSpan(layer: ServerSpans, name: string, metadata: Metadata, attributes: () => Attributes, ignore: boolean): ServerSpan | undefined {
  return layer.start({ name, headers: metadata, getter, attributes }, ignore ? IGNORE : undefined);
}

/** Ends the call's span once, with these attributes and, for a failure, its error; `beforeEnd` sees the span first. */
export function endServerCallSpan(handle: ServerSpan, attributes: Attributes, error?: { type: string; message: string }, beforeEnd?: (span: Span) => void): void {
  if (handle.needsEnd) handle.end({ attributes, error, beforeEnd });
}

const IGNORE = Object.freeze({ ignore: true });
