/** Streamed bodies: SSE and NDJSON parsing, LLM stream decoding, the accumulator. */
export { createStreamAccumulator, streamFormatFor } from './accumulator';
export type { AttributeTarget, StreamAccumulator, StreamAccumulatorOptions, StreamError, StreamFormat, StreamOutcome } from './accumulator';
export { createSSEParser, DEFAULT_MAX_EVENT_BYTES } from './sse';
export type { SSEEvent, SSEParser, SSEParserOptions } from './sse';
export { createNDJSONParser } from './ndjson';
export type { NDJSONParser, NDJSONParserOptions } from './ndjson';
export { LLMStreamDecoder } from './decoders';
export { decodeLLMResponseBody } from './json';
