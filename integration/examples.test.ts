/**
 * The examples as a user runs them: `node examples/<name>/server.js` after `pnpm build`
 * (`pnpm test` builds first). Each must start, serve its warm-up requests and print their traces
 * (JSON lines, since stdout is not a terminal here).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { FinishedTrace } from '@tracewire/core';

function runExample(name: string, expected: number): Promise<FinishedTrace[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(__dirname, '..', 'examples', name, 'server.js')], {
      env: { ...process.env, PORT: '0', WARMUP: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const traces: FinishedTrace[] = [];
    let buf = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name}: got ${traces.length} of ${expected} traces in time; stderr:\n${stderr}`));
    }, 15000);
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim()) traces.push(JSON.parse(line));
      }
      if (traces.length >= expected) {
        clearTimeout(timer);
        child.once('exit', () => resolve(traces));
        child.kill('SIGTERM');
      }
    });
    child.once('error', reject);
  });
}

jest.setTimeout(20000);

const rootName = (t: FinishedTrace) => t.spans.find((s) => s.spanId === t.rootSpanId)!.name;

describe('examples', () => {
  it('express-basic prints the traces of its requests', async () => {
    const traces = await runExample('express-basic', 6);
    expect(traces.map(rootName).sort()).toEqual(['GET', 'GET /chat', 'GET /fail', 'GET /hello/:name', 'GET /users/:id', 'POST /v1/chat/completions']);
    // The LLM call: a tracedFetch hop to the mock model, its token stream relayed to the client.
    const chat = traces.find((t) => rootName(t) === 'GET /chat')!;
    const model = traces.find((t) => rootName(t) === 'POST /v1/chat/completions')!;
    expect(model.traceId).toBe(chat.traceId);
    const client = chat.spans.find((s) => s.kind === 'client')!;
    expect(client.name).toBe('chat gpt-5.4-mini');
    expect(model.spans[0].parentSpanId).toBe(client.spanId);
    for (const span of [chat.spans[0], client]) {
      expect(span.attributes).toMatchObject({
        'gen_ai.provider.name': 'openai',
        'gen_ai.response.model': 'gpt-5.4-mini',
        'gen_ai.usage.input_tokens': 24,
        'gen_ai.response.finish_reasons': ['stop'],
      });
      expect(span.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(5);
      expect(span.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);
      expect(span.attributes['tracewire.usage.cost']).toBeGreaterThan(0);
    }
    const users = traces.find((t) => rootName(t) === 'GET /users/:id')!;
    expect(users.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(users.spans.map((s) => s.name)).toEqual(['GET /users/:id', 'load user', 'db.query users', 'score.compute']);
    const hello = traces.find((t) => rootName(t) === 'GET /hello/:name')!;
    expect(hello.spans[0].attributes['url.query']).toBe('token=REDACTED');
  });

  it('koa-basic prints the traces of its requests', async () => {
    const traces = await runExample('koa-basic', 4);
    expect(traces.map(rootName).sort()).toEqual(['GET', 'GET /api/fail', 'GET /api/stream', 'GET /api/users/:id']);
  });

  it('fastify-basic prints the traces of its requests, skipping the ignored route', async () => {
    const traces = await runExample('fastify-basic', 4);
    expect(traces.map(rootName).sort()).toEqual(['GET', 'GET /api/fail', 'GET /api/stream', 'GET /api/users/:id']);
  });

  it.each(['otlp', 'zipkin'])('otlp: two services deliver one trace per request to the receiver over %s, then the run exits', async (exporter) => {
    const traces = await runOtlpExample(exporter);
    expect(traces).toHaveLength(3);
    for (const { spans } of traces) {
      expect(new Set(spans.map((s) => s.protocol))).toEqual(new Set([exporter]));
      expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['shop', 'inventory']));
      // the back's server span is the child of the front's client span: one trace across both
      const client = spans.find((s) => s.service === 'shop' && s.kind === 'client')!;
      const backRoot = spans.find((s) => s.service === 'inventory' && s.kind === 'server')!;
      expect(backRoot.parentSpanId).toBe(client.spanId);
      expect(spans.every((s) => !s.incomplete)).toBe(true);
    }
    const continued = traces.find((t) => t.traceId === '0af7651916cd43dd8448eb211c80319c')!;
    const front = continued.spans.find((s) => s.service === 'shop' && s.kind === 'server')!;
    expect(front.parentSpanId).toBe('b7ad6b7169203331');
    expect(continued.spans.map((s) => `${s.service} ${s.name}`)).toEqual([
      'shop GET /checkout/:sku',
      'shop price.quote',
      'shop GET',
      'inventory GET /stock/:sku',
      'inventory db.query stock',
    ]);
    const failed = traces.find((t) => t.spans.some((s) => s.attributes['http.response.status_code'] === 502 || s.attributes['http.response.status_code'] === '502'))!;
    expect(failed.spans.filter((s) => s.status === 'error').map((s) => s.service).sort()).toEqual(['inventory', 'shop', 'shop']);
  });
});

describe('examples/agent', () => {
  it('prints one trace of the agent loop: invoke_agent → chat → execute_tool (both tools) → chat, then exits', async () => {
    const { stdout, stderr, code } = await runToExit(join(__dirname, '..', 'examples', 'agent', 'run.js'));
    expect(code).toBe(0);
    expect(stderr).toMatch(/agent: Right now in Lisbon it is 23 °C and clear skies\. .*The local time there is/);
    const traces = stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as FinishedTrace);
    expect(traces).toHaveLength(1);
    const [trace] = traces;
    expect(trace.resource['service.name']).toBe('weather-agent');
    const names = trace.spans.map((s) => s.name);
    expect(names).toEqual(['invoke_agent weather-agent', 'chat gpt-5.4-mini', 'execute_tool get_weather', 'execute_tool get_local_time', 'chat gpt-5.4-mini']);
    const [agent, first, weather, time, answer] = trace.spans;
    expect(trace.spans.slice(1).every((s) => s.parentSpanId === agent.spanId)).toBe(true);
    expect(trace.spans.every((s) => s.ended && s.status.code === 'unset')).toBe(true);
    expect(agent.attributes).toMatchObject({ 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'weather-agent' });
    expect(first.kind).toBe('client');
    expect(first.attributes).toMatchObject({ 'gen_ai.response.finish_reasons': ['tool_calls'], 'gen_ai.provider.name': 'openai' });
    expect(weather.attributes).toMatchObject({ 'gen_ai.tool.name': 'get_weather', 'gen_ai.tool.call.arguments': '{"city":"Lisbon"}' });
    expect(time.attributes['gen_ai.tool.name']).toBe('get_local_time');
    // The tool calls the model asked for are the ones that ran, in order.
    const calls = JSON.parse(first.attributes['gen_ai.output.messages'] as string)[0].parts.filter((p: any) => p.type === 'tool_call');
    expect(calls.map((c: any) => c.id)).toEqual([weather.attributes['gen_ai.tool.call.id'], time.attributes['gen_ai.tool.call.id']]);
    expect(answer.attributes).toMatchObject({ 'gen_ai.request.stream': true, 'gen_ai.response.finish_reasons': ['stop'] });
    expect(answer.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);
    expect(answer.attributes['tracewire.usage.cost']).toBeGreaterThan(0);
  });
});

describe('examples/ai-sdk', () => {
  // Prompts and outputs the AI SDK records by default: on its spans only with captureContent.
  const content = ['ai.prompt', 'ai.prompt.messages', 'ai.prompt.tools', 'ai.prompt.toolChoice', 'ai.response.text', 'ai.response.toolCalls', 'ai.toolCall.args', 'ai.toolCall.result'];
  const contentOf = (traces: FinishedTrace[]) => traces.flatMap((t) => t.spans.flatMap((s) => Object.keys(s.attributes).filter((k) => content.includes(k))));

  it.each([
    ['captureContent off (the default): no prompts or outputs', {}],
    ['captureContent on (OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true): prompts and outputs kept', { OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true' }],
  ])('prints the traces of its two requests: the AI SDK\'s own spans under each server span, then exits; %s', async (_title, env: NodeJS.ProcessEnv) => {
    const capture = env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT === 'true';
    const { stdout, stderr, code } = await runToExit(join(__dirname, '..', 'examples', 'ai-sdk', 'run.js'), env);
    expect(code).toBe(0);
    expect(stderr).toContain('GET /weather -> 200 {"answer":"It is 23 °C with clear skies in Lisbon."');
    expect(stderr).toContain('GET /stream  -> 200 Hello! Ask me about the weather in a city.');
    const traces = stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as FinishedTrace);
    expect(traces).toHaveLength(2);
    const [generate, stream] = traces;
    for (const t of traces) {
      expect(t.resource['service.name']).toBe('ai-sdk-example');
      expect(t.incomplete).toBe(false);
      const root = t.spans.find((s) => s.spanId === t.rootSpanId)!;
      expect(root.kind).toBe('server');
      // Every AI SDK span is in the request's trace, under its server span, with the SDK's scope.
      for (const s of t.spans.filter((x) => x !== root)) expect(s.instrumentationScope).toEqual({ name: 'ai' });
    }
    expect(generate.spans.map((s) => s.name)).toEqual(['GET /weather', 'ai.generateText', 'ai.generateText.doGenerate', 'ai.toolCall', 'ai.generateText.doGenerate']);
    const [root, gen, first, toolCall, second] = generate.spans;
    expect(gen.parentSpanId).toBe(root.spanId);
    for (const s of [first, toolCall, second]) expect(s.parentSpanId).toBe(gen.spanId);
    expect(gen.attributes).toMatchObject({ 'ai.model.id': 'mock-chat-1', 'ai.telemetry.functionId': 'weather-answer', 'ai.usage.inputTokens': 149, 'ai.usage.outputTokens': 30 });
    expect(first.attributes).toMatchObject({ 'gen_ai.system': 'mock-provider', 'gen_ai.request.model': 'mock-chat-1', 'gen_ai.response.finish_reasons': ['tool-calls'] });
    expect(toolCall.attributes).toMatchObject({ 'ai.toolCall.name': 'weather', 'ai.toolCall.id': expect.any(String) });
    expect(second.attributes).toMatchObject({ 'gen_ai.response.finish_reasons': ['stop'], 'gen_ai.usage.input_tokens': 91, 'gen_ai.usage.output_tokens': 16 });

    expect(stream.spans.map((s) => s.name)).toEqual(['GET /stream', 'ai.streamText', 'ai.streamText.doStream']);
    const [sRoot, st, doStream] = stream.spans;
    expect(st.parentSpanId).toBe(sRoot.spanId);
    expect(doStream.parentSpanId).toBe(st.spanId);
    expect(doStream.attributes['ai.response.msToFirstChunk']).toBeGreaterThan(0);
    expect(sRoot.attributes['tracewire.stream.chunks']).toBeGreaterThan(1);
    if (capture) {
      expect(toolCall.attributes['ai.toolCall.args']).toBe('{"city":"Lisbon"}');
      expect(JSON.parse(toolCall.attributes['ai.toolCall.result'] as string)).toMatchObject({ city: 'Lisbon' });
      expect(JSON.parse(gen.attributes['ai.prompt'] as string)).toBeDefined();
      expect(JSON.parse(first.attributes['ai.prompt.messages'] as string)).toEqual(expect.any(Array));
      expect(st.attributes['ai.response.text']).toBe('Hello! Ask me about the weather in a city.');
      expect(first.attributes['ai.response.toolCalls']).toContain('weather');
    } else {
      expect(contentOf(traces)).toEqual([]);
      expect(JSON.stringify(traces)).not.toContain('Lisbon?');
    }
  });
});

describe('examples/grpc', () => {
  it('prints one trace per request across gateway, assistant and model: HTTP → gRPC → HTTP, the deadline on both gRPC spans', async () => {
    const { stdout, stderr, code } = await runToExit(join(__dirname, '..', 'examples', 'grpc', 'run.js'));
    expect([code, stderr]).toEqual([0, expect.stringContaining('GET /ask -> 200')]);
    expect(stderr).toMatch(/GET \/stream -> 200 /);
    expect(stderr).toMatch(/GET \/slow -> 504 /);
    const fragments = stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as FinishedTrace);
    // Each service prints its own part of a trace: three requests, three services.
    expect(fragments).toHaveLength(9);
    const byTrace = new Map<string, FinishedTrace[]>();
    for (const f of fragments) byTrace.set(f.traceId, [...(byTrace.get(f.traceId) ?? []), f]);
    expect(byTrace.size).toBe(3);
    const span = (parts: FinishedTrace[], service: string, kind: string, name: string) => {
      const s = parts.filter((p) => p.resource['service.name'] === service).flatMap((p) => p.spans).find((x) => x.kind === kind && x.name === name);
      if (!s) throw new Error(`no ${service} ${kind} ${name}`);
      return s;
    };
    const chain = (parts: FinishedTrace[], route: string, method: string) => {
      const edge = span(parts, 'gateway', 'server', `GET ${route}`);
      const client = span(parts, 'gateway', 'client', `assistant.v1.Assistant/${method}`);
      const server = span(parts, 'assistant', 'server', `assistant.v1.Assistant/${method}`);
      const llm = span(parts, 'assistant', 'client', 'chat gpt-5.4-mini');
      const model = parts.find((p) => p.resource['service.name'] === 'model')!.spans[0];
      expect([client.parentSpanId, server.parentSpanId, llm.parentSpanId, model.parentSpanId]).toEqual([edge.spanId, client.spanId, server.spanId, llm.spanId]);
      expect(parts.every((p) => !p.incomplete)).toBe(true);
      return { edge, client, server, llm, model };
    };
    const traces = [...byTrace.values()];
    const find = (route: string) => traces.find((parts) => parts.some((p) => p.spans.some((s) => s.name === `GET ${route}`)))!;
    const ask = chain(find('/ask'), '/ask', 'Ask');
    expect(ask.client.attributes).toMatchObject({ 'rpc.system.name': 'grpc', 'rpc.method': 'assistant.v1.Assistant/Ask', 'rpc.status_code': 'OK', 'server.address': '127.0.0.1' });
    expect(ask.llm.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    const stream = chain(find('/stream'), '/stream', 'AskStream');
    expect(stream.server.attributes['tracewire.rpc.messages.sent']).toBeGreaterThan(1);
    expect(stream.client.attributes['tracewire.rpc.messages.received']).toBe(stream.server.attributes['tracewire.rpc.messages.sent']);
    const slow = chain(find('/slow'), '/slow', 'Ask');
    for (const s of [slow.client, slow.server]) expect([s.attributes['rpc.status_code'], s.attributes['error.type'], s.status.code]).toEqual(['DEADLINE_EXCEEDED', 'DEADLINE_EXCEEDED', 'error']);
    expect(slow.edge.attributes['http.response.status_code']).toBe(504);
    expect(slow.llm.attributes['error.type']).toBe('AbortError');
    expect(slow.model.attributes['error.type']).toBe('client_aborted');
  });
});

/** Runs a script to its end (15 s at most). */
function runToExit(script: string, env?: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'], env: env === undefined ? process.env : { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not exit in time; stderr:\n${stderr}`));
    }, 15000);
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code });
    });
  });
}

interface ReceivedSpan {
  protocol: string;
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: string;
  status: string;
  incomplete: boolean;
  attributes: Record<string, unknown>;
}

/** Runs examples/otlp/run.js to its end; resolves with the traces its receiver printed. */
function runOtlpExample(exporter: string): Promise<Array<{ traceId: string; spans: ReceivedSpan[] }>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(__dirname, '..', 'examples', 'otlp', 'run.js')], {
      env: { ...process.env, EXPORTER: exporter, OUTPUT: 'json' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`otlp example did not exit in time; stderr:\n${stderr}`));
    }, 15000);
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`otlp example exited with ${code}; stderr:\n${stderr}`));
      else resolve(stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l)));
    });
  });
}
