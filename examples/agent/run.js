'use strict';
/**
 * An agent loop traced with Tracewire's GenAI helpers: the agent asks a model (the demo's local
 * mock LLM, examples/demo/services/mock-llm.js: no network, any API key) with two tools on
 * offer, runs the tools the model calls, and asks again with their results until the model
 * answers. One trace per question:
 *
 *   invoke_agent weather-agent
 *   ├─ chat gpt-5.4-mini            (the model calls get_weather and get_local_time)
 *   ├─ execute_tool get_weather
 *   ├─ execute_tool get_local_time
 *   └─ chat gpt-5.4-mini            (streamed answer: time to first chunk, tokens, cost)
 *
 * Run: `npx -y pnpm@10 example:agent` (or `node examples/agent/run.js` after a build). The trace is
 * printed as a waterfall on a terminal, as one JSON line otherwise; the answer goes to stderr then.
 * QUESTION=... asks something else (name a city: "in Paris").
 */
const OpenAI = require('openai');
const { createTracer, setGlobalTracer, ConsoleExporter, withAgentSpan, withLLMSpan, withToolSpan } = require('@tracewire/core');
const { startMockLLM } = require('../demo/services/mock-llm');

// The helpers are module-level: outside a request they use the global tracer, so this one is made global.
const tracer = createTracer({ serviceName: 'weather-agent', exporters: [new ConsoleExporter()], captureContent: true });
setGlobalTracer(tracer);

const MODEL = 'gpt-5.4-mini';
const TOOLS = {
  get_weather: {
    description: 'Current weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    // Stands in for a weather API.
    run: async ({ city }) => ({ city, temperature_c: /lisbon|tokyo/i.test(city) ? 23 : 14, conditions: 'clear skies' }),
  },
  get_local_time: {
    description: 'Local time in an IANA time zone',
    parameters: { type: 'object', properties: { timezone: { type: 'string' } }, required: ['timezone'] },
    run: async ({ timezone }) => ({ timezone, time: new Date().toLocaleTimeString('en-GB', { timeZone: timezone }) }),
  },
};
const toolDefs = Object.entries(TOOLS).map(([name, t]) => ({ type: 'function', function: { name, description: t.description, parameters: t.parameters } }));

/** Asks the model once; a tool call comes back whole, an answer is streamed and printed as it comes. */
async function ask(client, messages, stream) {
  if (!stream) {
    const completion = await withLLMSpan({ provider: 'openai', model: MODEL, temperature: 0.2, messages }, () =>
      client.chat.completions.create({ model: MODEL, messages, tools: toolDefs, temperature: 0.2 }),
    );
    return completion.choices[0].message;
  }
  const chunks = await withLLMSpan({ provider: 'openai', model: MODEL, temperature: 0.2, stream: true, messages }, () =>
    client.chat.completions.create({ model: MODEL, messages, tools: toolDefs, temperature: 0.2, stream: true, stream_options: { include_usage: true } }),
  );
  let content = '';
  for await (const chunk of chunks) content += chunk.choices[0]?.delta?.content ?? '';
  return { role: 'assistant', content };
}

/** The loop: ask, run the tools the model calls, ask again with their results, until it answers. */
function runAgent(client, question) {
  return withAgentSpan('weather-agent', async () => {
    const messages = [
      { role: 'system', content: 'You answer questions about the weather. Use the tools.' },
      { role: 'user', content: question },
    ];
    for (let turn = 0; turn < 5; turn++) {
      // After a tool result the answer is streamed.
      const reply = await ask(client, messages, turn > 0);
      messages.push(reply);
      if (!reply.tool_calls || reply.tool_calls.length === 0) return reply.content;
      for (const call of reply.tool_calls) {
        const args = JSON.parse(call.function.arguments || '{}');
        const tool = TOOLS[call.function.name];
        const result = await withToolSpan(call.function.name, () => (tool ? tool.run(args) : { error: 'no such tool' }), { args, callId: call.id });
        messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify(result) });
      }
    }
    throw new Error('the agent did not answer within 5 turns');
  }, { agentId: 'weather-agent-v1', description: 'Answers weather questions with two tools' });
}

async function main() {
  // The mock model on 127.0.0.1 (a free port), with its realistic timing and no injected failures.
  const mock = await startMockLLM({ errorRate: 0 });
  const client = new OpenAI({ apiKey: 'mock', baseURL: `${mock.url}/v1`, maxRetries: 0 });
  try {
    const answer = await runAgent(client, process.env.QUESTION || 'What is the weather in Lisbon right now?');
    (process.stdout.isTTY ? process.stdout : process.stderr).write(`\nagent: ${answer}\n\n`);
  } finally {
    await tracer.shutdown(2000);
    await mock.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
