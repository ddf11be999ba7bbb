/**
 * The response tap of tracedFetch: the caller gets a new Response whose body is a pull-based
 * pass-through of the original one, so the client span ends when the body has really been read,
 * cancelled or has failed, without reading anything the consumer has not asked for.
 */
import type { AttributesInput, Span } from '../types';
import { redactUrlsIn } from '../internal/redact';
import { errorTypeOf } from '../trace/span';
import { warnOnce } from '../diag/warn';
import type { LLMResult } from '../llm/types';

/** Sees the bytes the consumer reads (an LLM decoder); every call is guarded by the tap. */
export interface BodyObserver {
  chunk(bytes: Uint8Array): void;
  /** The body was read to its end. */
  end(): void;
  /** The body will not be read to its end (cancelled, failed, aborted, timed out). */
  abort(): void;
  /** Sets what it learnt on the span, just before the span ends. */
  apply(span: Span): void;
  /** What it learnt of an LLM call, for observers (after end/abort). */
  llm?(): LLMObservation | undefined;
}

/** An LLM response as a body observer saw it (the parts of an LLMCallOutcome it knows). */
export interface LLMObservation {
  result: LLMResult | undefined;
  stream: boolean;
  firstChunkTime: number | undefined;
  contentChunks: number | undefined;
  chunkIntervals: ArrayLike<number> | undefined;
  estimateOutputFrom: number | undefined;
  /** An error the provider reported in a body that is not a result (`{ error: { type } }`). */
  errorType: string | undefined;
}

/** `error.type` for a failed call: a DOMException says more by its name (AbortError, TimeoutError). */
export function fetchErrorType(err: unknown): string {
  const type = errorTypeOf(err);
  if (type === 'DOMException') {
    const name = (err as { name?: unknown }).name;
    if (typeof name === 'string' && name) return name;
  }
  return type;
}

/**
 * Records a failed call or body: exception event, status Error, `error.type`. A network error from
 * fetch is a `TypeError('fetch failed')` whose `cause` says what happened (ECONNREFUSED...): the
 * cause's code goes into the status message, where it is visible without opening the event.
 * URLs quoted in the error's message and stack are redacted with `redactQuery` (userinfo and
 * secret query values), as `url.full` is.
 */
export function recordFetchError(span: Span, err: unknown, redactQuery: (q: string) => string): void {
  if (!span.isRecording()) return;
  const scrub = (text: string): string => redactUrlsIn(text, redactQuery);
  const e = err !== null && typeof err === 'object' ? (err as { message?: unknown; stack?: unknown; cause?: unknown }) : undefined;
  const message = e !== undefined ? (typeof e.message === 'string' ? scrub(e.message) : undefined) : err === undefined ? undefined : scrub(String(err));
  const event: AttributesInput = { 'exception.type': errorTypeOf(err) };
  if (message !== undefined) event['exception.message'] = message;
  if (e !== undefined && typeof e.stack === 'string') event['exception.stacktrace'] = scrub(e.stack);
  span.addEvent('exception', event);
  span.setAttribute('error.type', fetchErrorType(err));
  const cause = e !== undefined ? e.cause : undefined;
  const code = cause !== null && typeof cause === 'object' ? (cause as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && code) span.setStatus({ code: 'error', message: message ? `${message} (${code})` : code });
  else span.setStatus({ code: 'error', message });
}

/** Response fields the Response constructor cannot set, but which SDKs read. */
const COPIED = ['url', 'redirected', 'type'] as const;

function copyFields(target: Response, source: Response): void {
  for (const key of COPIED) {
    let value: unknown;
    try {
      value = source[key];
    } catch {
      continue;
    }
    Object.defineProperty(target, key, { value, configurable: true, enumerable: false, writable: false });
  }
  // A clone of the new Response would lose them again.
  Object.defineProperty(target, 'clone', {
    configurable: true,
    enumerable: false,
    writable: true,
    value: function clone(this: Response): Response {
      const copy = Response.prototype.clone.call(this);
      copyFields(copy, source);
      return copy;
    },
  });
}

/** How a body ended: read to its end, cancelled by the consumer, failed, aborted by the signal, unread. */
export type BodyOutcome = 'end' | 'cancel' | 'error' | 'abort' | 'timeout';
type Outcome = BodyOutcome;

/**
 * Returns a Response that reads through `res` and ends `span` when its body ends, is cancelled,
 * errors, when `signal` aborts, or after `idleMs` during which the consumer did not ask for more
 * (marked `tracewire.body.unread` when nothing was read, `tracewire.body.abandoned` otherwise).
 * A response without a body ends the span at once and is returned as it is.
 */
export function tapResponse(
  res: Response,
  span: Span,
  observer: BodyObserver | undefined,
  signal: AbortSignal | undefined,
  idleMs: number,
  redactQuery: (q: string) => string,
  onEnd?: (outcome: BodyOutcome, err: unknown) => void,
): Response {
  const source = res.body;
  if (source === null || source === undefined || typeof (source as ReadableStream).getReader !== 'function') {
    finishObserver(span, observer, 'end');
    span.end();
    if (onEnd !== undefined) onEnd('end', undefined);
    return res;
  }
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let done = false;
  let reads = 0;
  // Idle detection without a timer per chunk: the one timer looks at when the consumer last got a
  // chunk, and whether it is waiting for one (then the server is slow, not the consumer).
  let waiting = false;
  let lastActivity = Date.now();
  let timer: NodeJS.Timeout | undefined;

  const onAbort = (): void => finish('abort', signal ? signal.reason : undefined);
  const check = (): void => {
    timer = undefined;
    if (done) return;
    const idle = Date.now() - lastActivity;
    if (!waiting && idle >= idleMs) finish('timeout');
    else arm(waiting ? idleMs : idleMs - idle);
  };
  const arm = (ms: number): void => {
    timer = setTimeout(check, ms);
    timer.unref();
  };
  const finish = (outcome: Outcome, err?: unknown): void => {
    if (done) return;
    done = true;
    if (timer !== undefined) clearTimeout(timer);
    if (signal) signal.removeEventListener('abort', onAbort);
    try {
      if (outcome === 'error' || outcome === 'abort') recordFetchError(span, err, redactQuery);
      else if (outcome === 'cancel') span.setAttribute('tracewire.body.cancelled', true);
      else if (outcome === 'timeout') span.setAttribute(reads === 0 ? 'tracewire.body.unread' : 'tracewire.body.abandoned', true);
      finishObserver(span, observer, outcome);
    } catch (e) {
      internalError(e);
    }
    span.end();
    if (onEnd !== undefined) {
      try {
        onEnd(outcome, err);
      } catch (e) {
        internalError(e);
      }
    }
  };

  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        waiting = true;
        if (reader === undefined) reader = source.getReader() as ReadableStreamDefaultReader<Uint8Array>;
        return reader.read().then(
          (result) => {
            waiting = false;
            lastActivity = Date.now();
            if (result.done) {
              controller.close();
              finish('end');
              return;
            }
            reads++;
            const value = result.value;
            if (!done && observer !== undefined) {
              try {
                observer.chunk(value);
              } catch (e) {
                observer = undefined;
                internalError(e);
              }
            }
            controller.enqueue(value);
          },
          (err: unknown) => {
            finish('error', err);
            controller.error(err);
          },
        );
      },
      cancel(reason) {
        finish('cancel');
        // The consumer's cancel reaches the network: undici closes the connection.
        return reader !== undefined ? reader.cancel(reason) : source.cancel(reason);
      },
    },
    // No read-ahead: pull runs only when the consumer asks for a chunk.
    { highWaterMark: 0 },
  );

  let out: Response;
  try {
    out = new Response(stream as unknown as ConstructorParameters<typeof Response>[0], { status: res.status, statusText: res.statusText, headers: res.headers });
    copyFields(out, res);
  } catch (e) {
    // A status the constructor refuses (0, an opaque response): hand the original back.
    internalError(e);
    finish('end');
    return res;
  }
  if (signal) {
    if (signal.aborted) finish('abort', signal.reason);
    else signal.addEventListener('abort', onAbort, { once: true });
  }
  if (!done) arm(idleMs);
  return out;
}

function finishObserver(span: Span, observer: BodyObserver | undefined, outcome: Outcome): void {
  if (observer === undefined) return;
  try {
    if (outcome === 'end') observer.end();
    else observer.abort();
    observer.apply(span);
  } catch (e) {
    internalError(e);
  }
}

/** A bug inside tracedFetch: logged once; the call itself goes on. */
export function internalError(err: unknown): void {
  warnOnce('fetch:internal', `internal error in tracedFetch; the call proceeds untraced: ${err instanceof Error ? err.stack || err.message : String(err)}`);
}

