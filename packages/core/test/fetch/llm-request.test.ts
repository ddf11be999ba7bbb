import { detectLLMEndpoint, readLLMRequest, withStreamUsage, MAX_PARSED_REQUEST_BYTES } from '../../src/fetch/llm';

const u = (s: string) => new URL(s);

describe('detectLLMEndpoint', () => {
  it.each([
    ['https://api.openai.com/v1/chat/completions', 'openai.chat', 'openai'],
    ['https://api.openai.com/v1/responses', 'openai.responses', 'openai'],
    ['https://api.anthropic.com/v1/messages?beta=true', 'anthropic.messages', 'anthropic'],
    ['https://api.groq.com/openai/v1/chat/completions', 'openai.chat', 'groq'],
    ['http://127.0.0.1:8000/v1/chat/completions', 'openai.chat', 'openai'],
    ['https://gateway.test/llm/chat/completions/', 'openai.chat', 'openai'],
    ['https://my.openai.azure.com/openai/v1/chat/completions', 'openai.chat', 'azure.ai.openai'],
  ])('recognises %s', (url, api, provider) => {
    expect(detectLLMEndpoint('POST', u(url))).toMatchObject({ api, provider });
  });

  it('reads the Azure deployment from the path', () => {
    expect(detectLLMEndpoint('POST', u('https://r.openai.azure.com/openai/deployments/my%20gpt/chat/completions?api-version=2024-10-21'))).toEqual({
      api: 'openai.chat',
      provider: 'azure.ai.openai',
      deployment: 'my gpt',
    });
  });

  it('ignores other methods and paths', () => {
    expect(detectLLMEndpoint('GET', u('https://api.openai.com/v1/chat/completions'))).toBeUndefined();
    expect(detectLLMEndpoint('POST', u('https://api.openai.com/v1/embeddings'))).toBeUndefined();
    expect(detectLLMEndpoint('POST', u('https://shop.test/api/messages/1'))).toBeUndefined();
  });
});

describe('readLLMRequest', () => {
  const chat = { api: 'openai.chat' as const, provider: 'openai' };

  it('reads the request attributes', () => {
    const req = readLLMRequest(
      chat,
      JSON.stringify({ model: 'gpt-4o-mini', stream: true, max_completion_tokens: 50, temperature: 0.2, top_p: 0.9, n: 2, stop: 'END', seed: 7, messages: [] }),
    )!;
    expect(req.model).toBe('gpt-4o-mini');
    expect(req.attributes).toEqual({
      'gen_ai.provider.name': 'openai',
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.request.stream': true,
      'gen_ai.request.max_tokens': 50,
      'gen_ai.request.temperature': 0.2,
      'gen_ai.request.top_p': 0.9,
      'gen_ai.request.choice.count': 2,
      'gen_ai.request.stop_sequences': ['END'],
      'gen_ai.request.seed': 7,
    });
  });

  it('uses the Azure deployment when the body names no model', () => {
    expect(readLLMRequest({ ...chat, provider: 'azure.ai.openai', deployment: 'dep' }, '{"messages":[]}')!.model).toBe('dep');
  });

  it('is not an LLM request without a model, or when the body is not JSON', () => {
    expect(readLLMRequest(chat, '{"messages":[]}')).toBeUndefined();
    expect(readLLMRequest(chat, 'not json')).toBeUndefined();
    expect(readLLMRequest(chat, undefined)).toBeUndefined();
  });

  it('finds model and stream in a body too large to parse', () => {
    const big = JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'x'.repeat(MAX_PARSED_REQUEST_BYTES) + '"model":"fake"' }] });
    const req = readLLMRequest(chat, big)!;
    expect(req.model).toBe('gpt-4o');
    expect(req.stream).toBe(true);
    expect(req.body).toBeUndefined();
  });
});

describe('withStreamUsage', () => {
  const chat = { api: 'openai.chat' as const, provider: 'openai' };
  const read = (body: object) => readLLMRequest(chat, JSON.stringify(body))!;

  it('adds include_usage to a streaming request that lacks it, keeping other stream options', () => {
    expect(JSON.parse(withStreamUsage(read({ model: 'm', stream: true }))!)).toEqual({ model: 'm', stream: true, stream_options: { include_usage: true } });
    expect(JSON.parse(withStreamUsage(read({ model: 'm', stream: true, stream_options: { include_obfuscation: false } }))!).stream_options).toEqual({
      include_obfuscation: false,
      include_usage: true,
    });
  });

  it('leaves non-streaming requests, explicit choices and other APIs alone', () => {
    expect(withStreamUsage(read({ model: 'm' }))).toBeUndefined();
    expect(withStreamUsage(read({ model: 'm', stream: true, stream_options: { include_usage: false } }))).toBeUndefined();
    expect(withStreamUsage(readLLMRequest({ api: 'anthropic.messages', provider: 'anthropic' }, '{"model":"c","stream":true}')!)).toBeUndefined();
  });
});
