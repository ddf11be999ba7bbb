'use strict';
/**
 * A stand-in for an LLM provider, so the examples show a real token stream without a network or an
 * API key: an OpenAI Chat Completions stream (`stream: true` with `stream_options.include_usage`),
 * word by word with a model-like delay, then the finish reason and the usage chunk.
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

module.exports = { streamChatCompletion };
