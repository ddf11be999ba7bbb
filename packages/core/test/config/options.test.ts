import { readOtlpEnv, resolveConfig } from '../../src/config';
import { captureStderr, makeTrace } from '../helpers';
import type { Exporter, FinishedTrace, SamplingParams, TracerOptions } from '../../src/types';

const { lines } = captureStderr();

const exporter = (name = 'mem'): Exporter => ({ name, export: async () => undefined });
const root: SamplingParams = { traceId: 'ab'.repeat(16), name: 'x', kind: 'server' };
const remoteUnsampled: SamplingParams = {
  ...root,
  parent: { traceId: root.traceId, spanId: 'c'.repeat(16), traceFlags: 0, isRemote: true },
};
const trace = (over: Partial<FinishedTrace> = {}): FinishedTrace => makeTrace([], { traceId: 'ab'.repeat(16), rootSpanId: 'c'.repeat(16), ...over });

describe('resolveConfig defaults', () => {
  it('uses the documented defaults with no options and an empty environment', () => {
    const c = resolveConfig(undefined, {});
    expect(c.enabled).toBe(true);
    expect(c.resource).toEqual({
      'service.name': 'unknown_service:node',
      'telemetry.sdk.name': 'tracewire',
      'telemetry.sdk.language': 'nodejs',
      'telemetry.sdk.version': '0.1.0',
    });
    expect(c.sample(root)).toBe(true);
    expect(c.sample(remoteUnsampled)).toBe(false);
    expect(c.tail).toBeUndefined();
    expect(c.exporters).toBeUndefined();
    expect(c.exporterNames).toBeUndefined();
    expect(c.trustIncoming).toBe(true);
    expect(c.propagateTo).toBeUndefined();
    expect(c.captureContent).toBe(false);
    // The safe defaults are redacted (the list itself is compiled into redactQuery, issue #12).
    expect(c.redactQuery('key=1&api_key=2&token=3&sig=4&signature=5&password=6&secret=7&x-amz-signature=8&q=ok')).toBe(
      'key=REDACTED&api_key=REDACTED&token=REDACTED&sig=REDACTED&signature=REDACTED&password=REDACTED&secret=REDACTED&x-amz-signature=REDACTED&q=ok',
    );
    expect(c.pricing).toBeUndefined();
    expect(c.spanLimits).toEqual({
      attributeCountLimit: 128,
      attributeValueLengthLimit: Infinity,
      eventCountLimit: 128,
      linkCountLimit: 128,
      attributePerEventCountLimit: 128,
      attributePerLinkCountLimit: 128,
    });
    expect(c.store).toEqual({ maxLiveTraces: 10000, maxSpansPerTrace: 1000, lingerMs: 5000, traceTtlMs: 300000 });
    expect(c.batch).toEqual({ maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelayMillis: 5000, exportTimeoutMillis: 30000 });
    expect(readOtlpEnv({})).toEqual({ headers: {}, protocol: 'http/protobuf' });
    expect(lines()).toEqual([]);
  });

  it('accepts an empty options object and explicit undefined fields', () => {
    expect(() => resolveConfig({ serviceName: undefined, limits: { lingerMs: undefined } }, {})).not.toThrow();
    expect(resolveConfig({ limits: { lingerMs: undefined } }, {}).store.lingerMs).toBe(5000);
  });
});

describe('resolveConfig precedence (option over env over default)', () => {
  it('resolves the service name', () => {
    const env = { OTEL_SERVICE_NAME: 'env-svc', OTEL_RESOURCE_ATTRIBUTES: 'service.name=ra-svc' };
    expect(resolveConfig({}, { OTEL_RESOURCE_ATTRIBUTES: 'service.name=ra-svc' }).resource['service.name']).toBe('ra-svc');
    expect(resolveConfig({}, env).resource['service.name']).toBe('env-svc');
    expect(resolveConfig({ resource: { 'service.name': 'res-svc' } }, env).resource['service.name']).toBe('res-svc');
    expect(resolveConfig({ serviceName: 'opt', resource: { 'service.name': 'res-svc' } }, env).resource['service.name']).toBe('opt');
  });

  it('puts env resource attributes under explicit ones', () => {
    const c = resolveConfig(
      { serviceVersion: '1.2.3', environment: 'prod', resource: { team: 'opt', region: ['eu', 'us'] } },
      { OTEL_RESOURCE_ATTRIBUTES: 'team=env,host.name=h1' },
    );
    expect(c.resource).toMatchObject({
      team: 'opt',
      'host.name': 'h1',
      region: ['eu', 'us'],
      'service.version': '1.2.3',
      'deployment.environment.name': 'prod',
    });
  });

  it('resolves enabled', () => {
    expect(resolveConfig({}, { OTEL_SDK_DISABLED: 'true' }).enabled).toBe(false);
    expect(resolveConfig({ enabled: true }, { OTEL_SDK_DISABLED: 'true' }).enabled).toBe(true);
    expect(resolveConfig({ enabled: false }, {}).enabled).toBe(false);
  });

  it('resolves the sampler', () => {
    expect(resolveConfig({}, { OTEL_TRACES_SAMPLER: 'always_off' }).sample(root)).toBe(false);
    expect(resolveConfig({ sampler: 1 }, { OTEL_TRACES_SAMPLER: 'always_off' }).sample(root)).toBe(true);
    expect(resolveConfig({ sampler: () => false }, {}).sample(root)).toBe(false);
    expect(resolveConfig({ sampler: { shouldSample: () => false } }, {}).sample(root)).toBe(false);
  });

  it('resolves exporters: explicit ones replace the env names', () => {
    expect(resolveConfig({}, { OTEL_TRACES_EXPORTER: 'console,otlp' }).exporterNames).toEqual(['console', 'otlp']);
    expect(resolveConfig({}, { OTEL_TRACES_EXPORTER: 'none' }).exporterNames).toEqual([]);
    const ex = exporter();
    const c = resolveConfig({ exporters: [ex] }, { OTEL_TRACES_EXPORTER: 'console' });
    expect(c.exporters).toEqual([ex]);
    expect(c.exporterNames).toBeUndefined();
  });

  it('resolves captureContent', () => {
    const env = { OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true' };
    expect(resolveConfig({}, env).captureContent).toBe(true);
    expect(resolveConfig({ captureContent: false }, env).captureContent).toBe(false);
  });

  it('resolves span limits field by field', () => {
    const c = resolveConfig(
      { limits: { attributeCountLimit: 10, attributeValueLengthLimit: Infinity, lingerMs: 0 } },
      { OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: '64', OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '100', OTEL_SPAN_EVENT_COUNT_LIMIT: '7' },
    );
    expect(c.spanLimits).toMatchObject({ attributeCountLimit: 10, attributeValueLengthLimit: Infinity, eventCountLimit: 7, linkCountLimit: 128 });
    expect(c.store).toEqual({ maxLiveTraces: 10000, maxSpansPerTrace: 1000, lingerMs: 0, traceTtlMs: 300000 });
    expect(c.spanLimits).not.toHaveProperty('lingerMs');
  });

  it('resolves batch settings field by field', () => {
    const c = resolveConfig(
      { batch: { scheduledDelayMillis: 10 } },
      { OTEL_BSP_SCHEDULE_DELAY: '200', OTEL_BSP_EXPORT_TIMEOUT: '1000' },
    );
    expect(c.batch).toEqual({ maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelayMillis: 10, exportTimeoutMillis: 1000 });
  });

  it('clamps the batch size to a smaller queue: silently for the default, with a warning for env', () => {
    expect(resolveConfig({ batch: { maxQueueSize: 100 } }, {}).batch.maxExportBatchSize).toBe(100);
    expect(lines()).toEqual([]);
    const env = { OTEL_BSP_MAX_QUEUE_SIZE: '50', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '80' };
    expect(resolveConfig({}, env).batch).toMatchObject({ maxQueueSize: 50, maxExportBatchSize: 50 });
    resolveConfig({}, env);
    expect(lines()).toHaveLength(1);
    expect(lines()[0]).toMatch(/^\[tracewire\] OTEL_BSP_MAX_EXPORT_BATCH_SIZE=80 .*using 50/);
  });

  it('throws when an explicit batch size exceeds the queue size', () => {
    expect(() => resolveConfig({ batch: { maxExportBatchSize: 4096 } }, {})).toThrow(/"batch\.maxExportBatchSize"/);
    expect(() => resolveConfig({ batch: { maxExportBatchSize: 64 } }, { OTEL_BSP_MAX_QUEUE_SIZE: '32' })).toThrow(TypeError);
  });

  // Exporter packages read them with readOtlpEnv (the tracer's config no longer carries an unused copy, issue #12).
  it('passes OTLP settings from the environment', () => {
    expect(readOtlpEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_HEADERS: 'a=b' })).toEqual({
      endpoint: 'http://c:4318',
      headers: { a: 'b' },
      protocol: 'http/protobuf',
    });
  });
});

describe('resolveConfig normalisation', () => {
  it('compiles the tail policy', () => {
    const c = resolveConfig({ tail: { ratio: 0 } }, {});
    expect(c.tail!(trace())).toBe(false);
    expect(c.tail!(trace({ fragment: 1 }))).toBe(true);
  });

  it('adds redact.queryParams, lowercased, to the defaults', () => {
    const c = resolveConfig({ redact: { queryParams: ['Session', 'token'] } }, {});
    expect(c.redactQuery('session=1&SESSION=2&token=3&q=4')).toBe('session=REDACTED&SESSION=REDACTED&token=REDACTED&q=4');
  });

  it('keeps propagateTo lists and trust predicates, guarding user predicates', () => {
    expect(resolveConfig({ propagateTo: ['api.internal', /\.svc$/] }, {}).propagateTo).toEqual(['api.internal', /\.svc$/]);
    const c = resolveConfig(
      {
        trustIncoming: () => {
          throw new Error('trust boom');
        },
        propagateTo: () => {
          throw new Error('prop boom');
        },
      },
      {},
    );
    expect((c.trustIncoming as (h: unknown) => boolean)({})).toBe(false);
    expect((c.propagateTo as (u: URL) => boolean)(new URL('http://x'))).toBe(false);
    expect((c.propagateTo as (u: URL) => boolean)(new URL('http://x'))).toBe(false);
    expect(lines()).toHaveLength(2);
    expect(lines().join('')).toMatch(/trust boom[\s\S]*prop boom/);
    expect(resolveConfig({ trustIncoming: false }, {}).trustIncoming).toBe(false);
  });

  it('keeps pricing', () => {
    const pricing = { 'my-model': { input: 1, output: 2, cachedInput: 0.5 } };
    expect(resolveConfig({ pricing }, {}).pricing).toEqual(pricing);
  });
});

describe('resolveConfig validation', () => {
  const cases: Array<[string, unknown, string]> = [
    ['serviceName', { serviceName: 42 }, 'serviceName'],
    ['serviceName', { serviceName: '' }, 'serviceName'],
    ['serviceVersion', { serviceVersion: 1 }, 'serviceVersion'],
    ['environment', { environment: true }, 'environment'],
    ['resource', { resource: [] }, 'resource'],
    ['resource', { resource: new Map() }, 'resource'],
    ['resource value', { resource: { a: { nested: 1 } } }, 'resource["a"]'],
    ['resource value', { resource: { a: [1, 'x'] } }, 'resource["a"]'],
    ['sampler', { sampler: 1.5 }, 'sampler'],
    ['sampler', { sampler: -0.1 }, 'sampler'],
    ['sampler', { sampler: NaN }, 'sampler'],
    ['sampler', { sampler: 'always_on' }, 'sampler'],
    ['sampler', { sampler: {} }, 'sampler'],
    ['tail', { tail: 'errors' }, 'tail'],
    ['tail.ratio', { tail: { ratio: 3 } }, 'tail.ratio'],
    ['tail.slowerThanMs', { tail: { slowerThanMs: -5 } }, 'tail.slowerThanMs'],
    ['exporters', { exporters: exporter() }, 'exporters'],
    ['exporters[0]', { exporters: [null] }, 'exporters[0]'],
    ['exporters[1].name', { exporters: [exporter(), { export: async () => undefined }] }, 'exporters[1].name'],
    ['exporters[0].export', { exporters: [{ name: 'x', export: 'no' }] }, 'exporters[0].export'],
    ['exporters[0].shutdown', { exporters: [{ ...exporter(), shutdown: 1 }] }, 'exporters[0].shutdown'],
    ['trustIncoming', { trustIncoming: 'yes' }, 'trustIncoming'],
    ['propagateTo', { propagateTo: 'api.internal' }, 'propagateTo'],
    ['propagateTo[1]', { propagateTo: ['a', 3] }, 'propagateTo[1]'],
    ['captureContent', { captureContent: 'true' }, 'captureContent'],
    ['enabled', { enabled: 0 }, 'enabled'],
    ['redact', { redact: ['token'] }, 'redact'],
    ['redact.queryParams', { redact: { queryParams: 'token' } }, 'redact.queryParams'],
    ['redact.queryParams[0]', { redact: { queryParams: [1] } }, 'redact.queryParams[0]'],
    ['redact typo', { redact: { query: [] } }, 'redact.query'],
    ['pricing', { pricing: 5 }, 'pricing'],
    ['pricing entry', { pricing: { m: { input: -1, output: 1 } } }, 'pricing["m"].input'],
    ['pricing entry', { pricing: { m: { input: 1 } } }, 'pricing["m"].output'],
    ['limits', { limits: 5 }, 'limits'],
    ['limits.lingerMs', { limits: { lingerMs: -1 } }, 'limits.lingerMs'],
    ['limits.traceTtlMs', { limits: { traceTtlMs: Infinity } }, 'limits.traceTtlMs'],
    ['limits.traceTtlMs', { limits: { traceTtlMs: 2 ** 31 } }, 'limits.traceTtlMs'],
    ['limits.maxLiveTraces', { limits: { maxLiveTraces: 1.5 } }, 'limits.maxLiveTraces'],
    ['limits.maxSpansPerTrace', { limits: { maxSpansPerTrace: -1 } }, 'limits.maxSpansPerTrace'],
    ['limits.attributeCountLimit', { limits: { attributeCountLimit: '10' } }, 'limits.attributeCountLimit'],
    ['limits.attributeValueLengthLimit', { limits: { attributeValueLengthLimit: -Infinity } }, 'limits.attributeValueLengthLimit'],
    ['limits.eventCountLimit', { limits: { eventCountLimit: Infinity } }, 'limits.eventCountLimit'],
    ['limits.linkCountLimit', { limits: { linkCountLimit: NaN } }, 'limits.linkCountLimit'],
    ['limits.attributePerEventCountLimit', { limits: { attributePerEventCountLimit: -1 } }, 'limits.attributePerEventCountLimit'],
    ['limits.attributePerLinkCountLimit', { limits: { attributePerLinkCountLimit: 0.5 } }, 'limits.attributePerLinkCountLimit'],
    ['limits typo', { limits: { lingerMS: 10 } }, 'limits.lingerMS'],
    ['batch', { batch: null }, 'batch'],
    ['batch.maxQueueSize', { batch: { maxQueueSize: 0 } }, 'batch.maxQueueSize'],
    ['batch.maxExportBatchSize', { batch: { maxExportBatchSize: 2.5 } }, 'batch.maxExportBatchSize'],
    ['batch.scheduledDelayMillis', { batch: { scheduledDelayMillis: -1 } }, 'batch.scheduledDelayMillis'],
    ['batch.exportTimeoutMillis', { batch: { exportTimeoutMillis: NaN } }, 'batch.exportTimeoutMillis'],
    ['unknown key', { sampleRate: 0.5 }, 'sampleRate'],
    ['misplaced key', { lingerMs: 100 }, 'lingerMs'],
  ];

  it.each(cases)('throws a TypeError naming %s', (_label, options, name) => {
    let error: unknown;
    try {
      resolveConfig(options as TracerOptions, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toContain(`"${name}"`);
    expect((error as Error).message).toMatch(/^tracewire: /);
  });

  it('formats the message with the expectation and the bad value', () => {
    expect(() => resolveConfig({ limits: { lingerMs: -1 } }, {})).toThrow(
      new TypeError('tracewire: option "limits.lingerMs" must be a non-negative finite number, got -1'),
    );
  });

  it('suggests the right place for a misplaced limit', () => {
    expect(() => resolveConfig({ lingerMs: 100 } as TracerOptions, {})).toThrow(/did you mean limits\.lingerMs/);
  });

  it.each([null, 'svc', 42, []])('rejects options %p that are not an object', (bad) => {
    expect(() => resolveConfig(bad as never, {})).toThrow(/tracewire: options must be an object/);
  });

  it('does not throw for bad environment values, only warns', () => {
    expect(() => resolveConfig({}, { OTEL_BSP_MAX_QUEUE_SIZE: '-1', OTEL_SDK_DISABLED: 'maybe' })).not.toThrow();
    expect(lines()).toHaveLength(2);
  });
});
