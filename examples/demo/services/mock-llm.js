'use strict';
/**
 * A mock LLM provider on loopback, so the demo (and any example or test) shows real token streams
 * with no network and no API key. A Koa app speaking two wire formats:
 *
 *   POST /v1/chat/completions   OpenAI Chat Completions, streamed (SSE) or JSON, with
 *                               stream_options.include_usage, tool calls, cached and reasoning tokens
 *   POST /v1/messages           Anthropic Messages, streamed (SSE events) or JSON, with tool_use and
 *                               cache_read_input_tokens
 *   GET  /v1/models             the models it answers for
 *
 * Behaviour, chosen per request:
 *   - a time to first token of 150-450 ms, then a token every 12-35 ms (jittered), like a real model;
 *   - tools offered and asked for → tool calls first (get_weather for "weather", get_local_time for
 *     "time" or "right now"; both at once when both are asked for: parallel tool calls), then, once
 *     the tool results come back, an answer that uses them;
 *   - an o-series model or "think step by step" → a slow, reasoning answer (1.5-2.5 s to the
 *     first token, reasoning tokens in the usage);
 *   - "long" / "story" → a long answer (a good one to abort mid-stream);
 *   - a repeated system prompt → cached input tokens (prompt caching), in 128-token steps;
 *   - `errorRate` of the requests fail (HTTP 429/500/529 or an in-band error mid-stream); the header
 *     `x-mock-llm-scenario: error | overloaded | midstream-error` forces one.
 *
 * Use: `createMockLLM(options)` → a Koa app; `startMockLLM({ port, host, ...options })` → { url, close }.
 * Options: `tracer` (Tracewire tracer for its server spans), `errorRate` (default 0.05), `speed`
 * (multiplies every delay; 0 is as fast as possible, default 1), `random` (a () => [0, 1) source).
 */
const http = require('node:http');
const { PassThrough } = require('node:stream');
const Koa = require('koa');
const Router = require('@koa/router');

const MODELS = ['gpt-5.4-mini', 'gpt-5.4', 'gpt-5.4-nano', 'o4-mini', 'claude-haiku-4-5', 'claude-sonnet-4-6'];

// Canned answers; the first word of each is chosen by the question so the same question reads the same.
const ANSWERS = [
  'Distributed tracing follows one request across every service it touches. Each hop adds a span with its timing, so the slow step stands out at a glance, and the trace id ties the logs of all services together.',
  'Time to first token is the wait before the model starts to answer. Users feel it more than the total time, so it is worth watching on every streamed call: a slow first token usually means a long prompt, a cold cache or a busy provider.',
  'Prompt caching lets the provider reuse the work done on a prefix it has seen before. Cached input tokens are billed at a fraction of the normal price, so keeping the system prompt stable saves real money on every turn.',
  'Streaming sends the answer token by token as the model writes it. The first words show up quickly and the connection stays open until the last one, which is why a trace has to end when the last byte leaves, not when the handler returns.',
  'A good retry policy backs off exponentially, adds jitter, and gives up after a few attempts. Rate limits and overloaded providers are normal on busy days, and a trace shows each attempt as its own client span.',
];
const LONG_STORY =
  'Once upon a time, in a data centre humming with fans, a single request set out on a long journey. It passed the gateway, where a guard checked its headers and stamped a traceparent on its sleeve. ' +
  'It hurried to the chat service, which read its question twice and wrote a careful prompt for the model. The model thought for a while, then began to speak, one token at a time, and every word flowed back along the same road. ' +
  'The gateway relayed each word to the user, who watched the answer grow line by line. Somewhere a tracer counted the tokens, timed the first one, and priced the whole conversation to a fraction of a cent. ' +
  'When the last word arrived, the spans closed one by one, from the deepest to the root, and the whole journey was written down in a single trace that anyone could open later and read like a map.';
const REASONED =
  'Let me work through it. First, the request crosses three services, so the total time is the sum of their own work plus the waiting in between. Second, the model spends most of that time before its first token, thinking. ' +
  'So the answer is: make the prompt shorter and keep its prefix stable, and the first token arrives much sooner.';

/** The cities the mock knows, with their time zones (for get_local_time's arguments). */
const CITIES = { paris: 'Europe/Paris', london: 'Europe/London', tokyo: 'Asia/Tokyo', berlin: 'Europe/Berlin', 'new york': 'America/New_York', lisbon: 'Europe/Lisbon' };

/** Rough token count: about four characters per token, as the providers' tokenisers average on English. */
const tokensOf = (text) => Math.max(1, Math.ceil(String(text).length / 4));

function textOf(content) {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (typeof p === 'string' ? p : p && (p.text ?? p.content ?? (p.input ? JSON.stringify(p.input) : '')))).join(' ');
  return content == null ? '' : JSON.stringify(content);
}

function hash(s) {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Output tokens of a set of tool calls: their arguments plus a few for each name and id. */
const callTokens = (calls) => calls.reduce((n, c) => n + tokensOf(c.arguments) + 8, 0);

/** One sentence of the answer from one tool result (get_weather's, get_local_time's, or anything else). */
function fromToolResult(result) {
  let parsed = {};
  try {
    parsed = JSON.parse(result);
  } catch {
    parsed = {};
  }
  if (parsed && parsed.city !== undefined && parsed.temperature_c !== undefined) {
    return `Right now in ${parsed.city} it is ${parsed.temperature_c} °C and ${parsed.conditions}. ${parsed.temperature_c >= 20 ? 'A good day to be outside.' : 'Take a jacket if you go out.'}`;
  }
  if (parsed && parsed.time !== undefined) return `The local time there is ${parsed.time}${parsed.timezone ? ` (${parsed.timezone})` : ''}.`;
  return `The tool says: ${result}`;
}

/** The answer's tokens: words with their trailing space, as models stream them. */
const pieces = (text) => text.split(/(?<= )/);

/** Creates the mock provider's Koa app. */
function createMockLLM(options = {}) {
  const { tracer, errorRate = 0.05, speed = 1, random = Math.random } = options;
  if (typeof errorRate !== 'number' || errorRate < 0 || errorRate > 1) throw new TypeError('createMockLLM: option "errorRate" must be a number from 0 to 1');
  if (typeof speed !== 'number' || speed < 0) throw new TypeError('createMockLLM: option "speed" must be a number >= 0');
  const between = (lo, hi) => (lo + random() * (hi - lo)) * speed;
  // System prompts seen before: their prefix is "cached" (kept small: a bounded, insertion-ordered set).
  const seenPrefixes = new Set();
  const cachedTokensFor = (system) => {
    if (!system) return 0;
    const key = hash(system);
    const seen = seenPrefixes.has(key);
    seenPrefixes.add(key);
    if (seenPrefixes.size > 1000) seenPrefixes.delete(seenPrefixes.values().next().value);
    const tokens = tokensOf(system);
    // Providers cache in steps (OpenAI: 128 tokens, from 1024 up; from 128 here, so the demo's
    // short system prompt shows caching too).
    return seen && tokens >= 128 ? Math.floor(tokens / 128) * 128 : 0;
  };

  /** What to do for one request, from its body and headers. */
  function plan(body, headers, provider) {
    const messages = Array.isArray(body.messages) ? body.messages : [];
    const system = provider === 'anthropic' ? textOf(body.system ?? '') : textOf((messages.find((m) => m.role === 'system' || m.role === 'developer') || {}).content ?? '');
    const last = [...messages].reverse().find((m) => m.role === 'user') || {};
    const question = textOf(last.content);
    const toolResults = provider === 'anthropic'
      ? messages.flatMap((m) => (Array.isArray(m.content) ? m.content : [])).filter((p) => p && p.type === 'tool_result')
      : messages.filter((m) => m.role === 'tool');
    const tools = Array.isArray(body.tools) ? body.tools : [];
    const offered = new Set(tools.map((t) => (t && t.function ? t.function.name : t && t.name)));
    const model = String(body.model || (provider === 'anthropic' ? 'claude-haiku-4-5' : 'gpt-5.4-mini'));
    const scenario = String(headers['x-mock-llm-scenario'] || '');
    const reasoning = /^o\d/.test(model) || /think step by step/i.test(question) || scenario === 'slow';

    let failure = null;
    if (scenario === 'error') failure = random() < 0.5 ? 'rate_limit' : 'server_error';
    else if (scenario === 'overloaded') failure = 'overloaded';
    else if (scenario === 'midstream-error') failure = 'midstream';
    else if (scenario === '' && random() < errorRate) failure = ['rate_limit', 'server_error', 'midstream'][Math.floor(random() * 3)];

    const toolCalls = toolResults.length > 0 ? [] : callsFor(question, offered);
    let text;
    if (toolResults.length > 0) text = toolResults.map((r) => fromToolResult(textOf(r.content))).join(' ');
    else if (toolCalls.length > 0) text = undefined;
    else if (reasoning) text = REASONED;
    else if (/\b(long|story)\b/i.test(question)) text = LONG_STORY;
    else text = ANSWERS[hash(question) % ANSWERS.length];

    const input = tokensOf(system) + messages.reduce((n, m) => n + tokensOf(textOf(m.content)) + 4, 0) + tools.length * 60;
    return {
      model,
      text,
      toolCalls,
      failure,
      reasoningTokens: reasoning ? 180 + Math.floor(random() * 200) : 0,
      inputTokens: input,
      cachedTokens: Math.min(cachedTokensFor(system), input),
      firstTokenMs: reasoning ? between(1500, 2500) : between(150, 450),
      tokenMs: () => between(12, 35),
    };
  }

  /** The tool calls a question makes among the tools offered (none when it needs none). */
  function callsFor(question, offered) {
    const key = Object.keys(CITIES).find((c) => question.toLowerCase().includes(c)) || 'paris';
    const calls = [];
    const call = (name, args) => calls.push({ id: `call_${Math.floor(random() * 1e12).toString(36)}`, name, arguments: JSON.stringify(args) });
    if (offered.has('get_weather') && /weather/i.test(question)) call('get_weather', { city: key.replace(/\b\w/g, (c) => c.toUpperCase()) });
    if (offered.has('get_local_time') && /\btime\b|right now/i.test(question)) call('get_local_time', { timezone: CITIES[key] });
    return calls;
  }

  const app = new Koa();
  app.proxy = false;
  if (tracer) {
    const { tracingMiddleware } = require('@tracewire/koa');
    app.use(tracingMiddleware({ tracer }));
  }
  // Bodies are small JSON; read them here so the mock has no body-parser dependency.
  app.use(async (ctx, next) => {
    if (ctx.method === 'POST') {
      const chunks = [];
      let size = 0;
      for await (const c of ctx.req) {
        size += c.length;
        if (size > 1024 * 1024) ctx.throw(413, 'request too large');
        chunks.push(c);
      }
      try {
        ctx.request.body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        ctx.status = 400;
        ctx.body = { error: { message: 'body is not JSON', type: 'invalid_request_error' } };
        return;
      }
    }
    await next();
  });

  const router = new Router();
  router.get('/v1/models', (ctx) => {
    ctx.body = { object: 'list', data: MODELS.map((id) => ({ id, object: 'model', owned_by: 'mock' })) };
  });
  router.post('/v1/chat/completions', (ctx) => {
    if (!ctx.get('authorization')) return unauthorized(ctx, 'openai');
    // returned: a JSON (non-streamed) answer is set after the generation time, Koa must wait for it
    return openAIResponse(ctx, plan(ctx.request.body, ctx.headers, 'openai'), ctx.request.body);
  });
  router.post('/v1/messages', (ctx) => {
    if (!ctx.get('x-api-key') && !ctx.get('authorization')) return unauthorized(ctx, 'anthropic');
    return anthropicResponse(ctx, plan(ctx.request.body, ctx.headers, 'anthropic'), ctx.request.body);
  });
  app.use(router.routes());
  app.use(router.allowedMethods());
  // The client went away mid-stream: Koa reports the closed pipe; nothing to do about it here.
  app.on('error', (err) => {
    if (err.code !== 'ERR_STREAM_PREMATURE_CLOSE' && err.code !== 'ECONNRESET' && err.message !== 'Premature close') console.error('mock-llm:', err.message);
  });
  return app;

  function unauthorized(ctx, provider) {
    ctx.status = 401;
    ctx.body = provider === 'openai'
      ? { error: { message: 'Missing API key (any value works with the mock).', type: 'invalid_request_error', code: 'invalid_api_key' } }
      : { type: 'error', error: { type: 'authentication_error', message: 'Missing x-api-key (any value works with the mock).' } };
  }

  /** Sends an HTTP-level failure as the provider would. Returns true when it did. */
  function httpFailure(ctx, p, provider) {
    if (p.failure === 'rate_limit') {
      ctx.status = 429;
      ctx.set('retry-after', '0');
      ctx.body = provider === 'openai'
        ? { error: { message: 'Rate limit reached for requests (mock).', type: 'requests', code: 'rate_limit_exceeded' } }
        : { type: 'error', error: { type: 'rate_limit_error', message: 'Rate limited (mock).' } };
      return true;
    }
    if (p.failure === 'server_error' || (p.failure === 'overloaded' && provider === 'openai')) {
      ctx.status = 500;
      ctx.body = provider === 'openai'
        ? { error: { message: 'The server had an error while processing your request (mock).', type: 'server_error', code: null } }
        : { type: 'error', error: { type: 'api_error', message: 'Internal server error (mock).' } };
      return true;
    }
    if (p.failure === 'overloaded') {
      ctx.status = 529;
      ctx.body = { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded (mock).' } };
      return true;
    }
    return false;
  }

  /** Streams `events` (strings) with the plan's timing; stops when the client goes away. */
  function stream(ctx, p, events) {
    const out = new PassThrough();
    ctx.status = 200;
    ctx.set('content-type', 'text/event-stream; charset=utf-8');
    ctx.set('cache-control', 'no-cache');
    ctx.set('x-request-id', `req_${Math.floor(random() * 1e12).toString(36)}`);
    ctx.body = out;
    let timer = null;
    let i = 0;
    const next = () => {
      if (out.destroyed) return;
      const e = events[i++];
      if (e === undefined) {
        out.end();
        return;
      }
      out.write(e.data);
      timer = setTimeout(next, e.delayAfter ?? 0);
    };
    // The first event (the role / message_start) goes at once, like real providers; content waits.
    next();
    const stop = () => clearTimeout(timer);
    ctx.req.on('close', stop);
    out.on('close', stop);
  }

  function openAIResponse(ctx, p, body) {
    if (httpFailure(ctx, p, 'openai')) return;
    const id = `chatcmpl-${Math.floor(random() * 1e15).toString(36)}`;
    const created = Math.floor(Date.now() / 1000);
    const base = { id, object: 'chat.completion.chunk', created, model: p.model, system_fingerprint: 'fp_mock' };
    const calling = p.toolCalls.length > 0;
    const out = calling ? [] : pieces(p.text);
    const usage = {
      prompt_tokens: p.inputTokens,
      completion_tokens: (calling ? callTokens(p.toolCalls) : out.length) + p.reasoningTokens,
      total_tokens: 0,
      prompt_tokens_details: { cached_tokens: p.cachedTokens, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: p.reasoningTokens, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    const finish = calling ? 'tool_calls' : 'stop';

    if (body.stream !== true) {
      // A non-streamed completion after the whole generation time.
      const message = calling
        ? { role: 'assistant', content: null, tool_calls: p.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })), refusal: null }
        : { role: 'assistant', content: p.text, refusal: null };
      return new Promise((resolve) => {
        setTimeout(() => {
          ctx.body = { id, object: 'chat.completion', created, model: p.model, system_fingerprint: 'fp_mock', choices: [{ index: 0, message, logprobs: null, finish_reason: finish }], usage };
          resolve();
        }, p.firstTokenMs + out.length * 20 * speed);
      });
    }

    const sse = (obj) => `data: ${JSON.stringify(obj)}\n\n`;
    const chunk = (delta, finishReason = null) => sse({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] });
    const events = [];
    if (calling) {
      // The calls' names and ids are generated content too: they come after the model's thinking time.
      events.push({ data: chunk({ role: 'assistant', content: null, refusal: null }), delayAfter: p.firstTokenMs });
      p.toolCalls.forEach((c, index) => {
        events.push({ data: chunk({ tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.name, arguments: '' } }] }), delayAfter: p.tokenMs() });
        for (const part of c.arguments.match(/.{1,6}/g)) events.push({ data: chunk({ tool_calls: [{ index, function: { arguments: part } }] }), delayAfter: p.tokenMs() });
      });
    } else {
      events.push({ data: chunk({ role: 'assistant', content: '', refusal: null }), delayAfter: p.firstTokenMs });
      const cut = p.failure === 'midstream' ? Math.floor(out.length / 2) : out.length;
      for (let k = 0; k < cut; k++) events.push({ data: chunk({ content: out[k] }), delayAfter: p.tokenMs() });
      if (p.failure === 'midstream') {
        events.push({ data: sse({ error: { message: 'The model had an error while generating (mock).', type: 'server_error', param: null, code: null } }) });
        return stream(ctx, p, events);
      }
    }
    events.push({ data: chunk({}, finish) });
    if (body.stream_options && body.stream_options.include_usage) events.push({ data: sse({ ...base, choices: [], usage }) });
    events.push({ data: 'data: [DONE]\n\n' });
    stream(ctx, p, events);
  }

  function anthropicResponse(ctx, p, body) {
    if (httpFailure(ctx, p, 'anthropic')) return;
    const id = `msg_${Math.floor(random() * 1e15).toString(36)}`;
    const calling = p.toolCalls.length > 0;
    const out = calling ? [] : pieces(p.text);
    const outputTokens = (calling ? callTokens(p.toolCalls) : out.length) + p.reasoningTokens;
    // Anthropic reports cache reads apart from input_tokens (the convention adds them back).
    const usageStart = { input_tokens: p.inputTokens - p.cachedTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: p.cachedTokens, output_tokens: 1 };
    const stop = calling ? 'tool_use' : 'end_turn';

    if (body.stream !== true) {
      const content = calling ? p.toolCalls.map((c) => ({ type: 'tool_use', id: c.id.replace('call_', 'toolu_'), name: c.name, input: JSON.parse(c.arguments) })) : [{ type: 'text', text: p.text }];
      return new Promise((resolve) => {
        setTimeout(() => {
          ctx.body = { id, type: 'message', role: 'assistant', model: p.model, content, stop_reason: stop, stop_sequence: null, usage: { ...usageStart, output_tokens: outputTokens } };
          resolve();
        }, p.firstTokenMs + out.length * 20 * speed);
      });
    }

    const ev = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
    const events = [{ data: ev('message_start', { message: { id, type: 'message', role: 'assistant', model: p.model, content: [], stop_reason: null, stop_sequence: null, usage: usageStart } }) }];
    let blocks = 1;
    if (calling) {
      blocks = p.toolCalls.length;
      p.toolCalls.forEach((c, index) => {
        if (index > 0) events.push({ data: ev('content_block_stop', { index: index - 1 }) });
        events.push({ data: ev('content_block_start', { index, content_block: { type: 'tool_use', id: c.id.replace('call_', 'toolu_'), name: c.name, input: {} } }), delayAfter: index === 0 ? p.firstTokenMs : p.tokenMs() });
        for (const part of c.arguments.match(/.{1,6}/g)) events.push({ data: ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: part } }), delayAfter: p.tokenMs() });
      });
    } else {
      events.push({ data: ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }), delayAfter: p.firstTokenMs });
      events.push({ data: ev('ping', {}) });
      const cut = p.failure === 'midstream' ? Math.floor(out.length / 2) : out.length;
      for (let k = 0; k < cut; k++) events.push({ data: ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: out[k] } }), delayAfter: p.tokenMs() });
      if (p.failure === 'midstream') {
        events.push({ data: ev('error', { error: { type: 'overloaded_error', message: 'Overloaded (mock).' } }) });
        return stream(ctx, p, events);
      }
    }
    events.push({ data: ev('content_block_stop', { index: blocks - 1 }) });
    events.push({ data: ev('message_delta', { delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: outputTokens } }) });
    events.push({ data: ev('message_stop', {}) });
    stream(ctx, p, events);
  }
}

/** Starts the mock on 127.0.0.1 (port 0: any free one). Resolves with its base URL and a close(). */
function startMockLLM(options = {}) {
  const { port = 0, host = '127.0.0.1', ...rest } = options;
  const app = createMockLLM(rest);
  const server = http.createServer(app.callback());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({
        url: `http://${host}:${server.address().port}`,
        server,
        close: () => new Promise((done) => {
          server.close(() => done());
          server.closeAllConnections();
        }),
      });
    });
  });
}

module.exports = { createMockLLM, startMockLLM, MODELS };
