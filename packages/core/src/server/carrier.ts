import type { Attributes } from '../types';
import type { CarrierGetter } from '../propagation/carrier';
import type { Tracer } from '../tracer/tracer';

/**
 * What a transport tells the server-span layer about one incoming request: where the caller's
 * context is, how to read it, what the span starts as, and the request's attributes. node:http
 * (`http/`) and gRPC each fill it from their own request object.
 */
export interface ServerCarrier {
  /** The span's name when it starts (HTTP: the method; gRPC: the full method); `end` may rename it. */
  readonly name: string;
  /** Where the caller's context and baggage are read: HTTP headers, gRPC metadata. Passed to a `trustIncoming` predicate. */
  readonly headers: unknown;
  /** Reads one key of `headers` (propagation's getter contract). */
  readonly getter: CarrierGetter<unknown>;
  /**
   * `headers` is a plain object with lowercase keys (node:http's `req.headers`): the layer then
   * sees at a glance that no header a configured format reads is there, and skips extraction.
   */
  readonly plainHeaders?: boolean;
  /**
   * The request's attributes, asked for only when the span records. Tracewire-built values (valid
   * by construction); the object is handed to the span.
   */
  attributes(tracer: Tracer): Attributes;
}
