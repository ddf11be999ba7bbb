'use strict';
/**
 * The Vercel AI SDK's own spans in Tracewire traces. An Express app traced by Tracewire calls
 * `generateText` (with a tool) and `streamText` with `experimental_telemetry: { isEnabled: true }`;
 * `registerOpenTelemetry()` makes the spans the SDK emits through `@opentelemetry/api` children of
 * the request's server span:
 *
 *   GET /weather                         (server span, Tracewire)
 *   └─ ai.generateText                   (scope "ai"; ai.* attributes: model, usage)
 *      ├─ ai.generateText.doGenerate     (gen_ai.* attributes: the model asks for the tool)
 *      ├─ ai.toolCall weather
 *      └─ ai.generateText.doGenerate     (the answer)
 *   GET /stream                          (server span; the streamed body is tapped)
 *   └─ ai.streamText
 *      └─ ai.streamText.doStream         (time to first chunk, usage)
 *
 * Prompts, outputs and tool arguments/results, which the SDK records by default, are left out as
 * Tracewire's own LLM content is: run with OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true
 * (or `captureContent: true`) to keep them.
 *
 * The model is the SDK's own MockLanguageModelV3 (model.js): no network, no API key.
 * Run: `npx -y pnpm@10 example:ai-sdk` (or `node examples/ai-sdk/run.js` after a build). The two
 * traces are printed as waterfalls on a terminal, as JSON lines otherwise; then it exits.
 */
const { registerOpenTelemetry } = require('@tracewire/opentelemetry');
const { createTracer, setGlobalTracer, ConsoleExporter } = require('@tracewire/core');

const tracer = createTracer({ serviceName: 'ai-sdk-example', exporters: [new ConsoleExporter()] });
setGlobalTracer(tracer);
// Before the first span of any library: @opentelemetry/api now hands out Tracewire's tracers.
const unregister = registerOpenTelemetry();

const express = require('express');
const { generateText, streamText, stepCountIs, tool, jsonSchema } = require('ai');
const { tracingMiddleware } = require('@tracewire/express');
const { createModel } = require('./model');

const weather = tool({
  description: 'Current weather in a city',
  inputSchema: jsonSchema({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
  // Stands in for a weather API.
  execute: async ({ city }) => ({ city, temperature_c: 23, conditions: 'clear skies' }),
});

const app = express();
app.use(tracingMiddleware());

app.get('/weather', async (_req, res) => {
  const result = await generateText({
    model: createModel(),
    prompt: 'What is the weather in Lisbon?',
    tools: { weather },
    stopWhen: stepCountIs(3),
    experimental_telemetry: { isEnabled: true, functionId: 'weather-answer' },
  });
  res.json({ answer: result.text, usage: result.totalUsage });
});

app.get('/stream', (_req, res) => {
  const result = streamText({ model: createModel(), prompt: 'Say hello', experimental_telemetry: { isEnabled: true, functionId: 'greeting' } });
  result.pipeTextStreamToResponse(res);
});

async function main() {
  const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  const out = process.stdout.isTTY ? process.stdout : process.stderr;
  try {
    const weatherRes = await fetch(`${base}/weather`);
    out.write(`\nGET /weather -> ${weatherRes.status} ${await weatherRes.text()}\n`);
    const streamRes = await fetch(`${base}/stream`);
    out.write(`GET /stream  -> ${streamRes.status} ${await streamRes.text()}\n\n`);
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await tracer.shutdown(2000);
    unregister();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
