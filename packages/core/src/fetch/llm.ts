/**
 * LLM calls made with tracedFetch: which URLs are LLM APIs, what the JSON request says
 * (`gen_ai.request.*`), and `ensureStreamUsage`. The response side lives in ./llm-response.
 */
import type { Attributes } from '../types';

/** The wire API of an LLM call, which decides how its request and response are read. */
export type LLMApi = 'openai.chat' | 'openai.responses' | 'anthropic.messages';

/** An LLM endpoint recognised from the URL alone. */
export interface LLMEndpoint {
  api: LLMApi;
  /** `gen_ai.provider.name` (OpenTelemetry GenAI well-known values). */
  provider: string;
  /** Azure OpenAI: the deployment named in the path, the model when the body names none. */
  deployment?: string;
}

/** What the request body told us; `body` is the parsed JSON (for the response decoders). */
export interface LLMRequest extends LLMEndpoint {
  operation: string;
  model?: string;
  stream: boolean;
  body?: Record<string, unknown>;
  /** The attributes to start the span with. */
  attributes: Attributes;
}

// OpenAI-compatible providers by host; anything else speaking the OpenAI wire format is "openai",
// the format it speaks (a local vLLM, Ollama or a proxy).
const COMPAT_HOSTS: Array<[string, string]> = [
  ['api.groq.com', 'groq'],
  ['api.deepseek.com', 'deepseek'],
  ['api.mistral.ai', 'mistral_ai'],
  ['api.perplexity.ai', 'perplexity'],
  ['api.x.ai', 'x_ai'],
];

const AZURE_DEPLOYMENT = /\/openai\/deployments\/([^/]+)\/chat\/completions$/;

function compatProvider(hostname: string): string {
  const host = hostname.toLowerCase();
  if (host.endsWith('.openai.azure.com') || host.endsWith('.cognitiveservices.azure.com')) return 'azure.ai.openai';
  for (const [suffix, name] of COMPAT_HOSTS) if (host === suffix || host.endsWith('.' + suffix)) return name;
  return 'openai';
}

/**
 * The LLM API a POST to `url` calls, from its path: OpenAI Chat Completions (`/v1/chat/completions`
 * and any OpenAI-compatible path ending in `/chat/completions`), Azure OpenAI
 * (`/openai/deployments/{deployment}/chat/completions`), OpenAI Responses (`/v1/responses`,
 * Azure's `/openai/responses`) and Anthropic Messages (`/v1/messages`).
 */
export function detectLLMEndpoint(method: string, url: URL): LLMEndpoint | undefined {
  if (method !== 'POST') return undefined;
  const path = url.pathname.length > 1 && url.pathname.endsWith('/') ? url.pathname.slice(0, -1) : url.pathname;
  if (path.endsWith('/chat/completions')) {
    const azure = AZURE_DEPLOYMENT.exec(path);
    if (azure) {
      let deployment = azure[1];
      try {
        deployment = decodeURIComponent(deployment);
      } catch {
        // keep it as written
      }
      return { api: 'openai.chat', provider: 'azure.ai.openai', deployment };
    }
    return { api: 'openai.chat', provider: compatProvider(url.hostname) };
  }
  if (path.endsWith('/v1/responses') || path.endsWith('/openai/responses')) {
    return { api: 'openai.responses', provider: compatProvider(url.hostname) };
  }
  if (path.endsWith('/v1/messages')) return { api: 'anthropic.messages', provider: 'anthropic' };
  return undefined;
}

/** Bodies up to this size are parsed; a larger one (inline images) only has its model looked up. */
export const MAX_PARSED_REQUEST_BYTES = 1024 * 1024;

const MODEL_FIELD = /"model"\s*:\s*"((?:[^"\\]|\\.){1,200})"/;
const STREAM_FIELD = /"stream"\s*:\s*true/;

/** The request body as text, when it is one we can read without consuming anything. */
export function bodyText(body: unknown): string | undefined {
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return new TextDecoder().decode(body);
  if (body instanceof ArrayBuffer) return new TextDecoder().decode(new Uint8Array(body));
  return undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Reads an LLM request body (JSON text); undefined when it is not one (no model, not JSON). */
export function readLLMRequest(endpoint: LLMEndpoint, text: string | undefined): LLMRequest | undefined {
  let body: Record<string, unknown> | undefined;
  let model: string | undefined;
  let stream = false;
  if (text !== undefined && text.length <= MAX_PARSED_REQUEST_BYTES) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
    } catch {
      return undefined;
    }
    if (body === undefined) return undefined;
    if (typeof body.model === 'string' && body.model) model = body.model;
    stream = body.stream === true;
  } else if (text !== undefined) {
    // Too large to parse on the request path: the top-level fields are found textually. A string
    // inside the messages cannot fake them, since its quotes are escaped.
    const m = MODEL_FIELD.exec(text);
    if (m) model = m[1];
    stream = STREAM_FIELD.test(text);
  }
  if (model === undefined) model = endpoint.deployment;
  // A POST to a lookalike path that is not an LLM request stays a plain HTTP call.
  if (model === undefined) return undefined;

  const operation = 'chat';
  const attributes: Attributes = {
    'gen_ai.provider.name': endpoint.provider,
    'gen_ai.operation.name': operation,
    'gen_ai.request.model': model,
  };
  // Set only when true, as the shared LLM attributes do.
  if (stream) attributes['gen_ai.request.stream'] = true;
  if (body !== undefined) {
    const maxTokens = num(body.max_tokens) ?? num(body.max_completion_tokens) ?? num(body.max_output_tokens);
    if (maxTokens !== undefined) attributes['gen_ai.request.max_tokens'] = maxTokens;
    const simple: Array<[string, string]> = [
      ['temperature', 'gen_ai.request.temperature'],
      ['top_p', 'gen_ai.request.top_p'],
      ['top_k', 'gen_ai.request.top_k'],
      ['frequency_penalty', 'gen_ai.request.frequency_penalty'],
      ['presence_penalty', 'gen_ai.request.presence_penalty'],
      ['seed', 'gen_ai.request.seed'],
    ];
    for (const [field, key] of simple) {
      const v = num(body[field]);
      if (v !== undefined) attributes[key] = v;
    }
    const n = num(body.n);
    if (n !== undefined && n !== 1) attributes['gen_ai.request.choice.count'] = n;
    const stop = body.stop ?? body.stop_sequences;
    if (typeof stop === 'string') attributes['gen_ai.request.stop_sequences'] = [stop];
    else if (Array.isArray(stop) && stop.length > 0 && stop.every((s) => typeof s === 'string')) {
      attributes['gen_ai.request.stop_sequences'] = stop as string[];
    }
  }
  return { ...endpoint, operation, model, stream, body, attributes };
}

/**
 * `ensureStreamUsage`: an OpenAI Chat Completions streaming request without
 * `stream_options.include_usage` gets `include_usage: true`, so the last chunk carries usage (and
 * cost can be computed). Returns the new body text, or undefined when nothing changes. An explicit
 * `include_usage: false` is the caller's choice and is kept.
 */
export function withStreamUsage(req: LLMRequest): string | undefined {
  const body = req.body;
  if (req.api !== 'openai.chat' || !req.stream || body === undefined) return undefined;
  const opts = body.stream_options;
  if (opts !== undefined && opts !== null && (typeof opts !== 'object' || Array.isArray(opts))) return undefined;
  if (opts && (opts as Record<string, unknown>).include_usage !== undefined) return undefined;
  return JSON.stringify({ ...body, stream_options: { ...(opts as object | null), include_usage: true } });
}
