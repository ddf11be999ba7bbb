/** Server-span logic shared by every adapter (and anything else built on node:http). */
export { ServerInstrumentation, createServerInstrumentation, nodeHeaderGetter } from './server';
export type { ServerTracingOptions, ServerRequestState, HttpAdapter } from './server';
export { compileIgnore } from './ignore';
export type { IgnoreOption } from './ignore';
export { createQueryRedactor, redactUrl, SENSITIVE_HEADERS, REDACTED } from '../internal/redact';
