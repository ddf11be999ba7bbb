'use strict';
/**
 * The model of the example: the AI SDK's own MockLanguageModelV3 (`ai/test`), answering like a
 * small chat model would, with realistic usage and a little latency, so the example needs no
 * network and no API key. It calls the `weather` tool when one is offered and not yet answered,
 * then answers from the tool's result; streamed answers come word by word.
 */
const { simulateReadableStream } = require('ai');
const { MockLanguageModelV3 } = require('ai/test');

const usage = (input, output) => ({
  inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: output, text: output, reasoning: undefined },
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The last tool result in the prompt, if the model asked for one already. */
function toolResult(prompt) {
  for (let i = prompt.length - 1; i >= 0; i--) {
    const m = prompt[i];
    if (m.role !== 'tool') continue;
    const part = m.content.find((p) => p.type === 'tool-result');
    if (part) return part.output && part.output.type === 'json' ? part.output.value : part.output;
  }
  return undefined;
}

function answerFrom(result) {
  return result ? `It is ${result.temperature_c} °C with ${result.conditions} in ${result.city}.` : 'Hello! Ask me about the weather in a city.';
}

function createModel() {
  return new MockLanguageModelV3({
    provider: 'mock-provider',
    modelId: 'mock-chat-1',
    doGenerate: async ({ prompt, tools }) => {
      await sleep(30);
      const result = toolResult(prompt);
      const weather = tools && tools.find((t) => t.name === 'weather');
      const response = { id: `resp-${Date.now()}`, modelId: 'mock-chat-1', timestamp: new Date() };
      if (weather && result === undefined) {
        return {
          content: [{ type: 'tool-call', toolCallId: 'call-1', toolName: 'weather', input: JSON.stringify({ city: 'Lisbon' }) }],
          finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
          usage: usage(58, 14),
          warnings: [],
          response,
        };
      }
      return { content: [{ type: 'text', text: answerFrom(result) }], finishReason: { unified: 'stop', raw: 'stop' }, usage: usage(91, 16), warnings: [], response };
    },
    doStream: async ({ prompt }) => {
      const words = answerFrom(toolResult(prompt)).split(/(?<= )/);
      return {
        stream: simulateReadableStream({
          initialDelayInMs: 40,
          chunkDelayInMs: 15,
          chunks: [
            { type: 'stream-start', warnings: [] },
            { type: 'response-metadata', id: `resp-${Date.now()}`, modelId: 'mock-chat-1', timestamp: new Date() },
            { type: 'text-start', id: 'text-1' },
            ...words.map((delta) => ({ type: 'text-delta', id: 'text-1', delta })),
            { type: 'text-end', id: 'text-1' },
            { type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage: usage(24, words.length) },
          ],
        }),
      };
    },
  });
}

module.exports = { createModel };
