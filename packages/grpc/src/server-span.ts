/**
 * The server span of one incoming call, behind the small interface the gRPC server interceptor
 * needs: start from the call's metadata, run code in the span's context, end with an outcome.
 * Written against core's public API while core's transport-neutral server-span layer (issue #12)
 * is being built; this module is the one place to switch when it lands.
 */
import { AsyncResource } from 'node:async_hooks';
import type { Metadata } from '@grpc/grpc-js';
import { extractBaggage, extractContext, withBaggage } from '@tracewire/core';
import type { Attributes, Link, Span, SpanContext, Tracer } from '@tracewire/core';
import { metadataGetter } from './metadata';

/** One server call's span. */
export interface ServerCallSpan {
  readonly span: Span;
  readonly recording: boolean;
  /** Runs `fn` with the span (and the caller's accepted baggage) active. */
  run<A extends unknown[], T>(fn: (...args: A) => T, ...args: A): T;
  /** Ends the span once, with these attributes and, for a failure, its error. */
  end(attributes: Attributes, error?: { type: string; message: string }): void;
}

/**
 * Starts the SERVER span for a call: continues the caller's context from the metadata under the
 * tracer's `trustIncoming` policy (an untrusted caller gets a new trace linked to its context, and
 * its baggage is not taken in), head-samples, and opens the local trace.
 */
export function startServerCallSpan(tracer: Tracer, name: string, metadata: Metadata, attributes: Attributes): ServerCallSpan {
  const remote: SpanContext | null = extractContext(metadata, metadataGetter);
  let baggage = extractBaggage(metadata, metadataGetter);
  let parent: SpanContext | null = remote;
  let links: Link[] | undefined;
  if (remote !== null || baggage !== undefined) {
    const policy = tracer.config.trustIncoming;
    // The config wraps a user predicate (a throw answers false).
    const trusted = typeof policy === 'function' ? policy(metadata) === true : policy !== false;
    if (!trusted) {
      parent = null;
      baggage = undefined;
      if (remote !== null) links = [{ context: remote, attributes: { 'tracewire.link.reason': 'untrusted_parent' } }];
    }
  }
  let span!: Span;
  let scope!: AsyncResource;
  let done!: () => void;
  const open = () =>
    tracer.withSpan(
      name,
      (s) => {
        span = s;
        // The span's context, captured here to be re-entered for each later event of the call.
        scope = new AsyncResource('tracewire.grpc.server');
        return new Promise<void>((resolve) => (done = resolve));
      },
      { kind: 'server', parent, attributes, links },
    );
  if (baggage !== undefined && baggage.size > 0) withBaggage(baggage, open);
  else open();
  const recording = span.isRecording();
  let ended = false;
  return {
    span,
    recording,
    run: (fn, ...args) => scope.runInAsyncScope(fn, null, ...args),
    end(attrs, error) {
      if (ended) return;
      ended = true;
      if (recording) {
        span.setAttributes(attrs);
        if (error !== undefined) {
          span.setAttribute('error.type', error.type);
          span.setStatus({ code: 'error', message: error.message });
        }
      }
      // withSpan ends the span when the promise settles.
      done();
    },
  };
}
