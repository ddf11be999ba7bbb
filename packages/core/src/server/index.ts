/** The transport-neutral server span: a carrier in, a handle, one end with the outcome. */
export { ServerSpans, createServerSpans } from './span';
export type { ServerSpan, ServerSpanOptions, ServerStartOptions, ServerOutcome, ServerError } from './span';
export type { ServerCarrier } from './carrier';
