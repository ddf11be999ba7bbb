/**
 * @tracewire/opentelemetry — spans that libraries make through `@opentelemetry/api` (the Vercel AI
 * SDK, LangChain.js, Prisma, the official instrumentations) join Tracewire's traces.
 */
export { registerOpenTelemetry } from './register';
export type { RegisterOpenTelemetryOptions } from './register';
