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
    expect(detectLLMEndpoint('PUT', u('https://api.openai.com/v1/embeddings'))).toBeUndefined();
    expect(detectLLMEndpoint('PATCH', u('https://api.openai.com/v1/files/file-1'))).toBeUndefined();
    expect(detectLLMEndpoint('GET', u('https://shop.test/api/chat'))).toBeUndefined();
    expect(detectLLMEndpoint('POST', u('https://shop.test/api/messages/1'))).toBeUndefined();
  });
});

describe('detectLLMEndpoint for other operations and providers', () => {
  it.each([
    ['POST', 'https://api.openai.com/v1/embeddings', 'openai.embeddings', 'openai', undefined],
    ['POST', 'https://api.openai.com/v1/audio/speech', 'openai.speech', 'openai', undefined],
    ['POST', 'https://api.openai.com/v1/audio/transcriptions', 'openai.transcriptions', 'openai', undefined],
    ['POST', 'https://api.openai.com/v1/images/generations', 'openai.images', 'openai', undefined],
    ['POST', 'https://api.openai.com/v1/batches', 'openai.batches', 'openai', 'create_batch'],
    ['GET', 'https://api.openai.com/v1/batches', 'openai.batches', 'openai', 'list_batches'],
    ['GET', 'https://api.openai.com/v1/batches/batch_1', 'openai.batches', 'openai', 'retrieve_batch'],
    ['POST', 'https://api.openai.com/v1/batches/batch_1/cancel', 'openai.batches', 'openai', 'cancel_batch'],
    ['POST', 'https://api.openai.com/v1/files', 'openai.files', 'openai', 'upload_file'],
    ['GET', 'https://api.openai.com/v1/files/file-1/content', 'openai.files', 'openai', 'retrieve_file_content'],
    ['DELETE', 'https://api.openai.com/v1/files/file-1', 'openai.files', 'openai', 'delete_file'],
    ['POST', 'https://api.anthropic.com/v1/messages/count_tokens', 'anthropic.count_tokens', 'anthropic', undefined],
    ['POST', 'https://api.anthropic.com/v1/messages/batches', 'anthropic.batches', 'anthropic', 'create_batch'],
    ['GET', 'https://api.anthropic.com/v1/messages/batches/msgbatch_1/results', 'anthropic.batches', 'anthropic', 'retrieve_batch_results'],
    ['POST', 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent', 'gemini.generate', 'gcp.gemini', undefined],
    ['POST', 'https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse', 'gemini.generate', 'gcp.vertex_ai', undefined],
    ['POST', 'http://127.0.0.1:11434/api/chat', 'ollama.chat', 'ollama', undefined],
    ['POST', 'http://127.0.0.1:11434/api/generate', 'ollama.generate', 'ollama', undefined],
    ['POST', 'http://127.0.0.1:11434/api/embed', 'ollama.embed', 'ollama', undefined],
    ['POST', 'http://127.0.0.1:11434/v1/chat/completions', 'openai.chat', 'openai', undefined],
  ])('%s %s', (method, url, api, provider, operation) => {
    const e = detectLLMEndpoint(method, u(url));
    expect(e).toMatchObject({ api, provider });
    if (operation !== undefined) expect(e!.operation).toBe(operation);
  });

  it('reads the Gemini model and streaming from the path, the batch or file id too', () => {
    expect(detectLLMEndpoint('POST', u('https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse'))).toMatchObject({
      pathModel: 'gemini-2.5-flash',
      pathStream: true,
    });
    expect(detectLLMEndpoint('GET', u('https://api.openai.com/v1/batches/batch_abc'))!.resourceId).toBe('batch_abc');
  });
});

describe('readLLMRequest for other operations', () => {
  it('names the operation and keeps only counts and settings, never content', () => {
    const speech = readLLMRequest({ api: 'openai.speech', provider: 'openai' }, JSON.stringify({ model: 'gpt-4o-mini-tts', input: 'Hello there', voice: 'coral', response_format: 'mp3' }))!;
    expect(speech.attributes).toEqual({
      'gen_ai.provider.name': 'openai',
      'gen_ai.operation.name': 'text_to_speech',
      'gen_ai.request.model': 'gpt-4o-mini-tts',
      'gen_ai.speech.voice': 'coral',
      'gen_ai.output.type': 'speech',
      'tracewire.speech.input_characters': 11,
      'tracewire.audio.format': 'mp3',
    });
    const form = new FormData();
    form.set('model', 'gpt-4o-mini-transcribe');
    form.set('stream', 'true');
    form.set('language', 'de');
    form.set('file', new Blob([new Uint8Array(4096)]), 'a.wav');
    expect(readLLMRequest({ api: 'openai.transcriptions', provider: 'openai' }, undefined, form)!.attributes).toEqual({
      'gen_ai.provider.name': 'openai',
      'gen_ai.operation.name': 'speech_to_text',
      'gen_ai.request.model': 'gpt-4o-mini-transcribe',
      'gen_ai.request.stream': true,
      'tracewire.audio.input_bytes': 4096,
      'gen_ai.speech.input.language': 'de',
    });
    const batch = readLLMRequest({ api: 'openai.batches', provider: 'openai', operation: 'create_batch' }, JSON.stringify({ input_file_id: 'file-1', endpoint: '/v1/chat/completions', completion_window: '24h' }))!;
    expect(batch.model).toBeUndefined();
    expect(batch.attributes).toEqual({ 'gen_ai.provider.name': 'openai', 'gen_ai.operation.name': 'create_batch', 'tracewire.file.id': 'file-1', 'tracewire.batch.endpoint': '/v1/chat/completions' });
  });

  it('reads Gemini generationConfig and Ollama options as the request attributes', () => {
    const gemini = readLLMRequest({ api: 'gemini.generate', provider: 'gcp.gemini', pathModel: 'gemini-2.5-flash', pathStream: true }, JSON.stringify({ contents: [], generationConfig: { temperature: 0.4, topP: 0.9, maxOutputTokens: 256, stopSequences: ['END'] } }))!;
    expect(gemini.attributes).toMatchObject({ 'gen_ai.operation.name': 'generate_content', 'gen_ai.request.model': 'gemini-2.5-flash', 'gen_ai.request.stream': true, 'gen_ai.request.temperature': 0.4, 'gen_ai.request.top_p': 0.9, 'gen_ai.request.max_tokens': 256, 'gen_ai.request.stop_sequences': ['END'] });
    const ollama = readLLMRequest({ api: 'ollama.chat', provider: 'ollama' }, JSON.stringify({ model: 'llama3.2', messages: [], options: { temperature: 0.1, num_predict: 64, seed: 3 } }))!;
    // Ollama streams unless told not to.
    expect(ollama.attributes).toMatchObject({ 'gen_ai.request.stream': true, 'gen_ai.request.temperature': 0.1, 'gen_ai.request.max_tokens': 64, 'gen_ai.request.seed': 3 });
    expect(readLLMRequest({ api: 'ollama.generate', provider: 'ollama' }, JSON.stringify({ model: 'llama3.2', prompt: 'x', stream: false }))!.attributes).toMatchObject({ 'gen_ai.operation.name': 'text_completion' });
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
