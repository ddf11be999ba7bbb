/**
 * LLM, agent and tool spans made by hand (issue #17): `withLLMSpan` (a CLIENT span
 * `{operation} {model}` whose response — a JSON body, an SDK result, or a stream — is recorded as
 * tracedFetch records one), `recordLLMResponse`, `recordLLMStream`, `withToolSpan`
 * (`execute_tool {name}`), `withAgentSpan` (`invoke_agent {name}`), `withEmbeddingsSpan`,
 * `withSpeechSpan` (`text_to_speech`), `withTranscriptionSpan` (`speech_to_text`) and
 * `withPipelineStep` (frames in and out of a realtime pipeline stage). Names follow the GenAI
 * conventions (gen-ai-spans.md, gen-ai-agent-spans.md, gen-ai-voice-agents.md).
 *
 * Every helper runs `fn(span)` inside the new span, records a throw or rejection and re-throws it
 * unchanged, and ends the span when `fn` returns, its promise settles, or — when it returns a stream
 * (an async iterable, a ReadableStream, an SDK stream helper, a fetch Response) — when the stream
 * ends, is broken off, aborted or fails (in `finally`). Module-level: each uses the tracer of the
 * active trace (as `withSpan` does), the global tracer otherwise. Nothing here throws into the
 * caller's code but the caller's own errors; all that is kept is bounded (counts, and captured
 * content within the tracer's byte cap).
 */
import type { AttributeValue, Attributes, AttributesInput, Span } from '../types';
import { currentSpan, runWithSpan } from '../context/storage';
import { tracerFor } from '../tracer/global';
import { recordError } from '../tracer/tracer';
import type { Tracer } from '../tracer/tracer';
import { now } from '../internal/clock';
import { LLMStreamDecoder, truncateUtf8 } from '../stream/decoders';
import { Accumulator } from '../stream/accumulator';
import { decodeLLMResponseBody } from '../stream/json';
import { tapResponse } from '../fetch/body';
import type { BodyObserver } from '../fetch/body';
import { DEFAULT_CONTENT_BYTES, llmAttributes } from './attributes';
import type { GenAINames } from './attributes';
import type { LLMApi, LLMResult, PricingTable } from './types';
import { llmOutcome } from './outcome';
import type { ObserverSet } from '../observe';
import { errorTypeOf } from '../trace/span';

/** Request parameters of an LLM call: the GenAI request attributes. */
export interface LLMSpanParams {
  /** `gen_ai.provider.name`: `openai`, `anthropic`, `gcp.gemini`, `ollama`, `aws.bedrock`... */
  provider: string;
  /** `gen_ai.request.model`. */
  model: string;
  /** `gen_ai.operation.name` (default `chat`). */
  operation?: string;
  stream?: boolean;
  temperature?: number;
  maxTokens?: number;
  topP?: number;
  topK?: number;
  frequencyPenalty?: number;
  presencePenalty?: number;
  seed?: number;
  stopSequences?: string[];
  /** `gen_ai.request.choice.count` (recorded when not 1). */
  choiceCount?: number;
  /** `gen_ai.conversation.id`. */
  conversationId?: string;
  /** `server.address` / `server.port` of the model server. */
  serverAddress?: string;
  serverPort?: number;
  /** The request's messages or body, for `gen_ai.input.messages` (with content capture only). */
  messages?: unknown;
  /** More attributes for the span. */
  attributes?: AttributesInput;
}

/** `withEmbeddingsSpan` parameters. */
export interface EmbeddingsSpanParams extends Omit<LLMSpanParams, 'operation'> {
  /** `gen_ai.embeddings.dimension.count`. */
  dimensions?: number;
  /** `gen_ai.request.encoding_formats`. */
  encodingFormats?: string[];
}

/** `withSpeechSpan` parameters (text to speech). */
export interface SpeechSpanParams extends Omit<LLMSpanParams, 'operation'> {
  /** `gen_ai.speech.voice`. */
  voice?: string;
  /** The text to speak: its length is `tracewire.speech.input_characters` (the text itself only with content capture). */
  input?: string;
  /** Audio format asked for (`mp3`, `pcm`...): `tracewire.audio.format`. */
  format?: string;
}

/** `withTranscriptionSpan` parameters (speech to text). */
export interface TranscriptionSpanParams extends Omit<LLMSpanParams, 'operation'> {
  /** Size of the audio sent (`tracewire.audio.input_bytes`). */
  audioBytes?: number;
  /** Length of the audio sent, in seconds (`tracewire.audio.input_seconds`). */
  audioSeconds?: number;
  /** `gen_ai.speech.input.language`. */
  language?: string;
}

/** `withToolSpan` options. */
export interface ToolSpanOptions {
  /** The arguments the model gave (`gen_ai.tool.call.arguments`, with content capture only). */
  args?: unknown;
  /** `gen_ai.tool.call.id`. */
  callId?: string;
  /** `gen_ai.tool.type` (default `function`). */
  type?: string;
  /** `gen_ai.tool.description`. */
  description?: string;
}

/** `withAgentSpan` options. */
export interface AgentSpanOptions {
  /** `gen_ai.agent.id`. */
  agentId?: string;
  /** `gen_ai.agent.description`. */
  description?: string;
  /** `gen_ai.conversation.id`. */
  conversationId?: string;
  /** `gen_ai.provider.name` / `gen_ai.request.model`, when the agent runs on one model. */
  provider?: string;
  model?: string;
}

/** Counters of a pipeline step (`withPipelineStep`): call them as frames go in and come out. */
export interface PipelineFrames {
  /** `n` frames (default 1) of `bytes` bytes came in. */
  in(n?: number, bytes?: number): void;
  /** `n` frames (default 1) of `bytes` bytes went out (the first one sets `tracewire.pipeline.time_to_first_frame`). */
  out(n?: number, bytes?: number): void;
}

/** How long a stream nobody starts reading keeps its span open. */
const UNREAD_STREAM_MS = 60000;

/** What a helper span needs to record its response, kept per span. */
interface CallState {
  provider: string;
  operation: string;
  model: string | undefined;
  api: LLMApi | undefined;
  startTime: number;
  captureContent: boolean;
  maxBytes: number;
  pricing: PricingTable | undefined;
  names: GenAINames;
  messages: unknown;
  /** A response was recorded already (recordLLMResponse called by the user). */
  recorded: boolean;
  /** The tracer's observers when the call started (undefined: none); the span may then be unsampled. */
  observer: ObserverSet | undefined;
  sampled: boolean;
  /** A span of the user's (recordLLMResponse / recordLLMStream): reported when its response is. */
  adopted: boolean;
  /** Whether `startTime` is the call's start (false: an adopted unsampled span, its start unknown). */
  knownStart: boolean;
  serverAddress: string | undefined;
  serverPort: number | undefined;
  /** What the response showed, for the observers. */
  seen: Seen | undefined;
  /** The outcome went to the observers already. */
  reported: boolean;
}

/** An LLM response as a helper saw it: the parts of an LLMCallOutcome it knows. */
interface Seen {
  result: LLMResult | undefined;
  stream: boolean;
  firstChunkTime: number | undefined;
  contentChunks: number | undefined;
  chunkIntervals: ArrayLike<number> | undefined;
  estimateOutputFrom: number | undefined;
}

const STATE = new WeakMap<Span, CallState>();

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return !!x && (typeof x === 'object' || typeof x === 'function') && typeof (x as PromiseLike<unknown>).then === 'function';
}

function isAsyncIterable(x: unknown): x is AsyncIterable<unknown> {
  return x !== null && typeof x === 'object' && typeof (x as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

function isReadableStream(x: unknown): x is ReadableStream<unknown> {
  return typeof ReadableStream !== 'undefined' && x instanceof ReadableStream;
}

function isResponse(x: unknown): x is Response {
  return typeof Response !== 'undefined' && x instanceof Response;
}

/**
 * An SDK stream helper (openai `chat.completions.stream()` / `responses.stream()`, Anthropic
 * `messages.stream()`): an event emitter with an `ended` state, whose events carry the raw chunks.
 */
interface Runner {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  readonly ended?: boolean;
  readonly errored?: boolean;
  readonly aborted?: boolean;
}
function isRunner(x: unknown): x is Runner {
  if (x === null || typeof x !== 'object' || typeof (x as Runner).on !== 'function') return false;
  const r = x as Record<string, unknown>;
  return typeof r.finalChatCompletion === 'function' || typeof r.finalMessage === 'function' || typeof r.finalResponse === 'function';
}

/** Whether a helper should treat `x` as a stream (its span then ends with the stream). */
function isStreamLike(x: unknown): boolean {
  return isRunner(x) || isReadableStream(x) || isResponse(x) || (isAsyncIterable(x) && typeof x !== 'string');
}

function setIf(a: Attributes, key: string, v: AttributeValue | undefined): void {
  if (v !== undefined) a[key] = v;
}

/** The GenAI request attributes of `p`. */
function requestAttributes(p: LLMSpanParams, operation: string): Attributes {
  const a: Attributes = { 'gen_ai.operation.name': operation, 'gen_ai.provider.name': String(p.provider) };
  if (typeof p.model === 'string' && p.model !== '') a['gen_ai.request.model'] = p.model;
  if (p.stream === true) a['gen_ai.request.stream'] = true;
  setIf(a, 'gen_ai.request.temperature', num(p.temperature));
  setIf(a, 'gen_ai.request.max_tokens', num(p.maxTokens));
  setIf(a, 'gen_ai.request.top_p', num(p.topP));
  setIf(a, 'gen_ai.request.top_k', num(p.topK));
  setIf(a, 'gen_ai.request.frequency_penalty', num(p.frequencyPenalty));
  setIf(a, 'gen_ai.request.presence_penalty', num(p.presencePenalty));
  setIf(a, 'gen_ai.request.seed', num(p.seed));
  const n = num(p.choiceCount);
  if (n !== undefined && n !== 1) a['gen_ai.request.choice.count'] = n;
  if (Array.isArray(p.stopSequences) && p.stopSequences.every((s) => typeof s === 'string')) a['gen_ai.request.stop_sequences'] = p.stopSequences.slice(0, 32);
  if (typeof p.conversationId === 'string') a['gen_ai.conversation.id'] = p.conversationId;
  if (typeof p.serverAddress === 'string') a['server.address'] = p.serverAddress;
  setIf(a, 'server.port', num(p.serverPort));
  return a;
}

/** The span name: `{operation} {model}`, or the operation alone. */
function spanName(operation: string, model: unknown): string {
  return typeof model === 'string' && model !== '' ? `${operation} ${model}` : operation;
}

/**
 * Runs `fn(span)` in `span` and ends the span when `fn` is done: at once for a value (after
 * `onValue`), when its promise settles, or — for a stream — through `onStream`, which returns what
 * the caller gets instead and ends the span itself.
 */
function run<T>(span: Span, fn: (span: Span) => T, onValue: (value: unknown) => void, onStream: (stream: unknown) => unknown): T {
  let result: T;
  try {
    result = runWithSpan(span, () => fn(span));
  } catch (err) {
    recordError(span, err);
    endCall(span, err, true);
    throw err;
  }
  const settle = (value: unknown): unknown => {
    if (isStreamLike(value)) {
      try {
        return onStream(value);
      } catch {
        endCall(span); // our own failure: the caller still gets its stream
        return value;
      }
    }
    try {
      onValue(value);
    } catch {
      // Recording is best effort.
    }
    endCall(span);
    return value;
  };
  if (isThenable(result)) {
    return (result as unknown as PromiseLike<unknown>).then(settle, (err: unknown) => {
      recordError(span, err);
      endCall(span, err, true);
      throw err;
    }) as unknown as T;
  }
  return settle(result) as T;
}

function activeTracer(): Tracer {
  return tracerFor();
}

function startCall(tracer: Tracer, name: string, attributes: Attributes, p: LLMSpanParams, operation: string, api: LLMApi | undefined): Span {
  const startTime = now();
  const extra = p.attributes !== null && typeof p.attributes === 'object' ? p.attributes : undefined;
  const span = tracer.startSpan(name, { kind: 'client', attributes: extra !== undefined ? { ...extra, ...attributes } : attributes });
  const observer = tracer.observer;
  // Unsampled but observed (metrics): the response is still decoded, for the observers alone.
  if (span.isRecording() || (observer !== undefined && span !== currentSpan())) {
    const cfg = tracer.config;
    STATE.set(span, {
      provider: String(p.provider),
      operation,
      model: typeof p.model === 'string' && p.model !== '' ? p.model : undefined,
      api,
      startTime,
      captureContent: cfg.captureContent,
      maxBytes: DEFAULT_CONTENT_BYTES,
      pricing: cfg.pricing,
      names: cfg.genAiNames,
      messages: p.messages,
      recorded: false,
      observer,
      sampled: span.isRecording(),
      adopted: false,
      knownStart: true,
      serverAddress: typeof p.serverAddress === 'string' && p.serverAddress !== '' ? p.serverAddress : undefined,
      serverPort: num(p.serverPort),
      seen: undefined,
      reported: false,
    });
  }
  return span;
}

/** Hands the call's outcome to the observers, once (the span has ended, or an adopted span's response is recorded). */
function reportCall(state: CallState | undefined, err: unknown, failed: boolean): void {
  if (state === undefined || state.observer === undefined || state.reported) return;
  state.reported = true;
  try {
    const seen = state.seen;
    state.observer.llmCall(
      llmOutcome(seen?.result, {
        side: 'client',
        provider: state.provider,
        operation: state.operation,
        requestModel: state.model,
        serverAddress: state.serverAddress,
        serverPort: state.serverPort,
        stream: seen !== undefined ? seen.stream : false,
        startTime: state.knownStart ? state.startTime : undefined,
        endTime: now(),
        firstChunkTime: seen?.firstChunkTime,
        contentChunks: seen?.contentChunks,
        chunkIntervals: seen?.chunkIntervals,
        estimateOutputFrom: seen?.estimateOutputFrom,
        aborted: false,
        pricing: state.pricing,
        errorType: failed ? errorTypeOf(err) : undefined,
        sampled: state.sampled,
      }),
    );
  } catch {
    // Observers are guarded; building the outcome is best effort.
  }
}

/** Ends a helper's span and reports the call (an LLM call's), with the error it failed with. */
function endCall(span: Span, err?: unknown, failed = false): void {
  span.end();
  reportCall(STATE.get(span), err, failed);
}

/** Sets `error.type` and status Error for an error the provider reported in the response. */
function providerError(span: Span, error: { type: string; message?: string } | undefined): void {
  if (error === undefined || !error.type) return;
  span.setAttribute('error.type', error.type);
  span.setStatus(error.message ? { code: 'error', message: error.message } : { code: 'error' });
}

/** What the caller said wins over what the response's format implies (`azure.ai.openai` over `openai`). */
function keepCaller(a: Attributes, state: CallState): void {
  if (state.provider !== '') a['gen_ai.provider.name'] = state.provider;
  if (state.operation !== '') a['gen_ai.operation.name'] = state.operation;
}

/** Writes `result` on `span` with what the helper knows of the call. */
function applyResult(span: Span, state: CallState, result: LLMResult, stream: { firstChunkTime?: number; contentChunks: number; cut: boolean; chunkIntervals?: ArrayLike<number> } | undefined): void {
  const estimateOutputFrom = stream !== undefined && (stream.cut || result.truncated) ? stream.contentChunks : undefined;
  state.seen = { result, stream: stream !== undefined, firstChunkTime: stream?.firstChunkTime, contentChunks: stream?.contentChunks, chunkIntervals: stream?.chunkIntervals, estimateOutputFrom };
  if (!span.isRecording()) return; // observed only: nothing to write
  const a = llmAttributes(result, {
    stream: stream !== undefined,
    requestModel: state.model,
    startTime: state.startTime,
    firstChunkTime: stream?.firstChunkTime,
    contentChunks: stream?.contentChunks,
    estimateOutputFrom,
    captureContent: state.captureContent,
    inputMessages: state.messages,
    maxBytes: state.maxBytes,
    pricing: state.pricing,
    names: state.names,
  });
  keepCaller(a, state);
  span.setAttributes(a);
  providerError(span, result.error);
}

/**
 * Records a non-streamed LLM response on `span`: a JSON body or SDK result of any supported
 * provider (OpenAI Chat Completions, Responses, embeddings, transcriptions, images, batches, files;
 * Anthropic Messages, count_tokens, batches; Gemini; Ollama). Returns whether it was recognised.
 * Never throws. On a span of `withLLMSpan` the helper does this itself for what `fn` returns.
 */
export function recordLLMResponse(span: Span, response: unknown): boolean {
  try {
    const state = STATE.get(span) ?? adopt(span);
    if (state === undefined) return false;
    const body = typeof response === 'string' ? parseJson(response) : response;
    const result = decodeLLMResponseBody(body, { api: state.api, operation: state.operation === '' ? undefined : state.operation });
    if (result === undefined) return false;
    state.recorded = true;
    applyResult(span, state, result, undefined);
    if (state.adopted) reportCall(state, undefined, false);
    return span.isRecording();
  } catch {
    return false;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * State for a span the helpers did not start (a `startSpan` of the user's): the settings of the
 * tracer of the active trace; provider and operation come from the response.
 */
function adopt(span: Span): CallState | undefined {
  const tracer = activeTracer();
  const recording = span.isRecording();
  const observer = tracer.observer;
  if (!recording && observer === undefined) return undefined;
  const cfg = tracer.config;
  const state: CallState = {
    provider: '',
    operation: '',
    model: undefined,
    api: undefined,
    startTime: now(),
    captureContent: cfg.captureContent,
    maxBytes: DEFAULT_CONTENT_BYTES,
    pricing: cfg.pricing,
    names: cfg.genAiNames,
    messages: undefined,
    recorded: false,
    observer,
    sampled: recording,
    adopted: true,
    // Timings run from here: for a stream (recordLLMStream) its start; a response alone has no duration.
    knownStart: false,
    serverAddress: undefined,
    serverPort: undefined,
    seen: undefined,
    reported: false,
  };
  STATE.set(span, state);
  return state;
}

type Outcome = 'end' | 'cancel' | 'error' | 'timeout';

/**
 * Watches a streamed response, item by item: SDK chunk objects go to the LLM decoders directly,
 * bytes or text (SSE, NDJSON) through the stream accumulator. `finish` ends the span, once.
 */
class StreamRecorder {
  private decoder: LLMStreamDecoder | undefined;
  private acc: Accumulator | undefined;
  private contentChunks = 0;
  private chunks = 0;
  private firstChunkTime: number | undefined;
  /** Seconds between content chunks (observed calls), bounded. */
  private intervals: number[] | undefined;
  private lastChunkTime = 0;
  private done = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly span: Span,
    private readonly state: CallState | undefined,
    /** Counts items instead of decoding them (tool and pipeline streams). */
    private readonly onItem?: (item: unknown) => void,
  ) {
    this.timer = setTimeout(() => this.finish('timeout'), UNREAD_STREAM_MS);
    this.timer.unref();
  }

  started(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  item(item: unknown): void {
    if (this.done) return;
    try {
      this.chunks++;
      if (this.onItem !== undefined || this.state === undefined) {
        this.onItem?.(item);
        return;
      }
      if (item instanceof Uint8Array || typeof item === 'string') {
        if (this.acc === undefined) {
          // Bytes: SSE unless the first one is a JSON line (NDJSON: Ollama, or an SDK's toReadableStream()).
          const text = typeof item === 'string' ? item : Buffer.from(item.subarray(0, 16)).toString('utf8');
          const format = text.trimStart().startsWith('{') ? 'ndjson' : 'sse';
          this.acc = new Accumulator({ format, startTime: this.state.startTime, captureContent: this.state.captureContent, maxBytes: this.state.maxBytes, pricing: this.state.pricing, requestModel: this.state.model, inputMessages: this.state.messages, genAiNames: this.state.names });
          if (this.state.observer !== undefined) this.acc.trackChunkIntervals();
        }
        this.acc.write(item);
        return;
      }
      if (this.decoder === undefined) this.decoder = new LLMStreamDecoder(this.state.captureContent ? this.state.maxBytes : 0);
      if (this.decoder.object(item)) {
        this.contentChunks++;
        if (this.state.observer !== undefined) {
          // Each SDK chunk is one chunk received: timed as it comes (observed calls only).
          const t = now();
          if (this.firstChunkTime !== undefined) {
            const list = (this.intervals ??= []);
            if (list.length < MAX_CHUNK_INTERVALS) list.push(Math.max(0, t - this.lastChunkTime) / 1000);
          }
          this.lastChunkTime = t;
          if (this.firstChunkTime === undefined) this.firstChunkTime = t;
        } else if (this.firstChunkTime === undefined) this.firstChunkTime = now();
      }
    } catch {
      // Observing never breaks the stream.
    }
  }

  /** Records the outcome and what was seen; ends the span unless `endSpan` is false (a tap ends it). */
  finish(outcome: Outcome, err?: unknown, endSpan = true): void {
    if (this.done) return;
    this.done = true;
    this.started();
    const span = this.span;
    try {
      if (outcome === 'error') recordError(span, err);
      else if (outcome === 'cancel') span.setAttribute('tracewire.stream.aborted', true);
      else if (outcome === 'timeout') span.setAttribute('tracewire.stream.unread', true);
      const state = this.state;
      if (this.acc !== undefined && state !== undefined) {
        const acc = this.acc;
        if (outcome === 'end') acc.end();
        else acc.abort();
        if (span.isRecording()) {
          const a = acc.attributes();
          keepCaller(a, state);
          span.setAttributes(a);
          providerError(span, acc.llm()?.error);
        }
        if (state.observer !== undefined) {
          state.seen = { result: acc.finalResult(), stream: true, firstChunkTime: acc.firstContentAt(), contentChunks: acc.contentChunks, chunkIntervals: acc.chunkIntervals(), estimateOutputFrom: acc.aborted ? acc.contentChunks : undefined };
        }
      } else if (this.decoder !== undefined && state !== undefined) {
        const result = this.decoder.result(state.captureContent);
        if (result !== undefined) {
          applyResult(span, state, result, { firstChunkTime: this.firstChunkTime, contentChunks: this.contentChunks, cut: outcome !== 'end', chunkIntervals: this.intervals });
        }
        span.setAttribute('tracewire.stream.chunks', this.chunks);
      } else {
        span.setAttribute('tracewire.stream.chunks', this.chunks);
        if (state !== undefined && state.model !== undefined && !state.recorded) span.setAttribute('gen_ai.request.stream', true);
      }
    } catch {
      // see item()
    }
    if (endSpan) endCall(span, err, outcome === 'error');
  }
}

/** Chunk intervals a helper keeps per stream (observed calls): bounded whatever the stream's length. */
const MAX_CHUNK_INTERVALS = 4096;

/** An async iterable that yields what `source` yields, showing each item to `rec`, ending it in finally. */
function wrapIterable(source: AsyncIterable<unknown>, rec: StreamRecorder): AsyncIterable<unknown> {
  async function* iterate(): AsyncGenerator<unknown> {
    rec.started();
    let outcome: Outcome = 'cancel';
    let error: unknown;
    try {
      for await (const item of source) {
        rec.item(item);
        yield item;
      }
      outcome = 'end';
    } catch (err) {
      outcome = 'error';
      error = err;
      throw err;
    } finally {
      // A `break` lands here with 'cancel': the SDK's own iterator was returned, which aborts its request.
      rec.finish(outcome, error);
    }
  }
  // Everything but iteration goes to the SDK's own object (its `controller`, `tee()`...), bound to
  // it so that its private fields still work.
  return new Proxy(source as object, {
    get(target, key) {
      if (key === Symbol.asyncIterator) return () => iterate()[Symbol.asyncIterator]();
      const v = Reflect.get(target, key, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as AsyncIterable<unknown>;
}

/** A ReadableStream reading through `source` (pull-based, no read-ahead), showing each chunk to `rec`. */
function wrapReadable(source: ReadableStream<unknown>, rec: StreamRecorder): ReadableStream<unknown> {
  let reader: ReadableStreamDefaultReader<unknown> | undefined;
  return new ReadableStream<unknown>(
    {
      pull(controller) {
        rec.started();
        reader ??= source.getReader();
        return reader.read().then(
          (r) => {
            if (r.done) {
              controller.close();
              rec.finish('end');
              return;
            }
            rec.item(r.value);
            controller.enqueue(r.value);
          },
          (err: unknown) => {
            rec.finish('error', err);
            controller.error(err);
          },
        );
      },
      cancel(reason) {
        rec.finish('cancel');
        return reader !== undefined ? reader.cancel(reason) : source.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/** Subscribes to an SDK stream helper's raw events; it stays the caller's object, unchanged. */
function watchRunner(runner: Runner, rec: StreamRecorder): Runner {
  rec.started();
  const onEvent = (event: unknown): void => rec.item(event);
  // openai ChatCompletionStream: 'chunk'; openai ResponseStream: 'event'; Anthropic MessageStream: 'streamEvent'.
  const r = runner as unknown as Record<string, unknown>;
  if (typeof r.finalChatCompletion === 'function') runner.on('chunk', onEvent);
  else if (typeof r.finalMessage === 'function') runner.on('streamEvent', onEvent);
  else runner.on('event', onEvent);
  // Only 'end' (it follows 'error' and 'abort' too): a listener for 'error' would stop the SDK
  // from surfacing an error nobody handles.
  runner.on('end', () => {
    if (runner.errored === true && runner.aborted !== true) {
      rec.finish('error', Object.assign(new Error('the SDK stream failed'), { name: 'StreamError' }));
    } else rec.finish(runner.aborted === true ? 'cancel' : 'end');
  });
  return runner;
}

/**
 * A body observer for a fetch Response a helper returns (the tap ends the span): a JSON body is
 * decoded whole at the end (bounded), SSE and NDJSON go through the recorder, other bodies (audio)
 * are counted.
 */
function responseObserver(rec: StreamRecorder, state: CallState | undefined, res: Response): BodyObserver {
  const type = res.headers.get('content-type') ?? '';
  const json = /[/+]json\s*(;|$)/i.test(type);
  const streamed = /event-stream|ndjson|jsonl/i.test(type);
  const parts: Uint8Array[] = [];
  let size = 0;
  let bytes = 0;
  let outcome: Outcome = 'cancel';
  return {
    chunk(b) {
      bytes += b.byteLength;
      if (json) {
        size += b.byteLength;
        if (size <= MAX_JSON_BYTES) parts.push(b);
      } else if (streamed) rec.item(b);
    },
    end() {
      outcome = 'end';
    },
    abort() {},
    apply(span) {
      if (streamed) rec.finish(outcome, undefined, false);
      else if (json) {
        if (outcome === 'end' && size <= MAX_JSON_BYTES && state !== undefined) recordLLMResponse(span, Buffer.concat(parts).toString('utf8'));
      } else if (state !== undefined && state.operation === 'text_to_speech') span.setAttribute('tracewire.audio.output_bytes', bytes);
    },
  };
}

/** A JSON body larger than this is passed through without being decoded (bounded memory). */
const MAX_JSON_BYTES = 4 * 1024 * 1024;

/** What a helper does with a stream `fn` returned: the same kind of thing, watched. */
function watchStream(span: Span, stream: unknown, onItem?: (item: unknown) => void): unknown {
  const state = STATE.get(span);
  // An unsampled span is watched only when an observer waits for the call (state exists then).
  if (!span.isRecording() && (state === undefined || onItem !== undefined)) return stream;
  const rec = new StreamRecorder(span, onItem === undefined ? state : undefined, onItem);
  if (isRunner(stream)) return watchRunner(stream, rec);
  if (isResponse(stream)) {
    rec.started();
    // The tap ends the span when the body is read, cancelled or fails; then the call is reported.
    return tapResponse(stream, span, responseObserver(rec, state, stream), undefined, UNREAD_STREAM_MS, activeTracer().config.redactQuery, (outcome, err) =>
      reportCall(onItem === undefined ? state : undefined, err, outcome === 'error' || outcome === 'abort'),
    );
  }
  if (isReadableStream(stream)) return wrapReadable(stream, rec);
  return wrapIterable(stream as AsyncIterable<unknown>, rec);
}

/**
 * Records a streamed LLM response on `span` (one the helpers started, or one of yours): returns
 * a stream of the same kind — an async iterable (an SDK `Stream`, whose other members still work),
 * a ReadableStream, or the SDK stream helper itself — that passes every chunk through and ends
 * `span` when the stream ends, is broken off (`break`, `cancel()`, `controller.abort()`) or fails.
 * A stream cut before the provider reported usage keeps an output count estimated from the
 * content chunks seen, marked `tracewire.usage.estimated`.
 */
export function recordLLMStream<S>(span: Span, stream: S): S {
  try {
    if (!STATE.has(span)) {
      const state = adopt(span);
      if (state !== undefined) state.knownStart = true;
    }
    return watchStream(span, stream) as S;
  } catch {
    return stream;
  }
}

/**
 * Runs `fn(span)` in a CLIENT span `{operation} {model}` (operation default `chat`) with the GenAI
 * request attributes of `params`. What `fn` returns is recorded: a JSON body or SDK result
 * (`recordLLMResponse`), or a stream (`recordLLMStream`: the span then ends with the stream).
 */
export function withLLMSpan<T>(params: LLMSpanParams, fn: (span: Span) => T): T {
  const p = params ?? ({} as LLMSpanParams);
  const operation = typeof p.operation === 'string' && p.operation !== '' ? p.operation : 'chat';
  return llmCall(p, operation, requestAttributes(p, operation), undefined, fn);
}

function llmCall<T>(p: LLMSpanParams, operation: string, attributes: Attributes, api: LLMApi | undefined, fn: (span: Span) => T): T {
  const span = startCall(activeTracer(), spanName(operation, p.model), attributes, p, operation, api);
  return run(
    span,
    fn,
    (value) => {
      const state = STATE.get(span);
      if (state === undefined || state.recorded || value === undefined || value === null) return;
      if (api === 'embeddings' && Array.isArray(value)) {
        // Vectors computed in process: their count and size.
        span.setAttribute('tracewire.embeddings.count', value.length);
        if (Array.isArray(value[0])) span.setAttribute('gen_ai.embeddings.dimension.count', (value[0] as unknown[]).length);
        return;
      }
      if (api === 'audio.speech' && (value instanceof Uint8Array || value instanceof ArrayBuffer)) {
        span.setAttribute('tracewire.audio.output_bytes', value.byteLength);
        return;
      }
      if (api === 'audio.speech' && typeof Blob !== 'undefined' && value instanceof Blob) {
        span.setAttribute('tracewire.audio.output_bytes', value.size);
        return;
      }
      if (api === 'audio.transcriptions' && typeof value === 'string') {
        // response_format text: the transcript itself.
        recordLLMResponse(span, { text: value });
        return;
      }
      recordLLMResponse(span, value);
    },
    (stream) => watchStream(span, stream),
  );
}

/** `withLLMSpan` for an embeddings call: `embeddings {model}`, dimensions and encoding formats. */
export function withEmbeddingsSpan<T>(params: EmbeddingsSpanParams, fn: (span: Span) => T): T {
  const p = params ?? ({} as EmbeddingsSpanParams);
  const a = requestAttributes(p, 'embeddings');
  setIf(a, 'gen_ai.embeddings.dimension.count', num(p.dimensions));
  if (Array.isArray(p.encodingFormats) && p.encodingFormats.every((f) => typeof f === 'string')) a['gen_ai.request.encoding_formats'] = p.encodingFormats.slice(0, 8);
  return llmCall(p, 'embeddings', a, 'embeddings', fn);
}

/**
 * `withLLMSpan` for text to speech: `text_to_speech {model}`, `gen_ai.speech.voice`,
 * `gen_ai.output.type` `speech`, characters in (`tracewire.speech.input_characters`), audio bytes
 * out (`tracewire.audio.output_bytes`, counted from what `fn` returns: bytes, a Blob, a fetch
 * Response or SDK response as it is read, or a stream of audio chunks or speech events).
 */
export function withSpeechSpan<T>(params: SpeechSpanParams, fn: (span: Span) => T): T {
  const p = params ?? ({} as SpeechSpanParams);
  const a = requestAttributes(p, 'text_to_speech');
  a['gen_ai.output.type'] = 'speech';
  if (typeof p.voice === 'string' && p.voice !== '') a['gen_ai.speech.voice'] = p.voice;
  if (typeof p.input === 'string') a['tracewire.speech.input_characters'] = p.input.length;
  if (typeof p.format === 'string' && p.format !== '') a['tracewire.audio.format'] = p.format;
  const withInput = typeof p.input === 'string' && p.messages === undefined ? { ...p, messages: p.input } : p;
  return llmCall(withInput, 'text_to_speech', a, 'audio.speech', fn);
}

/**
 * `withLLMSpan` for speech to text: `speech_to_text {model}`, audio in (`tracewire.audio.input_bytes`
 * / `tracewire.audio.input_seconds`), characters out (`tracewire.transcription.output_characters`),
 * token usage when the provider reports it; the transcript itself only with content capture.
 */
export function withTranscriptionSpan<T>(params: TranscriptionSpanParams, fn: (span: Span) => T): T {
  const p = params ?? ({} as TranscriptionSpanParams);
  const a = requestAttributes(p, 'speech_to_text');
  setIf(a, 'tracewire.audio.input_bytes', num(p.audioBytes));
  setIf(a, 'tracewire.audio.input_seconds', num(p.audioSeconds));
  if (typeof p.language === 'string' && p.language !== '') a['gen_ai.speech.input.language'] = p.language;
  return llmCall(p, 'speech_to_text', a, 'audio.transcriptions', fn);
}

/** Captured JSON of a tool's arguments or result, within the byte cap. */
function contentJson(v: unknown, max: number): string | undefined {
  let text: string | undefined;
  try {
    text = typeof v === 'string' ? v : JSON.stringify(v);
  } catch {
    text = undefined;
  }
  return text === undefined ? undefined : truncateUtf8(text, max);
}

/** Spans that only count what a stream yields. */
function countingStream(span: Span, stream: unknown, count: (item: unknown) => void): unknown {
  return watchStream(span, stream, count);
}

/**
 * Runs a tool in an INTERNAL span `execute_tool {name}` (`gen_ai.tool.name`, `gen_ai.tool.call.id`,
 * `gen_ai.tool.type`); its arguments and result are recorded (`gen_ai.tool.call.arguments`,
 * `gen_ai.tool.call.result`, JSON within the byte cap) only with content capture.
 */
export function withToolSpan<T>(name: string, fn: (span: Span) => T, options: ToolSpanOptions = {}): T {
  const tracer = activeTracer();
  const o = options ?? {};
  const toolName = String(name);
  const a: Attributes = { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': toolName, 'gen_ai.tool.type': typeof o.type === 'string' && o.type !== '' ? o.type : 'function' };
  if (typeof o.callId === 'string' && o.callId !== '') a['gen_ai.tool.call.id'] = o.callId;
  if (typeof o.description === 'string' && o.description !== '') a['gen_ai.tool.description'] = o.description;
  const capture = tracer.config.captureContent;
  if (capture && o.args !== undefined) setIf(a, 'gen_ai.tool.call.arguments', contentJson(o.args, DEFAULT_CONTENT_BYTES));
  const span = tracer.startSpan(`execute_tool ${toolName}`, { kind: 'internal', attributes: a });
  return run(
    span,
    fn,
    (value) => {
      if (capture && value !== undefined) span.setAttribute('gen_ai.tool.call.result', contentJson(value, DEFAULT_CONTENT_BYTES));
    },
    (stream) => countingStream(span, stream, () => {}),
  );
}

/**
 * Runs an agent invocation in an INTERNAL span `invoke_agent {name}` (`gen_ai.agent.name`,
 * `gen_ai.agent.id`, `gen_ai.agent.description`, `gen_ai.conversation.id`): the LLM and tool spans
 * of the agent's loop are its children.
 */
export function withAgentSpan<T>(name: string, fn: (span: Span) => T, options: AgentSpanOptions = {}): T {
  const tracer = activeTracer();
  const o = options ?? {};
  const agentName = String(name);
  const a: Attributes = { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': agentName };
  if (typeof o.agentId === 'string' && o.agentId !== '') a['gen_ai.agent.id'] = o.agentId;
  if (typeof o.description === 'string' && o.description !== '') a['gen_ai.agent.description'] = o.description;
  if (typeof o.conversationId === 'string' && o.conversationId !== '') a['gen_ai.conversation.id'] = o.conversationId;
  if (typeof o.provider === 'string' && o.provider !== '') a['gen_ai.provider.name'] = o.provider;
  if (typeof o.model === 'string' && o.model !== '') a['gen_ai.request.model'] = o.model;
  const span = tracer.startSpan(`invoke_agent ${agentName}`, { kind: 'internal', attributes: a });
  return run(span, fn, () => {}, (stream) => countingStream(span, stream, () => {}));
}

/**
 * Runs one stage of a realtime pipeline (VAD, STT, LLM, TTS, transport...) in an INTERNAL span
 * `{name}`: `fn(span, frames)` counts frames in and out (`tracewire.pipeline.frames_in` / `_out`,
 * `tracewire.pipeline.bytes_in` / `_out`, `tracewire.pipeline.time_to_first_frame` in seconds).
 * When `fn` returns a stream, each item it yields is a frame out and the span ends with it.
 */
export function withPipelineStep<T>(name: string, fn: (span: Span, frames: PipelineFrames) => T): T {
  const tracer = activeTracer();
  const startTime = now();
  const span = tracer.startSpan(String(name), { kind: 'internal', attributes: { 'tracewire.pipeline.step': String(name) } });
  let framesIn = 0;
  let framesOut = 0;
  let bytesIn = 0;
  let bytesOut = 0;
  let first: number | undefined;
  const count = (n: unknown, fallback = 1): number => (typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : fallback);
  const frames: PipelineFrames = {
    in(n, bytes) {
      framesIn += count(n);
      bytesIn += count(bytes, 0);
    },
    out(n, bytes) {
      if (first === undefined) first = now();
      framesOut += count(n);
      bytesOut += count(bytes, 0);
    },
  };
  // Written just before the span ends, whichever way it ends.
  const end = span.end.bind(span);
  span.end = (endTime?: Parameters<Span['end']>[0]) => {
    span.setAttributes({ 'tracewire.pipeline.frames_in': framesIn, 'tracewire.pipeline.frames_out': framesOut });
    if (bytesIn > 0) span.setAttribute('tracewire.pipeline.bytes_in', bytesIn);
    if (bytesOut > 0) span.setAttribute('tracewire.pipeline.bytes_out', bytesOut);
    if (first !== undefined) span.setAttribute('tracewire.pipeline.time_to_first_frame', Math.max(0, first - startTime) / 1000);
    end(endTime);
  };
  return run(
    span,
    (s) => fn(s, frames),
    () => {},
    (stream) =>
      countingStream(span, stream, (item) => {
        frames.out(1, item instanceof Uint8Array ? item.byteLength : typeof item === 'string' ? Buffer.byteLength(item) : 0);
      }),
  );
}
