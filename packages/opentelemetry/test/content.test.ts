/**
 * LLM content in spans made through `@opentelemetry/api` by hand (as GenAI instrumentations write
 * it): left out of Tracewire's exports unless the owning tracer's `captureContent` is on.
 */
import { trace } from '@opentelemetry/api';
import { getTracer, setGlobalTracer } from '@tracewire/core';
import type { SpanData, Tracer } from '@tracewire/core';
import { registerOpenTelemetry } from '../src';
import { memoryTracer } from '../../core/test/helpers';

const CONTENT = {
  'gen_ai.input.messages': '[{"role":"user","parts":[{"type":"text","content":"secret prompt"}]}]',
  'gen_ai.output.messages': '[{"role":"assistant","parts":[{"type":"text","content":"secret answer"}]}]',
  'gen_ai.system_instructions': 'secret instructions',
  'gen_ai.tool.definitions': '[{"type":"function","name":"weather"}]',
  'gen_ai.tool.call.arguments': '{"city":"secret"}',
  'gen_ai.tool.call.result': '{"sky":"secret"}',
  'gen_ai.prompt': 'secret prompt',
  'gen_ai.completion': 'secret answer',
  'gen_ai.prompt.0.role': 'user',
  'gen_ai.prompt.0.content': 'secret prompt',
  'gen_ai.completion.0.content': 'secret answer',
  'ai.prompt': '{"prompt":"secret"}',
  'ai.prompt.messages': '[]',
  'ai.response.text': 'secret answer',
  'ai.toolCall.args': '{}',
  'ai.toolCall.result': '{}',
  'ai.embeddings': ['[0.1]'],
};
/** Keys that look alike but carry no content. */
const KEPT = {
  'gen_ai.request.model': 'm-1',
  'gen_ai.usage.input_tokens': 12,
  'gen_ai.operation.name': 'chat',
  'gen_ai.prompt_cache': 'hit',
  'gen_ai.completion_tokens': 3,
  'ai.model.id': 'm-1',
  'ai.prompt.format': 'messages',
  'ai.response.finishReason': 'stop',
  'ai.toolCall.name': 'weather',
  'app.prompt': 'mine',
};
const contentKeys = Object.keys(CONTENT);

function setup(captureContent: boolean) {
  const { tracer, exporter } = memoryTracer({ captureContent });
  const previous = getTracer();
  setGlobalTracer(tracer);
  const unregister = registerOpenTelemetry();
  return {
    tracer,
    exporter,
    async done(): Promise<void> {
      unregister();
      setGlobalTracer(previous);
      await tracer.shutdown();
    },
  };
}

/** Every way a span gets attributes: start options, setAttribute, setAttributes, an event. */
async function handWritten(tracer: Tracer, exporter: ReturnType<typeof memoryTracer>['exporter']): Promise<SpanData> {
  const lib = trace.getTracer('genai-lib', '1.0.0');
  const half = contentKeys.length >> 1;
  const fromStart = Object.fromEntries(contentKeys.slice(0, half).map((k) => [k, CONTENT[k as keyof typeof CONTENT]]));
  const later = Object.fromEntries(contentKeys.slice(half).map((k) => [k, CONTENT[k as keyof typeof CONTENT]]));
  lib.startActiveSpan('chat m-1', { attributes: { ...fromStart, 'gen_ai.request.model': 'm-1' } }, (span) => {
    for (const [k, v] of Object.entries(later).slice(0, 2)) span.setAttribute(k, v);
    span.setAttributes({ ...Object.fromEntries(Object.entries(later).slice(2)), ...KEPT });
    span.addEvent('gen_ai.content.prompt', { 'gen_ai.prompt': 'secret prompt', 'gen_ai.event.kind': 'prompt' });
    span.end();
  });
  await tracer.forceFlush();
  const [s] = exporter.spans().filter((x) => x.name === 'chat m-1');
  return s;
}

describe('LLM content attributes of OpenTelemetry API spans', () => {
  it('captureContent off (the default): every content attribute is left out, all others kept', async () => {
    const { tracer, exporter, done } = setup(false);
    try {
      const s = await handWritten(tracer, exporter);
      expect(s.attributes).toEqual(KEPT);
      expect(s.events).toHaveLength(1);
      expect(s.events[0].attributes).toEqual({ 'gen_ai.event.kind': 'prompt' });
      expect(JSON.stringify(s)).not.toContain('secret');
    } finally {
      await done();
    }
  });

  it('captureContent on: everything kept as the library set it', async () => {
    const { tracer, exporter, done } = setup(true);
    try {
      const s = await handWritten(tracer, exporter);
      expect(s.attributes).toEqual({ ...CONTENT, ...KEPT });
      expect(s.events[0].attributes).toEqual({ 'gen_ai.prompt': 'secret prompt', 'gen_ai.event.kind': 'prompt' });
    } finally {
      await done();
    }
  });

  it('the captureContent of the tracer owning the trace decides, not the global one', async () => {
    const { exporter, done } = setup(false);
    const owner = memoryTracer({ captureContent: true });
    try {
      const lib = trace.getTracer('genai-lib');
      await owner.tracer.withSpan('request', async () => {
        const span = lib.startSpan('chat', { attributes: { 'gen_ai.input.messages': '[]' } });
        span.setAttribute('gen_ai.output.messages', '[]');
        span.end();
      });
      await owner.tracer.forceFlush();
      const s = owner.exporter.spans().find((x) => x.name === 'chat')!;
      expect(s.attributes).toEqual({ 'gen_ai.input.messages': '[]', 'gen_ai.output.messages': '[]' });
      expect(exporter.spans()).toEqual([]);
    } finally {
      await owner.tracer.shutdown();
      await done();
    }
  });
});
