/**
 * Observers (issue #18): what every incoming request, every `tracedFetch` call and every LLM call
 * ended with — sampled or not — handed to whoever registered for it (`@tracewire/metrics`).
 * Head sampling decides which traces are kept, never what is counted: an observer sees the
 * unsampled requests too.
 *
 * Cost: a tracer without observers pays one property check per request (`tracer.observer` is
 * undefined). With observers, each outcome is one small plain object, built when the request,
 * call or stream ends, and the observers are called synchronously there: they must be cheap
 * (aggregate, never do I/O). A throwing observer is reported once and never reaches the request.
 */
import type { LLMUsage } from '../llm/types';
import { warnOnce } from '../diag/warn';

/** An incoming request whose response has ended (`close`), sampled or not. */
export interface ServerRequestOutcome {
  /** `http.request.method`: a known method, or `_OTHER`. */
  method: string;
  /** `url.scheme`. */
  scheme: 'http' | 'https';
  /** `http.route`: the route template (`/users/:id`); undefined when no route matched. Never the raw path. */
  route: string | undefined;
  /** `http.response.status_code`; undefined when the client went away before the headers were sent. */
  statusCode: number | undefined;
  /** `error.type`: `client_aborted`, the handler's error class, or the 5xx status; undefined for a success. */
  errorType: string | undefined;
  /** `network.protocol.version` (`1.1`, `2`). */
  protocolVersion: string | undefined;
  /** Seconds from the start of the request to the end of the response. */
  duration: number;
  /** Whether the request's trace was sampled (recorded). */
  sampled: boolean;
}

/** A `tracedFetch` call that has ended: its body read, cancelled, failed, or the call failed. */
export interface ClientRequestOutcome {
  /** `http.request.method`: a known method, or `_OTHER`. */
  method: string;
  /** `url.scheme`. */
  scheme: 'http' | 'https';
  /** `server.address` and `server.port` of the URL called. */
  serverAddress: string;
  serverPort: number;
  /** `http.response.status_code`; undefined when no response came. */
  statusCode: number | undefined;
  /** `error.type`: the network error (`TypeError`, `AbortError`...), or the 5xx status; undefined for a success. */
  errorType: string | undefined;
  /** Seconds from the call to the end of its response body. */
  duration: number;
  sampled: boolean;
}

/**
 * An LLM call that has ended: seen by `tracedFetch` or the GenAI helpers (`side: 'client'`, the
 * app calls a model), or by the response tap in a stream the app itself sends (`side: 'server'`,
 * the app serves the tokens).
 */
export interface LLMCallOutcome {
  side: 'client' | 'server';
  /** `gen_ai.provider.name` (`openai`, `anthropic`, `azure.ai.openai`...). */
  provider: string;
  /** `gen_ai.operation.name` (`chat`, `embeddings`, `generate_content`...). */
  operation: string;
  /** `gen_ai.request.model`, when the request named it. */
  requestModel: string | undefined;
  /** `gen_ai.response.model`, when the response named it. */
  responseModel: string | undefined;
  /** `server.address` / `server.port` of the model server (client side), or of this service (server side). */
  serverAddress: string | undefined;
  serverPort: number | undefined;
  /** Whether the response was streamed. */
  stream: boolean;
  /** Token usage the response reported (absent counts are unknown, never 0; never estimated). */
  usage: LLMUsage;
  /** Output tokens estimated from the content chunks of a stream cut before it reported usage. */
  estimatedOutputTokens: number | undefined;
  /** Seconds from the start of the call (client) or of the request (server) to its end; undefined when unknown. */
  duration: number | undefined;
  /** Seconds from the start to the first chunk carrying generated content (streams). */
  timeToFirstChunk: number | undefined;
  /** Chunks that carried generated content (streams). */
  contentChunks: number | undefined;
  /**
   * Client streams: seconds from the end of each content chunk to the end of the next, one per
   * content chunk after the first (chunks that arrived in the same read count 0). Bounded: at
   * most 4096 intervals are kept per stream.
   */
  chunkIntervals: ArrayLike<number> | undefined;
  /** `tracewire.usage.cost` in USD, from the pricing table; undefined when the model or counts are unknown. */
  cost: number | undefined;
  /** `error.type`: the provider's error (`server_error`, `rate_limit_error`...), the call's error, or `client_aborted`. */
  errorType: string | undefined;
  sampled: boolean;
}

/**
 * Receives the outcome of every request, `tracedFetch` call and LLM call of a tracer, sampled or
 * not (`tracer.addObserver(observer)`, or the `observers` option). Each method is optional and is
 * called synchronously when the thing ends: keep it cheap. Outcomes are plain data and may be kept.
 */
export interface TracerObserver {
  serverRequest?(outcome: ServerRequestOutcome): void;
  clientRequest?(outcome: ClientRequestOutcome): void;
  llmCall?(outcome: LLMCallOutcome): void;
}

/** The observers of one tracer as one object whose methods always exist and never throw. */
export type ObserverSet = Required<TracerObserver>;

const KINDS = ['serverRequest', 'clientRequest', 'llmCall'] as const;

/** Checks an observer at registration: an object whose members, when present, are functions. */
export function checkObserver(observer: unknown, name: string): TracerObserver {
  if (observer === null || typeof observer !== 'object') throw new TypeError(`tracewire: ${name} must be an object with serverRequest, clientRequest and/or llmCall methods`);
  const o = observer as Record<string, unknown>;
  let any = false;
  for (const k of KINDS) {
    if (o[k] === undefined) continue;
    if (typeof o[k] !== 'function') throw new TypeError(`tracewire: ${name}.${k} must be a function`);
    any = true;
  }
  if (!any) throw new TypeError(`tracewire: ${name} must have at least one of serverRequest, clientRequest, llmCall`);
  return observer as TracerObserver;
}

/**
 * One guarded dispatcher for `list` (undefined when empty): built when an observer is added or
 * removed, so the request path makes one call per outcome, not a loop with checks.
 */
export function combineObservers(list: readonly TracerObserver[]): ObserverSet | undefined {
  if (list.length === 0) return undefined;
  const make = <K extends (typeof KINDS)[number]>(kind: K): ObserverSet[K] => {
    const fns = list.filter((o) => typeof o[kind] === 'function');
    if (fns.length === 0) return (() => {}) as ObserverSet[K];
    const fail = (err: unknown) =>
      warnOnce(`observer:${kind}`, `an observer's ${kind}() threw (${err instanceof Error ? err.message : String(err)}); ignored (logged once)`);
    if (fns.length === 1) {
      const o = fns[0];
      return ((outcome: never) => {
        try {
          (o[kind] as (x: never) => void).call(o, outcome);
        } catch (err) {
          fail(err);
        }
      }) as ObserverSet[K];
    }
    return ((outcome: never) => {
      for (const o of fns) {
        try {
          (o[kind] as (x: never) => void).call(o, outcome);
        } catch (err) {
          fail(err);
        }
      }
    }) as ObserverSet[K];
  };
  return { serverRequest: make('serverRequest'), clientRequest: make('clientRequest'), llmCall: make('llmCall') };
}
