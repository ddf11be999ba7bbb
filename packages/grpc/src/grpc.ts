/**
 * The application's @grpc/grpc-js (a peer dependency), loaded when an interceptor is made: the
 * classes interceptors must return come from the same copy the client or server uses.
 */
import type * as Grpc from '@grpc/grpc-js';

export type GrpcModule = Pick<typeof Grpc, 'InterceptingCall' | 'ServerInterceptingCall'>;

let grpc: GrpcModule | undefined;

export function loadGrpc(): GrpcModule {
  if (grpc === undefined) {
    try {
      grpc = require('@grpc/grpc-js') as GrpcModule;
    } catch (err) {
      throw new TypeError(`tracewire: @tracewire/grpc needs @grpc/grpc-js 1.10 or later installed beside it (${err instanceof Error ? err.message : String(err)})`);
    }
    if (typeof grpc.ServerInterceptingCall !== 'function' || typeof grpc.InterceptingCall !== 'function') {
      grpc = undefined;
      throw new TypeError('tracewire: @tracewire/grpc needs @grpc/grpc-js 1.10 or later (server interceptors)');
    }
  }
  return grpc;
}
