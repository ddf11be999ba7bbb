/**
 * The response side of an LLM call made with tracedFetch: the bytes the consumer reads go through
 * the same decoders as the server-side stream accumulator (streamed) or the same JSON decoder
 * (non-streamed), and come out as the same `gen_ai.*` attributes. Nothing is read here that the
 * consumer did not read itself: no clone, no tee.
 */
import type { Span } from '../types';
import type { Pricing } from '../config';
import { decodeLLMResponseBody, streamFormatFor } from '../stream';
import { Accumulator } from '../stream/accumulator';
import type { LLMResult } from '../llm/types';
import { llmAttributes } from '../llm';
import type { GenAINames } from '../llm/attributes';
import type { BodyObserver, LLMObservation } from './body';
import type { LLMRequest } from './llm';
import { RESPONSE_API } from './llm';

export interface LLMObserverOptions {
  /** Epoch ms the call started: time to first chunk runs from here. */
  startTime: number;
  captureContent: boolean;
  pricing: Pricing | undefined;
  /** GenAI attribute names (OTEL_SEMCONV_STABILITY_OPT_IN). */
  genAiNames?: GenAINames;
  /** An observer waits for the call's figures: every content chunk is timed. */
  observed?: boolean;
}

/** A JSON response larger than this is passed through without being decoded (bounded memory). */
export const MAX_JSON_RESPONSE_BYTES = 4 * 1024 * 1024;

/** Sets `error.type` and status Error for an error the provider reported in the body. */
function providerError(span: Span, error: { type: string; message?: string } | undefined): void {
  if (error === undefined || !error.type) return;
  span.setAttribute('error.type', error.type);
  span.setStatus(error.message ? { code: 'error', message: error.message } : { code: 'error' });
}

/**
 * The provider named by the URL (`azure.ai.openai`, `groq`...) is more precise than the wire
 * format the decoders recognise (`openai`), and so is the operation the endpoint names
 * (`cancel_batch`...), so both are set again after them.
 */
function keepProvider(span: Span, llm: LLMRequest): void {
  span.setAttribute('gen_ai.provider.name', llm.provider);
  span.setAttribute('gen_ai.operation.name', llm.operation);
}

function streamObserver(llm: LLMRequest, contentType: string, opts: LLMObserverOptions): BodyObserver {
  const acc = new Accumulator({
    contentType,
    startTime: opts.startTime,
    captureContent: opts.captureContent,
    pricing: opts.pricing,
    requestModel: llm.model,
    inputMessages: llm.body,
    genAiNames: opts.genAiNames,
  });
  if (opts.observed === true) acc.trackChunkIntervals();
  return {
    chunk: (bytes) => acc.write(bytes),
    end: () => acc.end(),
    abort: () => acc.abort(),
    apply(span) {
      // Not acc.applyTo(): that marks an unfinished stream `client_aborted`, a server-side notion.
      // Here the tap decides how an unfinished body is recorded (abort, cancel, unread).
      span.setAttributes(acc.attributes());
      keepProvider(span, llm);
      providerError(span, acc.llm()?.error);
    },
    llm(): LLMObservation {
      return {
        result: acc.finalResult(),
        stream: true,
        firstChunkTime: acc.firstContentAt(),
        contentChunks: acc.contentChunks,
        chunkIntervals: acc.chunkIntervals(),
        estimateOutputFrom: acc.aborted ? acc.contentChunks : undefined,
        errorType: undefined,
      };
    },
  };
}

function jsonObserver(llm: LLMRequest, opts: LLMObserverOptions): BodyObserver {
  let parts: Uint8Array[] | undefined = [];
  let size = 0;
  let ended = false;
  let decoded: { result: LLMResult | undefined; errorType: string | undefined; errorMessage: string | undefined } | undefined;
  /** The body decoded once, whoever asks first (the span or an observer). */
  const decode = () => {
    if (decoded !== undefined) return decoded;
    decoded = { result: undefined, errorType: undefined, errorMessage: undefined };
    if (!ended || parts === undefined) return decoded;
    let json: unknown;
    try {
      json = JSON.parse(Buffer.concat(parts).toString('utf8'));
    } catch {
      return decoded;
    } finally {
      parts = undefined;
    }
    const result = decodeLLMResponseBody(json, { api: RESPONSE_API[llm.api], operation: llm.operation });
    if (result !== undefined) {
      decoded.result = result;
      return decoded;
    }
    // OpenAI-style error body: { error: { type, message, code } }; Gemini's has a status.
    const err = json !== null && typeof json === 'object' ? (json as { error?: unknown }).error : undefined;
    if (err !== null && typeof err === 'object') {
      const { type, code, message, status } = err as { type?: unknown; code?: unknown; message?: unknown; status?: unknown };
      const t = typeof type === 'string' && type ? type : typeof code === 'string' ? code : typeof status === 'string' ? status : '';
      if (t) decoded.errorType = t;
      decoded.errorMessage = typeof message === 'string' ? message : undefined;
    }
    return decoded;
  };
  return {
    chunk(bytes) {
      if (parts === undefined) return;
      size += bytes.byteLength;
      if (size > MAX_JSON_RESPONSE_BYTES) parts = undefined;
      else parts.push(bytes);
    },
    end: () => {
      ended = true;
    },
    abort: () => {
      parts = undefined;
    },
    apply(span) {
      const { result, errorType, errorMessage } = decode();
      if (result === undefined) {
        if (errorType !== undefined) providerError(span, { type: errorType, message: errorMessage });
        return;
      }
      span.setAttributes(
        llmAttributes(result, {
          stream: false,
          requestModel: llm.model,
          startTime: opts.startTime,
          captureContent: opts.captureContent,
          inputMessages: llm.body,
          pricing: opts.pricing,
          names: opts.genAiNames,
        }),
      );
      keepProvider(span, llm);
      providerError(span, result.error);
    },
    llm(): LLMObservation {
      const { result, errorType } = decode();
      return { result, stream: false, firstChunkTime: undefined, contentChunks: undefined, chunkIntervals: undefined, estimateOutputFrom: undefined, errorType };
    },
  };
}

/**
 * Speech audio (and other binary bodies of a known call): counted as it is read, never kept,
 * `tracewire.audio.output_bytes` for speech.
 */
function byteObserver(key: string): BodyObserver {
  let bytes = 0;
  return {
    chunk(b) {
      bytes += b.byteLength;
    },
    end() {},
    abort() {},
    apply(span) {
      span.setAttribute(key, bytes);
    },
  };
}

/**
 * An observer for the response of an LLM call: SSE (and NDJSON) bodies go to a stream
 * accumulator, JSON bodies to the JSON decoder, speech audio to a byte counter; anything else is
 * left alone.
 */
export function createLLMObserver(llm: LLMRequest, res: Response, opts: LLMObserverOptions): BodyObserver | undefined {
  const contentType = res.headers.get('content-type') ?? '';
  if (streamFormatFor(contentType) !== 'chunked') return streamObserver(llm, contentType, opts);
  if (/[/+]json\s*(;|$)/i.test(contentType)) return jsonObserver(llm, opts);
  if (llm.api === 'openai.speech' && res.status < 300) return byteObserver('tracewire.audio.output_bytes');
  return undefined;
}
