/**
 * The instruments, named and bucketed as the OpenTelemetry semantic conventions say (HTTP metrics;
 * GenAI metrics, semantic-conventions-genai gen-ai-metrics.md), and the TracerObserver that feeds
 * them from every request, tracedFetch call and LLM call core reports, sampled or not.
 *
 * Attributes are only route templates, methods, status codes, error types, provider and model
 * names, and server addresses: never a raw path, id or user value. Each instrument keeps at most
 * `cardinalityLimit` attribute sets, the last one the overflow set.
 */
import type { Attributes } from '@opentelemetry/api';
import type { ClientRequestOutcome, LLMCallOutcome, ServerRequestOutcome, TracerObserver } from '@tracewire/core';
import { Histogram, Sum } from './aggregate';
import type { Registry } from './producer';

/** `http.server.request.duration` / `http.client.request.duration` buckets (HTTP semantic conventions). */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
/** GenAI operation durations, time to first chunk and time per output chunk (client), and the server request duration. */
export const GEN_AI_DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
/** `gen_ai.client.token.usage`. */
export const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
/** `gen_ai.server.time_to_first_token`. */
export const SERVER_TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];
/** `gen_ai.server.time_per_output_token`. */
export const SERVER_TPOT_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5];

function httpServerAttributes(o: ServerRequestOutcome): Attributes {
  const a: Attributes = { 'http.request.method': o.method, 'url.scheme': o.scheme };
  if (o.route !== undefined) a['http.route'] = o.route;
  if (o.statusCode !== undefined) a['http.response.status_code'] = o.statusCode;
  if (o.errorType !== undefined) a['error.type'] = o.errorType;
  if (o.protocolVersion) a['network.protocol.version'] = o.protocolVersion;
  return a;
}

function httpClientAttributes(o: ClientRequestOutcome): Attributes {
  const a: Attributes = { 'http.request.method': o.method, 'server.address': o.serverAddress, 'server.port': o.serverPort, 'url.scheme': o.scheme };
  if (o.statusCode !== undefined) a['http.response.status_code'] = o.statusCode;
  if (o.errorType !== undefined) a['error.type'] = o.errorType;
  return a;
}

/** The attributes every GenAI metric has (gen-ai-metrics.md `metric_attributes.gen_ai`). */
function genAiAttributes(o: LLMCallOutcome): Attributes {
  const a: Attributes = { 'gen_ai.operation.name': o.operation, 'gen_ai.provider.name': o.provider };
  if (o.requestModel !== undefined) a['gen_ai.request.model'] = o.requestModel;
  if (o.responseModel !== undefined) a['gen_ai.response.model'] = o.responseModel;
  if (o.serverAddress !== undefined) {
    a['server.address'] = o.serverAddress;
    if (o.serverPort !== undefined) a['server.port'] = o.serverPort;
  }
  return a;
}

function genAiErrorAttributes(o: LLMCallOutcome): Attributes {
  const a = genAiAttributes(o);
  if (o.errorType !== undefined) a['error.type'] = o.errorType;
  return a;
}

function inputTokenAttributes(o: LLMCallOutcome): Attributes {
  const a = genAiAttributes(o);
  a['gen_ai.token.type'] = 'input';
  return a;
}

function outputTokenAttributes(o: LLMCallOutcome): Attributes {
  const a = genAiAttributes(o);
  a['gen_ai.token.type'] = 'output';
  return a;
}

function costAttributes(o: LLMCallOutcome): Attributes {
  const a: Attributes = { 'gen_ai.operation.name': o.operation, 'gen_ai.provider.name': o.provider };
  if (o.requestModel !== undefined) a['gen_ai.request.model'] = o.requestModel;
  if (o.responseModel !== undefined) a['gen_ai.response.model'] = o.responseModel;
  return a;
}

/** Every instrument of one metrics pipeline, and the observer that records into them. */
export class Instruments implements Registry {
  readonly httpServerDuration: Histogram;
  readonly httpClientDuration: Histogram;
  readonly operationDuration: Histogram;
  readonly tokenUsage: Histogram;
  readonly timeToFirstChunk: Histogram;
  readonly timePerOutputChunk: Histogram;
  readonly serverRequestDuration: Histogram;
  readonly serverTimeToFirstToken: Histogram;
  readonly serverTimePerOutputToken: Histogram;
  readonly cost: Sum;
  readonly histograms: readonly Histogram[];
  readonly sums: readonly Sum[];
  /** Records every outcome of the tracers it is added to (`tracer.addObserver`). */
  readonly observer: TracerObserver;

  constructor(limit: number) {
    const h = (name: string, unit: string, description: string, buckets: number[], integer = false) => new Histogram({ name, unit, description, integer }, buckets, limit);
    this.httpServerDuration = h('http.server.request.duration', 's', 'Duration of HTTP server requests.', HTTP_DURATION_BUCKETS);
    this.httpClientDuration = h('http.client.request.duration', 's', 'Duration of HTTP client requests.', HTTP_DURATION_BUCKETS);
    this.operationDuration = h('gen_ai.client.operation.duration', 's', 'GenAI operation duration.', GEN_AI_DURATION_BUCKETS);
    this.tokenUsage = h('gen_ai.client.token.usage', '{token}', 'Number of input and output tokens used.', TOKEN_BUCKETS, true);
    this.timeToFirstChunk = h('gen_ai.client.operation.time_to_first_chunk', 's', 'Time to receive the first chunk, from when the client issues the generation request to when the first chunk is received in the response stream.', GEN_AI_DURATION_BUCKETS);
    this.timePerOutputChunk = h('gen_ai.client.operation.time_per_output_chunk', 's', 'Time per output chunk, recorded for each chunk received after the first one, from the end of the previous chunk to the end of the current chunk.', GEN_AI_DURATION_BUCKETS);
    this.serverRequestDuration = h('gen_ai.server.request.duration', 's', 'Generative AI server request duration such as time-to-last byte or last output token.', GEN_AI_DURATION_BUCKETS);
    this.serverTimeToFirstToken = h('gen_ai.server.time_to_first_token', 's', 'Time to generate first token for successful responses.', SERVER_TTFT_BUCKETS);
    this.serverTimePerOutputToken = h('gen_ai.server.time_per_output_token', 's', 'Time per output token generated after the first token for successful responses.', SERVER_TPOT_BUCKETS);
    this.cost = new Sum({ name: 'tracewire.usage.cost', unit: 'USD', description: 'Cost of the LLM calls made, in US dollars, from the pricing table (calls whose model or token counts are unknown are not counted).' }, limit);
    this.histograms = [
      this.httpServerDuration,
      this.httpClientDuration,
      this.operationDuration,
      this.tokenUsage,
      this.timeToFirstChunk,
      this.timePerOutputChunk,
      this.serverRequestDuration,
      this.serverTimeToFirstToken,
      this.serverTimePerOutputToken,
    ];
    this.sums = [this.cost];
    // Series are found by the attribute values themselves, the route template or model first
    // (see Instrument#find): what an outcome carries, compared, never joined into a key.
    this.observer = {
      serverRequest: (o) => this.httpServerDuration.record(o.route ?? '', o.route === undefined, o.method, o.statusCode, o.errorType, o.scheme, o.protocolVersion, httpServerAttributes, o, o.duration),
      clientRequest: (o) => this.httpClientDuration.record(o.serverAddress, o.serverPort, o.method, o.statusCode, o.errorType, o.scheme, undefined, httpClientAttributes, o, o.duration),
      llmCall: (o) => (o.side === 'client' ? this.client(o) : this.server(o)),
    };
  }

  /** An LLM call the app made: duration, tokens, time to first chunk, every chunk interval, cost. */
  private client(o: LLMCallOutcome): void {
    // The response model first: the same string call after call (with the request model among
    // the values compared, the two decide the set).
    const model = o.responseModel ?? '';
    const { operation: op, provider, requestModel: req, serverAddress: host, serverPort: port } = o;
    if (o.duration !== undefined) this.operationDuration.record(model, req, op, provider, host, port, o.errorType, genAiErrorAttributes, o, o.duration);
    // Reported counts only: an estimate of a cut stream is not usage (gen-ai-metrics.md).
    const usage = o.usage;
    if (usage.input !== undefined) this.tokenUsage.record(model, req, op, provider, host, port, 'input', inputTokenAttributes, o, usage.input);
    if (usage.output !== undefined) this.tokenUsage.record(model, req, op, provider, host, port, 'output', outputTokenAttributes, o, usage.output);
    if (o.stream) {
      if (o.timeToFirstChunk !== undefined) this.timeToFirstChunk.record(model, req, op, provider, host, port, undefined, genAiAttributes, o, o.timeToFirstChunk);
      if (o.chunkIntervals !== undefined) this.timePerOutputChunk.recordAll(model, req, op, provider, host, port, undefined, genAiAttributes, o, o.chunkIntervals);
    }
    if (o.cost !== undefined) this.cost.add(model, req, op, provider, undefined, undefined, undefined, costAttributes, o, o.cost);
  }

  /**
   * A token stream the app served: request duration, and for a successful response the time to
   * first token and the time per output token after it ((duration − TTFT) / (output tokens − 1),
   * the output tokens as reported, else the content chunks counted).
   */
  private server(o: LLMCallOutcome): void {
    const duration = o.duration;
    if (duration === undefined) return;
    const model = o.responseModel ?? '';
    const { operation: op, provider, requestModel: req, serverAddress: host, serverPort: port } = o;
    this.serverRequestDuration.record(model, req, op, provider, host, port, o.errorType, genAiErrorAttributes, o, duration);
    if (o.errorType !== undefined) return;
    const ttft = o.timeToFirstChunk;
    if (ttft === undefined) return;
    this.serverTimeToFirstToken.record(model, req, op, provider, host, port, undefined, genAiAttributes, o, ttft);
    const tokens = o.usage.output ?? o.contentChunks;
    if (tokens !== undefined && tokens > 1) this.serverTimePerOutputToken.record(model, req, op, provider, host, port, undefined, genAiAttributes, o, Math.max(0, duration - ttft) / (tokens - 1));
  }
}
