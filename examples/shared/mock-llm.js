'use strict';
/**
 * A stand-in for an LLM provider, so the examples show a real token stream without a network or an
 * API key: an OpenAI Chat Completions stream (`stream: true` with `stream_options.include_usage`),
 * word by word with a model-like delay, then the finish reason and the usage chunk; and
 * `chatCompletion`, which also makes tool calls (examples/agent).
 */

const ANSWER = 'Tracing shows where a request spends its time, from the first token to the last.';

/** Writes one streamed chat completion for `model` to a node:http response, then ends it. */
function streamChatCompletion(res, { model = 'gpt-5.4-mini', text = ANSWER, delayMs = 15, promptTokens = 24 } = {}) {
  const id = `chatcmpl-${Math.random().toString(36).slice(2, 12)}`;
  const created = Math.floor(Date.now() / 1000);
  const words = text.split(/(?<= )/);
  const chunk = (delta, finish = null, usage) =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: usage ? [] : [{ index: 0, delta, finish_reason: finish }], ...(usage ? { usage } : {}) })}\n\n`;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write(chunk({ role: 'assistant', content: '' }));
  let i = 0;
  const timer = setInterval(() => {
    if (i < words.length) {
      res.write(chunk({ content: words[i++] }));
      return;
    }
    clearInterval(timer);
    res.write(chunk({}, 'stop'));
    res.write(chunk(null, null, { prompt_tokens: promptTokens, completion_tokens: words.length, total_tokens: promptTokens + words.length }));
    res.end('data: [DONE]\n\n');
  }, delayMs);
  res.on('close', () => clearInterval(timer));
}

/**
 * Answers one Chat Completions request body the way a model with tools would: while the tools it
 * was offered have not been called yet, it calls each of them (parallel tool calls, arguments from
 * the question); once their results are in the messages, it answers from them. `stream: true` gets
 * an SSE stream (usage last, with `stream_options.include_usage`), otherwise one JSON completion.
 */
function chatCompletion(res, body, { delayMs = 15 } = {}) {
  const model = String(body.model || 'gpt-5.4-mini');
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const tools = Array.isArray(body.tools) ? body.tools.map((t) => t && t.function && t.function.name).filter(Boolean) : [];
  const results = messages.filter((m) => m.role === 'tool').map((m) => String(m.content));
  const question = String((messages.filter((m) => m.role === 'user').pop() || {}).content || '');
  const promptTokens = Math.ceil(JSON.stringify(messages).length / 4) + tools.length * 40;
  const id = `chatcmpl-${Math.random().toString(36).slice(2, 12)}`;
  if (tools.length > 0 && results.length === 0) {
    const city = (question.match(/\bin ([A-Z][a-z]+)/) || [])[1] || 'Paris';
    const args = { get_weather: { city }, get_local_time: { timezone: `Europe/${city}` } };
    const calls = tools.map((name, i) => ({ id: `call_${id.slice(9)}_${i}`, type: 'function', function: { name, arguments: JSON.stringify(args[name] || {}) } }));
    const usage = { prompt_tokens: promptTokens, completion_tokens: 12 * calls.length, total_tokens: promptTokens + 12 * calls.length };
    if (!body.stream) return json(res, { id, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model, choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: calls, refusal: null }, finish_reason: 'tool_calls', logprobs: null }], usage });
    return json(res, { error: { message: 'the mock streams answers, not tool calls', type: 'invalid_request_error' } }, 400);
  }
  const facts = results.map((r) => {
    try {
      return Object.entries(JSON.parse(r)).map(([k, v]) => `${k.replace(/_/g, ' ')} ${v}`).join(', ');
    } catch {
      return r;
    }
  });
  const text = facts.length > 0 ? `From the tools: ${facts.join('; ')}.` : ANSWER;
  if (body.stream) return streamChatCompletion(res, { model, text, delayMs, promptTokens });
  const words = text.split(/(?<= )/).length;
  json(res, { id, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model, choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, finish_reason: 'stop', logprobs: null }], usage: { prompt_tokens: promptTokens, completion_tokens: words, total_tokens: promptTokens + words } });
}

function json(res, value, status = 200) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

module.exports = { streamChatCompletion, chatCompletion };
