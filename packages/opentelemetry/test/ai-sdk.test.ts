/**
 * The Vercel AI SDK (`ai` 6, the newest major that runs on Node 20) with
 * `experimental_telemetry: { isEnabled: true }`, in an Express route traced by Tracewire: the
 * SDK's own spans are children of the server span, in the same exported trace, with the
 * attributes the SDK sets. The model is the SDK's own MockLanguageModelV3 (no network).
 */
import http from 'node:http';
import express from 'express';
import { generateText, jsonSchema, simulateReadableStream, stepCountIs, streamText, tool } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { getTracer, setGlobalTracer } from '@tracewire/core';
import type { FinishedTrace, SpanData, Tracer } from '@tracewire/core';
import { tracingMiddleware } from '@tracewire/express';
import { registerOpenTelemetry } from '../src';
import { memoryTracer } from '../../core/test/helpers';
import { listen, request } from '../../../test-utils/http';
import type { Listening } from '../../../test-utils/http';

const usage = (input: number, output: number) => ({
  inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: output, text: output, reasoning: undefined },
});

/** A model that asks for the weather tool once, then answers from its result. */
function weatherModel() {
  let calls = 0;
  return new MockLanguageModelV3({
    provider: 'mock-provider',
    modelId: 'mock-model-1',
    doGenerate: async () => {
      calls++;
      if (calls === 1) {
        return {
          content: [{ type: 'tool-call', toolCallId: 'call-1', toolName: 'weather', input: JSON.stringify({ city: 'Lisbon' }) }],
          finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
          usage: usage(20, 8),
          warnings: [],
          response: { id: 'resp-1', modelId: 'mock-model-1', timestamp: new Date(0) },
        };
      }
      return {
        content: [{ type: 'text', text: 'It is sunny in Lisbon.' }],
        finishReason: { unified: 'stop', raw: 'stop' },
        usage: usage(34, 7),
        warnings: [],
        response: { id: 'resp-2', modelId: 'mock-model-1', timestamp: new Date(0) },
      };
    },
  });
}

function streamingModel() {
  return new MockLanguageModelV3({
    provider: 'mock-provider',
    modelId: 'mock-stream-1',
    doStream: async () => ({
      stream: simulateReadableStream({
        chunkDelayInMs: 2,
        chunks: [
          { type: 'stream-start', warnings: [] },
          { type: 'response-metadata', id: 'resp-s', modelId: 'mock-stream-1', timestamp: new Date(0) },
          { type: 'text-start', id: 't1' },
          { type: 'text-delta', id: 't1', delta: 'Hello' },
          { type: 'text-delta', id: 't1', delta: ', ' },
          { type: 'text-delta', id: 't1', delta: 'world' },
          { type: 'text-end', id: 't1' },
          { type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage: usage(12, 3) },
        ],
      }),
    }),
  });
}

const weather = tool({
  description: 'The weather in a city',
  inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
  execute: async ({ city }) => ({ city, sky: 'sunny' }),
});

function traceOf(route: string, traces: FinishedTrace[]): FinishedTrace {
  const t = traces.find((x) => x.spans.some((s) => s.spanId === x.rootSpanId && s.name === `GET ${route}`));
  if (!t) throw new Error(`no trace for ${route}: ${traces.map((x) => x.spans.map((s) => s.name).join(',')).join(' | ')}`);
  return t;
}
const named = (spans: SpanData[], name: string) => spans.filter((s) => s.name === name);

/** The content attributes the SDK records by default (recordInputs / recordOutputs). */
const CONTENT = ['ai.prompt', 'ai.prompt.messages', 'ai.prompt.tools', 'ai.prompt.toolChoice', 'ai.response.text', 'ai.response.toolCalls', 'ai.toolCall.args', 'ai.toolCall.result'];
const contentKeys = (spans: SpanData[]) => [...new Set(spans.flatMap((s) => Object.keys(s.attributes).filter((k) => k.startsWith('ai.prompt') || k.startsWith('ai.response.text') || k.startsWith('ai.response.toolCalls') || k.startsWith('ai.toolCall.a') || k.startsWith('ai.toolCall.r') || k.startsWith('gen_ai.input') || k.startsWith('gen_ai.output'))))].sort();

describe.each([false, true])('the Vercel AI SDK through the bridge, captureContent %s', (capture) => {
  let tracer: Tracer;
  let exporter: ReturnType<typeof memoryTracer>['exporter'];
  let server: Listening;
  let unregister: () => void;
  const previous = getTracer();

  beforeAll(async () => {
    ({ tracer, exporter } = memoryTracer({ captureContent: capture }));
    setGlobalTracer(tracer);
    unregister = registerOpenTelemetry();
    const app = express();
    app.use(tracingMiddleware());
    app.get('/generate', async (_req, res) => {
      const result = await generateText({
        model: weatherModel(),
        prompt: 'What is the weather in Lisbon?',
        tools: { weather },
        stopWhen: stepCountIs(3),
        experimental_telemetry: { isEnabled: true, functionId: 'weather-answer' },
      });
      res.json({ text: result.text });
    });
    app.get('/stream', (_req, res) => {
      const result = streamText({ model: streamingModel(), prompt: 'Say hello', experimental_telemetry: { isEnabled: true } });
      result.pipeTextStreamToResponse(res);
    });
    server = await listen(http.createServer(app));
  });

  afterAll(async () => {
    await server.close();
    unregister();
    setGlobalTracer(previous);
    await tracer.shutdown();
  });

  it('generateText with a tool: ai.generateText -> doGenerate, toolCall, doGenerate under the server span', async () => {
    exporter.reset();
    const res = await request(`${server.url}/generate`);
    expect(JSON.parse(res.body)).toEqual({ text: 'It is sunny in Lisbon.' });
    const [trace] = await exporter.waitFor(1);
    const t = traceOf('/generate', [trace]);
    const root = t.spans.find((s) => s.spanId === t.rootSpanId)!;
    expect(root).toMatchObject({ kind: 'server', attributes: expect.objectContaining({ 'http.route': '/generate', 'http.response.status_code': 200 }) });

    const [gen] = named(t.spans, 'ai.generateText');
    expect(gen.parentSpanId).toBe(root.spanId);
    expect(gen.instrumentationScope).toEqual({ name: 'ai' });
    expect(gen.attributes).toMatchObject({
      'ai.model.id': 'mock-model-1',
      'ai.model.provider': 'mock-provider',
      'ai.operationId': 'ai.generateText',
      'ai.telemetry.functionId': 'weather-answer',
      'ai.usage.inputTokens': 54,
      'ai.usage.outputTokens': 15,
    });

    const calls = named(t.spans, 'ai.generateText.doGenerate');
    expect(calls).toHaveLength(2);
    for (const c of calls) {
      expect(c.parentSpanId).toBe(gen.spanId);
      expect(c.attributes).toMatchObject({ 'gen_ai.system': 'mock-provider', 'gen_ai.request.model': 'mock-model-1', 'gen_ai.response.model': 'mock-model-1' });
    }
    expect(calls.map((c) => c.attributes['gen_ai.response.finish_reasons'])).toEqual([['tool-calls'], ['stop']]);
    expect(calls.map((c) => c.attributes['gen_ai.usage.input_tokens'])).toEqual([20, 34]);
    expect(calls.map((c) => c.attributes['gen_ai.usage.output_tokens'])).toEqual([8, 7]);
    expect(calls.map((c) => c.attributes['gen_ai.response.id'])).toEqual(['resp-1', 'resp-2']);

    const [toolCall] = named(t.spans, 'ai.toolCall');
    expect(toolCall.parentSpanId).toBe(gen.spanId);
    expect(toolCall.attributes).toMatchObject({ 'ai.toolCall.name': 'weather', 'ai.toolCall.id': 'call-1' });
    if (capture) {
      // Kept as the SDK recorded them.
      expect(JSON.parse(toolCall.attributes['ai.toolCall.args'] as string)).toEqual({ city: 'Lisbon' });
      expect(JSON.parse(toolCall.attributes['ai.toolCall.result'] as string)).toEqual({ city: 'Lisbon', sky: 'sunny' });
      expect(gen.attributes['ai.response.text']).toBe('It is sunny in Lisbon.');
      expect(JSON.parse(gen.attributes['ai.prompt'] as string)).toMatchObject({ prompt: 'What is the weather in Lisbon?' });
      expect(calls[0].attributes['ai.prompt.messages']).toContain('What is the weather in Lisbon?');
      expect(calls[0].attributes['ai.prompt.tools']).toEqual([expect.stringContaining('weather')]);
      expect(calls[0].attributes['ai.response.toolCalls']).toContain('Lisbon');
      expect(contentKeys(t.spans)).toEqual([...CONTENT].sort());
    } else {
      // Left out: no prompt, output, tool arguments or result anywhere in the trace.
      expect(contentKeys(t.spans)).toEqual([]);
      expect(JSON.stringify(t.spans)).not.toMatch(/Lisbon\?|sunny/);
    }
    // In start order: the tool ran between the two model calls.
    expect(calls[0].endTime).toBeLessThanOrEqual(toolCall.startTime);
    expect(toolCall.endTime).toBeLessThanOrEqual(calls[1].startTime);
    expect(t.spans).toHaveLength(5);
    expect(t.incomplete).toBe(false);
  });

  it('streamText piped to the response: ai.streamText -> ai.streamText.doStream under the server span, ended with the stream', async () => {
    exporter.reset();
    const res = await request(`${server.url}/stream`);
    expect(res.body).toBe('Hello, world');
    const [trace] = await exporter.waitFor(1);
    const t = traceOf('/stream', [trace]);
    const root = t.spans.find((s) => s.spanId === t.rootSpanId)!;
    const [st] = named(t.spans, 'ai.streamText');
    const [doStream] = named(t.spans, 'ai.streamText.doStream');
    expect(st.parentSpanId).toBe(root.spanId);
    expect(doStream.parentSpanId).toBe(st.spanId);
    expect(st.attributes).toMatchObject({ 'ai.model.id': 'mock-stream-1', 'ai.usage.inputTokens': 12, 'ai.usage.outputTokens': 3 });
    if (capture) {
      expect(st.attributes['ai.response.text']).toBe('Hello, world');
      expect(doStream.attributes['ai.response.text']).toBe('Hello, world');
      expect(JSON.parse(st.attributes['ai.prompt'] as string)).toMatchObject({ prompt: 'Say hello' });
    } else {
      expect(contentKeys(t.spans)).toEqual([]);
      expect(JSON.stringify(t.spans)).not.toMatch(/Say hello|Hello, world/);
    }
    expect(doStream.attributes).toMatchObject({
      'gen_ai.system': 'mock-provider',
      'gen_ai.request.model': 'mock-stream-1',
      'gen_ai.response.model': 'mock-stream-1',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 3,
    });
    expect(typeof doStream.attributes['ai.response.msToFirstChunk']).toBe('number');
    expect(doStream.events.map((e) => e.name)).toContain('ai.stream.firstChunk');
    for (const s of [st, doStream]) expect(s.ended).toBe(true);
    expect(t.incomplete).toBe(false);
  });
});
