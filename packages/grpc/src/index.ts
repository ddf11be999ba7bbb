/**
 * @tracewire/grpc — tracing for @grpc/grpc-js: `serverInterceptor()` for
 * `new Server({ interceptors: [...] })` and `clientInterceptor()` for
 * `new Client(address, credentials, { interceptors: [...] })`. Spans follow the OpenTelemetry RPC
 * semantic conventions for gRPC; the trace context travels in the call metadata.
 */
export { serverInterceptor } from './server';
export { clientInterceptor } from './client';
export type { GrpcTracingOptions, GrpcClientTracingOptions, GrpcCallInfo, GrpcStatusInfo } from './options';
export type { CallType } from './attributes';
