import { callType, isServerError, methodOf, parsePeer, parseTarget, splitHostPort, statusName } from '../src/attributes';

describe('parseTarget', () => {
  // The examples of the gRPC conventions' server.address note, and the forms grpc-js accepts.
  it.each([
    ['grpc.io:50051', 'grpc.io', 50051],
    ['dns://1.2.3.4/grpc.io:50051', 'grpc.io', 50051],
    ['dns:///grpc.io:50051', 'grpc.io', 50051],
    ['dns:grpc.io:50051', 'grpc.io', 50051],
    ['unix:///run/containerd/containerd.sock', '/run/containerd/containerd.sock', undefined],
    ['unix:relative.sock', 'relative.sock', undefined],
    ['zk://zookeeper:2181/my-server', 'zk://zookeeper:2181/my-server', undefined],
    ['ipv4:198.51.100.123:50051,198.51.100.124:50051', 'ipv4:198.51.100.123:50051,198.51.100.124:50051', undefined],
    ['ipv4:198.51.100.123:50051', '198.51.100.123', 50051],
    ['ipv6:[2001:db8::1]:50051', '2001:db8::1', 50051],
    ['localhost:50051', 'localhost', 50051],
    ['127.0.0.1:50051', '127.0.0.1', 50051],
    ['[::1]:50051', '::1', 50051],
    ['grpc.io', 'grpc.io', 443],
    ['xds:///echo', 'xds:///echo', undefined],
  ])('%s -> %s %s', (target, address, port) => {
    expect(parseTarget(target)).toEqual({ address, port });
  });
});

describe('parsePeer', () => {
  it.each([
    ['127.0.0.1:50051', { address: '127.0.0.1', port: 50051 }],
    ['[::1]:50051', { address: '::1', port: 50051 }],
    // grpc-js servers before 1.12 print IPv6 peers without brackets.
    ['::1:50051', { address: '::1', port: 50051 }],
    ['unix:/tmp/s.sock', { address: '/tmp/s.sock', port: undefined }],
    ['unknown', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%s', (peer, expected) => {
    expect(parsePeer(peer)).toEqual(expected);
  });
});

describe('splitHostPort', () => {
  it('takes the port only when it is one', () => {
    expect(splitHostPort('api:8443')).toEqual(['api', 8443]);
    expect(splitHostPort('api:0')).toEqual(['api', undefined]);
    expect(splitHostPort('api:99999')).toEqual(['api', undefined]);
    expect(splitHostPort('2001:db8::1')).toEqual(['2001:db8::1', undefined]);
    expect(splitHostPort('[2001:db8::1]')).toEqual(['2001:db8::1', undefined]);
  });
});

describe('methodOf', () => {
  it('is package.Service/Method for a gRPC method path, _OTHER for anything else', () => {
    expect(methodOf('/tracewire.test.v1.Echo/Say')).toBe('tracewire.test.v1.Echo/Say');
    expect(methodOf('/Echo/Say')).toBe('Echo/Say');
    for (const bad of ['', '/', 'Echo/Say', '/Echo', '/Echo/', '//Say', '/a/b/c', undefined, 5]) expect([bad, methodOf(bad)]).toEqual([bad, '_OTHER']);
  });
});

describe('statusName', () => {
  it('names every gRPC code, and keeps an unknown one as its number', () => {
    expect([0, 1, 4, 5, 12, 16].map(statusName)).toEqual(['OK', 'CANCELLED', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'UNIMPLEMENTED', 'UNAUTHENTICATED']);
    expect(statusName(42)).toBe('42');
    expect(statusName(-1)).toBe('-1');
  });
});

describe('isServerError', () => {
  it('follows the gRPC conventions: UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS', () => {
    const errors = Array.from({ length: 17 }, (_, c) => c).filter(isServerError).map(statusName);
    expect(errors).toEqual(['UNKNOWN', 'DEADLINE_EXCEEDED', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS']);
    // A code gRPC does not define is no success the server could claim.
    expect(isServerError(42)).toBe(true);
  });
});

describe('callType', () => {
  it('reads the method definition flags', () => {
    expect([callType(false, false), callType(true, false), callType(false, true), callType(true, true)]).toEqual(['unary', 'client_stream', 'server_stream', 'bidi_stream']);
  });
});
