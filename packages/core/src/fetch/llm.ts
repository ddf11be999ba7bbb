/**
 * LLM calls made with tracedFetch: which URLs are LLM APIs, what the JSON request says
 * (`gen_ai.request.*`), and `ensureStreamUsage`. The response side lives in ./llm-response.
 */
import type { Attributes } from '../types';

/** The wire API of an LLM call, which decides how its request and response are read. */
export type LLMApi =
  | 'openai.chat'
  | 'openai.responses'
  | 'anthropic.messages'
  | 'openai.embeddings'
  | 'openai.speech'
  | 'openai.transcriptions'
  | 'openai.images'
  | 'openai.batches'
  | 'openai.files'
  | 'anthropic.count_tokens'
  | 'anthropic.batches'
  | 'gemini.generate'
  | 'ollama.chat'
  | 'ollama.generate'
  | 'ollama.embed';

/** An LLM endpoint recognised from the method and URL alone. */
export interface LLMEndpoint {
  api: LLMApi;
  /** `gen_ai.provider.name` (OpenTelemetry GenAI well-known values). */
  provider: string;
  /** Azure OpenAI: the deployment named in the path, the model when the body names none. */
  deployment?: string;
  /** `gen_ai.operation.name`; default: the API's (`chat`, `embeddings`, `speech_to_text`...). */
  operation?: string;
  /** The model named in the path (Gemini: `models/{model}:generateContent`). */
  pathModel?: string;
  /** The path says the response streams (Gemini `:streamGenerateContent`). */
  pathStream?: boolean;
  /** The batch or file the path names (`/v1/batches/{id}`, `/v1/files/{id}/content`). */
  resourceId?: string;
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
// the format it speaks (a local vLLM, LM Studio, llama.cpp, Ollama's /v1 or a proxy).
const COMPAT_HOSTS: Array<[string, string]> = [
  ['api.groq.com', 'groq'],
  ['api.deepseek.com', 'deepseek'],
  ['api.mistral.ai', 'mistral_ai'],
  ['api.perplexity.ai', 'perplexity'],
  ['api.x.ai', 'x_ai'],
];

const AZURE_DEPLOYMENT = /\/openai\/deployments\/([^/]+)\/(?:chat\/completions|embeddings|audio\/speech|audio\/transcriptions|audio\/translations|images\/generations)$/;

/** The operation of each API, where one API has one. */
const OPERATIONS: Partial<Record<LLMApi, string>> = {
  'openai.chat': 'chat',
  'openai.responses': 'chat',
  'anthropic.messages': 'chat',
  'openai.embeddings': 'embeddings',
  'openai.speech': 'text_to_speech',
  'openai.transcriptions': 'speech_to_text',
  'openai.images': 'generate_image',
  'anthropic.count_tokens': 'count_tokens',
  'gemini.generate': 'generate_content',
  'ollama.chat': 'chat',
  'ollama.generate': 'text_completion',
  'ollama.embed': 'embeddings',
};

/** The core result API for each wire API, a hint for response bodies that do not say what they are. */
export const RESPONSE_API: Partial<Record<LLMApi, import('../llm/types').LLMApi>> = {
  'openai.embeddings': 'embeddings',
  'openai.speech': 'audio.speech',
  'openai.transcriptions': 'audio.transcriptions',
  'openai.images': 'images',
  'openai.batches': 'batches',
  'openai.files': 'files',
  'anthropic.batches': 'batches',
  'anthropic.count_tokens': 'count_tokens',
  'gemini.generate': 'generate_content',
  'ollama.embed': 'embeddings',
};

/** APIs whose calls need no model: management calls (and image generation, whose model has a default). */
const MODEL_OPTIONAL: ReadonlySet<LLMApi> = new Set(['openai.batches', 'openai.files', 'anthropic.batches', 'openai.images']);

function compatProvider(hostname: string): string {
  const host = hostname.toLowerCase();
  if (host.endsWith('.openai.azure.com') || host.endsWith('.cognitiveservices.azure.com')) return 'azure.ai.openai';
  for (const [suffix, name] of COMPAT_HOSTS) if (host === suffix || host.endsWith('.' + suffix)) return name;
  return 'openai';
}

// Batches and files: /v1/batches, /v1/batches/{id}, /v1/batches/{id}/cancel; /v1/files,
// /v1/files/{id}, /v1/files/{id}/content; Anthropic /v1/messages/batches[/{id}[/results|/cancel]].
const RESOURCE = /\/v1\/(batches|files|messages\/batches)(?:\/([^/]+)(?:\/(cancel|content|results))?)?$/;
// Gemini: /v1beta/models/{model}:generateContent (Vertex AI: .../publishers/google/models/{model}:...).
const GEMINI = /\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // keep it as written
  }
}

/** The operation of a batch or file call, from its method and path. */
function resourceOperation(kind: string, method: string, id: string | undefined, action: string | undefined): string | undefined {
  const noun = kind === 'files' ? 'file' : 'batch';
  if (action === 'cancel') return method === 'POST' ? `cancel_${noun}` : undefined;
  if (action === 'content' || action === 'results') return method === 'GET' ? `retrieve_${noun}_${action}` : undefined;
  if (id === undefined) {
    if (method === 'POST') return kind === 'files' ? 'upload_file' : 'create_batch';
    return method === 'GET' ? `list_${kind === 'files' ? 'files' : 'batches'}` : undefined;
  }
  if (method === 'GET') return `retrieve_${noun}`;
  if (method === 'DELETE') return `delete_${noun}`;
  return undefined;
}

/**
 * The LLM API a call to `url` makes, from its method and path: OpenAI Chat Completions
 * (`/v1/chat/completions` and any OpenAI-compatible path ending in `/chat/completions`: vLLM,
 * llama.cpp, LM Studio, Ollama's `/v1`), Azure OpenAI deployments, OpenAI Responses, embeddings,
 * audio speech and transcriptions, image generations, batches and files; Anthropic Messages,
 * `count_tokens` and message batches; Gemini `generateContent` / `streamGenerateContent`; Ollama
 * `/api/chat`, `/api/generate`, `/api/embed`.
 */
export function detectLLMEndpoint(method: string, url: URL): LLMEndpoint | undefined {
  const path = url.pathname.length > 1 && url.pathname.endsWith('/') ? url.pathname.slice(0, -1) : url.pathname;
  // Most calls are not LLM calls: the one pattern that matches other methods runs only on /v1/ paths.
  const resource = path.includes('/v1/') ? RESOURCE.exec(path) : null;
  if (resource !== null) {
    const kind = resource[1];
    const id = resource[2] === undefined ? undefined : decoded(resource[2]);
    const operation = resourceOperation(kind === 'messages/batches' ? 'batches' : kind, method, id, resource[3]);
    if (operation === undefined) return undefined;
    const endpoint: LLMEndpoint =
      kind === 'messages/batches'
        ? { api: 'anthropic.batches', provider: 'anthropic', operation }
        : { api: kind === 'files' ? 'openai.files' : 'openai.batches', provider: compatProvider(url.hostname), operation };
    if (id !== undefined) endpoint.resourceId = id;
    return endpoint;
  }
  if (method !== 'POST') return undefined;
  const azure = AZURE_DEPLOYMENT.exec(path);
  const deployment = azure ? decoded(azure[1]) : undefined;
  const withDeployment = (api: LLMApi, provider: string): LLMEndpoint =>
    deployment !== undefined ? { api, provider: 'azure.ai.openai', deployment } : { api, provider };
  if (path.endsWith('/chat/completions')) return withDeployment('openai.chat', compatProvider(url.hostname));
  if (path.endsWith('/v1/responses') || path.endsWith('/openai/responses')) {
    return { api: 'openai.responses', provider: compatProvider(url.hostname) };
  }
  if (path.endsWith('/v1/messages')) return { api: 'anthropic.messages', provider: 'anthropic' };
  if (path.endsWith('/v1/messages/count_tokens')) return { api: 'anthropic.count_tokens', provider: 'anthropic' };
  if (path.endsWith('/v1/embeddings') || (deployment !== undefined && path.endsWith('/embeddings'))) return withDeployment('openai.embeddings', compatProvider(url.hostname));
  if (path.endsWith('/audio/speech')) return withDeployment('openai.speech', compatProvider(url.hostname));
  if (path.endsWith('/audio/transcriptions') || path.endsWith('/audio/translations')) return withDeployment('openai.transcriptions', compatProvider(url.hostname));
  if (path.endsWith('/images/generations')) return withDeployment('openai.images', compatProvider(url.hostname));
  const gemini = GEMINI.exec(path);
  if (gemini !== null) {
    const host = url.hostname.toLowerCase();
    // Vertex AI's endpoint, else the Gemini API (AI Studio) or a proxy of it.
    const provider = host === 'aiplatform.googleapis.com' || host.endsWith('-aiplatform.googleapis.com') ? 'gcp.vertex_ai' : 'gcp.gemini';
    return { api: 'gemini.generate', provider, pathModel: decoded(gemini[1]), pathStream: gemini[2] === 'streamGenerateContent' };
  }
  if (path.endsWith('/api/chat')) return { api: 'ollama.chat', provider: 'ollama' };
  if (path.endsWith('/api/generate')) return { api: 'ollama.generate', provider: 'ollama' };
  if (path.endsWith('/api/embed') || path.endsWith('/api/embeddings')) return { api: 'ollama.embed', provider: 'ollama' };
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

/** The request body as form data (multipart uploads: transcriptions, files), when it is one. */
export function bodyForm(body: unknown): FormData | undefined {
  return typeof FormData !== 'undefined' && body instanceof FormData ? body : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function nonEmpty(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** A form field as text (FormData values are strings or files). */
function formText(form: FormData | undefined, key: string): string | undefined {
  const v = form?.get(key);
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The size of a file in a form, without reading it. */
function formFileBytes(form: FormData | undefined, key: string): number | undefined {
  const v = form?.get(key) as unknown;
  if (v !== null && typeof v === 'object' && typeof (v as Blob).size === 'number') return (v as Blob).size;
  return undefined;
}

/** `gen_ai.request.*` of the sampling parameters, under the names each API gives them. */
function samplingAttributes(attributes: Attributes, body: Record<string, unknown>): void {
  // Gemini nests them in generationConfig, Ollama in options.
  const g = (body.generationConfig ?? body.generation_config ?? body.options) as Record<string, unknown> | undefined;
  const src = g !== null && typeof g === 'object' ? { ...body, ...g } : body;
  const maxTokens = num(src.max_tokens) ?? num(src.max_completion_tokens) ?? num(src.max_output_tokens) ?? num(src.maxOutputTokens) ?? num(src.num_predict);
  if (maxTokens !== undefined) attributes['gen_ai.request.max_tokens'] = maxTokens;
  const simple: Array<[string[], string]> = [
    [['temperature'], 'gen_ai.request.temperature'],
    [['top_p', 'topP'], 'gen_ai.request.top_p'],
    [['top_k', 'topK'], 'gen_ai.request.top_k'],
    [['frequency_penalty', 'frequencyPenalty'], 'gen_ai.request.frequency_penalty'],
    [['presence_penalty', 'presencePenalty'], 'gen_ai.request.presence_penalty'],
    [['seed'], 'gen_ai.request.seed'],
  ];
  for (const [fields, key] of simple) {
    for (const field of fields) {
      const v = num(src[field]);
      if (v !== undefined) {
        attributes[key] = v;
        break;
      }
    }
  }
  const n = num(src.n) ?? num(src.candidateCount);
  if (n !== undefined && n !== 1) attributes['gen_ai.request.choice.count'] = n;
  const stop = src.stop ?? src.stop_sequences ?? src.stopSequences;
  if (typeof stop === 'string') attributes['gen_ai.request.stop_sequences'] = [stop];
  else if (Array.isArray(stop) && stop.length > 0 && stop.every((x) => typeof x === 'string')) {
    attributes['gen_ai.request.stop_sequences'] = stop as string[];
  }
}

/** What the request of a non-chat API says (voice, audio size, counts, ids), never its content. */
function apiAttributes(endpoint: LLMEndpoint, attributes: Attributes, body: Record<string, unknown> | undefined, form: FormData | undefined): void {
  switch (endpoint.api) {
    case 'openai.embeddings': {
      const dims = num(body?.dimensions);
      if (dims !== undefined) attributes['gen_ai.embeddings.dimension.count'] = dims;
      const format = nonEmpty(body?.encoding_format);
      if (format !== undefined) attributes['gen_ai.request.encoding_formats'] = [format];
      break;
    }
    case 'openai.speech': {
      const voice = body?.voice as unknown;
      const name = nonEmpty(voice) ?? nonEmpty((voice as { id?: unknown } | undefined)?.id);
      if (name !== undefined) attributes['gen_ai.speech.voice'] = name;
      attributes['gen_ai.output.type'] = 'speech';
      if (typeof body?.input === 'string') attributes['tracewire.speech.input_characters'] = body.input.length;
      const format = nonEmpty(body?.response_format);
      if (format !== undefined) attributes['tracewire.audio.format'] = format;
      break;
    }
    case 'openai.transcriptions': {
      const bytes = formFileBytes(form, 'file');
      if (bytes !== undefined) attributes['tracewire.audio.input_bytes'] = bytes;
      const language = formText(form, 'language');
      if (language !== undefined) attributes['gen_ai.speech.input.language'] = language;
      break;
    }
    case 'openai.images': {
      const n = num(body?.n);
      if (n !== undefined) attributes['tracewire.image.requested'] = n;
      const size = nonEmpty(body?.size);
      if (size !== undefined) attributes['tracewire.image.size'] = size;
      attributes['gen_ai.output.type'] = 'image';
      break;
    }
    case 'openai.batches':
    case 'anthropic.batches': {
      if (endpoint.resourceId !== undefined) attributes['tracewire.batch.id'] = endpoint.resourceId;
      const file = nonEmpty(body?.input_file_id);
      if (file !== undefined) attributes['tracewire.file.id'] = file;
      const target = nonEmpty(body?.endpoint);
      if (target !== undefined) attributes['tracewire.batch.endpoint'] = target;
      if (Array.isArray(body?.requests)) attributes['tracewire.batch.requests.total'] = body.requests.length;
      break;
    }
    case 'openai.files': {
      if (endpoint.resourceId !== undefined) attributes['tracewire.file.id'] = endpoint.resourceId;
      const purpose = formText(form, 'purpose');
      if (purpose !== undefined) attributes['tracewire.file.purpose'] = purpose;
      const bytes = formFileBytes(form, 'file');
      if (bytes !== undefined) attributes['tracewire.file.bytes'] = bytes;
      break;
    }
    default:
  }
}

/**
 * Reads an LLM request body (JSON text, or form data for uploads); undefined when it is not one
 * (no model where the API needs one, not JSON).
 */
export function readLLMRequest(endpoint: LLMEndpoint, text: string | undefined, form?: FormData): LLMRequest | undefined {
  let body: Record<string, unknown> | undefined;
  let model: string | undefined = endpoint.pathModel;
  let stream = endpoint.pathStream === true;
  if (form !== undefined) {
    model = formText(form, 'model') ?? model;
    stream = formText(form, 'stream') === 'true';
  } else if (text !== undefined && text.length <= MAX_PARSED_REQUEST_BYTES) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
    } catch {
      return undefined;
    }
    if (body === undefined) return undefined;
    if (typeof body.model === 'string' && body.model) model = body.model;
    // Ollama streams unless told not to; OpenAI speech streams events with stream_format 'sse'.
    if (endpoint.api === 'ollama.chat' || endpoint.api === 'ollama.generate') stream = body.stream !== false;
    else if (endpoint.api === 'openai.speech') stream = body.stream_format === 'sse';
    else if (!stream) stream = body.stream === true;
  } else if (text !== undefined) {
    // Too large to parse on the request path: the top-level fields are found textually. A string
    // inside the messages cannot fake them, since its quotes are escaped.
    const m = MODEL_FIELD.exec(text);
    if (m) model = m[1];
    stream = stream || STREAM_FIELD.test(text);
  }
  if (model === undefined) model = endpoint.deployment;
  // A POST to a lookalike path that is not an LLM request stays a plain HTTP call.
  if (model === undefined && !MODEL_OPTIONAL.has(endpoint.api)) return undefined;

  const operation = endpoint.operation ?? OPERATIONS[endpoint.api] ?? 'chat';
  const attributes: Attributes = {
    'gen_ai.provider.name': endpoint.provider,
    'gen_ai.operation.name': operation,
  };
  if (model !== undefined) attributes['gen_ai.request.model'] = model;
  // Set only when true, as the shared LLM attributes do.
  if (stream) attributes['gen_ai.request.stream'] = true;
  if (body !== undefined) samplingAttributes(attributes, body);
  apiAttributes(endpoint, attributes, body, form);
  const req: LLMRequest = { ...endpoint, operation, stream, body, attributes };
  if (model !== undefined) req.model = model;
  return req;
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
