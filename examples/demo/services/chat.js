'use strict';
/* global AbortController */
/**
 * The `chat` service (Fastify): turns a user message into a model call through the official
 * `openai` and `@anthropic-ai/sdk` clients, both given `fetch: tracedFetch` so each call is a CLIENT
 * span with the model, time to first token, tokens and cost, and relays the model's token stream
 * as SSE. Runs the `get_weather` tool when the model asks for it, then calls the model again.
 *
 *   POST /v1/chat  { message, provider?: 'openai' | 'anthropic', model?, scenario? }  → SSE
 */
const { Readable } = require('node:stream');
const Fastify = require('fastify');
const OpenAI = require('openai');
const Anthropic = require('@anthropic-ai/sdk');
const { tracedFetch, withSpan } = require('@tracewire/core');
const { tracingPlugin } = require('@tracewire/fastify');

// A realistic, stable system prompt: the same prefix on every call, so the provider caches it.
const SYSTEM_PROMPT = [
  'You are Wire, the support assistant of an online service for developers.',
  'Answer in plain English, in two to four sentences unless the user asks for more.',
  'Be precise: name the setting, command or page the user needs, and say what it does.',
  'If you do not know, say so and suggest where to look; never invent product features.',
  'Keep personal data out of your answers; do not repeat keys, tokens or passwords a user pastes.',
  'Use the get_weather tool for questions about the weather in a city; report the temperature in °C.',
  'When a question is about performance, mention measuring first, then the most likely cause.',
  'When a question is about cost, mention token counts, prompt caching and the model chosen.',
  'Format code as short snippets; prefer the commands of the official tools.',
  'End with a follow-up question only when the request is ambiguous.',
].join('\n');

const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather in a city.',
    parameters: { type: 'object', properties: { city: { type: 'string', description: 'City name, e.g. Paris' } }, required: ['city'] },
  },
};

const CITY_WEATHER = { Paris: [18, 'cloudy'], London: [14, 'light rain'], Tokyo: [22, 'sunny'], Berlin: [12, 'windy'], Lisbon: [24, 'sunny'] };

/** The tool itself: a lookup that takes a little while, like a real API. */
async function getWeather({ city = 'Paris' } = {}) {
  await new Promise((r) => setTimeout(r, 30 + Math.random() * 40));
  const [temperature_c, conditions] = CITY_WEATHER[city] || [16, 'partly cloudy'];
  return { city, temperature_c, conditions };
}

/** A tool call as its own span, named and attributed as the GenAI conventions say (execute_tool). */
function runTool(call) {
  let args = {};
  try {
    args = JSON.parse(call.arguments || '{}');
  } catch {
    // The model wrote arguments that are not JSON: the tool gets none.
  }
  return withSpan(`execute_tool ${call.name}`, async () => JSON.stringify(await getWeather(args)), {
    kind: 'internal',
    attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': call.name, 'gen_ai.tool.call.id': call.id, 'gen_ai.tool.type': 'function' },
  });
}

const sse = (obj) => `data: ${JSON.stringify(obj)}\n\n`;

/** OpenAI: stream the answer; a tool call is run and the model asked again (at most 3 rounds). */
async function* openAIAnswer(openai, { model, message, headers, signal }) {
  const messages = [{ role: 'system', content: SYSTEM_PROMPT }, { role: 'user', content: message }];
  for (let round = 0; round < 3; round++) {
    const stream = await openai.chat.completions.create(
      { model, messages, tools: [WEATHER_TOOL], stream: true, stream_options: { include_usage: true }, temperature: 0.3, max_completion_tokens: 800 },
      { headers, signal },
    );
    const calls = [];
    for await (const chunk of stream) {
      const delta = chunk.choices[0] && chunk.choices[0].delta;
      if (delta && delta.tool_calls) {
        for (const t of delta.tool_calls) {
          const c = (calls[t.index] ??= { id: t.id, name: '', arguments: '' });
          if (t.id) c.id = t.id;
          if (t.function && t.function.name) c.name += t.function.name;
          if (t.function && t.function.arguments) c.arguments += t.function.arguments;
        }
        continue;
      }
      // Tool rounds are the service's business; the client gets the final answer's stream.
      if (calls.length === 0) yield sse(chunk);
    }
    if (calls.length === 0) {
      yield 'data: [DONE]\n\n';
      return;
    }
    messages.push({ role: 'assistant', content: null, tool_calls: calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })) });
    for (const c of calls) messages.push({ role: 'tool', tool_call_id: c.id, content: await runTool(c) });
  }
}

/** Anthropic: the Messages stream relayed event by event. */
async function* anthropicAnswer(anthropic, { model, message, headers, signal }) {
  const stream = await anthropic.messages.create(
    { model, max_tokens: 800, system: SYSTEM_PROMPT, messages: [{ role: 'user', content: message }], stream: true },
    { headers, signal },
  );
  for await (const event of stream) yield `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** Builds the chat app; `modelUrl` is the provider's base URL (the mock). */
async function createChat({ tracer, modelUrl }) {
  // The official clients with tracedFetch: every call (and every retry) is a traced CLIENT span.
  const openai = new OpenAI({ apiKey: 'sk-mock-not-a-secret', baseURL: `${modelUrl}/v1`, fetch: tracedFetch, maxRetries: 1, timeout: 30000 });
  const anthropic = new Anthropic({ apiKey: 'sk-ant-mock-not-a-secret', baseURL: modelUrl, fetch: tracedFetch, maxRetries: 1, timeout: 30000 });

  const app = Fastify({ logger: false });
  await app.register(tracingPlugin, { tracer });
  app.get('/healthz', { config: { tracing: { ignore: true } } }, async () => ({ ok: true }));

  app.post('/v1/chat', async (request, reply) => {
    const { message, provider = 'openai', scenario } = request.body || {};
    if (typeof message !== 'string' || message.trim() === '') return reply.code(400).send({ error: 'message is required' });
    const model = request.body.model || (provider === 'anthropic' ? 'claude-haiku-4-5' : 'gpt-5.4-mini');
    const controller = new AbortController();
    // The caller went away: stop the model call too (its span ends as aborted).
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) controller.abort();
    });
    const headers = scenario ? { 'x-mock-llm-scenario': String(scenario) } : undefined;
    const args = { model, message, headers, signal: controller.signal };
    const gen = provider === 'anthropic' ? anthropicAnswer(anthropic, args) : openAIAnswer(openai, args);

    // Wait for the first event before answering, so a failed call becomes a clean 502.
    let first;
    try {
      first = await gen.next();
    } catch (err) {
      const status = err && err.status ? err.status : 502;
      return reply.code(status >= 500 || status === 429 ? 502 : status).send({ error: 'the model call failed', upstream_status: err && err.status, detail: err && err.message });
    }
    async function* rest() {
      if (!first.done) yield first.value;
      try {
        for (;;) {
          const { value, done } = await gen.next();
          if (done) return;
          yield value;
        }
      } catch (err) {
        if (controller.signal.aborted) return;
        // Failed mid-stream: tell the client in-band, in the provider's own error event.
        // The SDKs keep the provider's error body: OpenAI { type }, Anthropic { type: 'error', error: { type } }.
        const body = (err && err.error) || {};
        const type = (body.error && body.error.type) || (body.type !== 'error' && body.type) || 'server_error';
        const error = { type, message: (body.error && body.error.message) || body.message || (err && err.message) || String(err) };
        yield provider === 'anthropic' ? `event: error\ndata: ${JSON.stringify({ type: 'error', error })}\n\n` : sse({ error });
      }
    }
    return reply.header('content-type', 'text/event-stream; charset=utf-8').header('cache-control', 'no-cache').send(Readable.from(rest()));
  });
  return app;
}

module.exports = { createChat, SYSTEM_PROMPT };
