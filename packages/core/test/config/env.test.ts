import { readEnv } from '../../src/config/env';
import { captureStderr } from '../helpers';
import type { SamplingParams } from '../../src/types';

const { lines } = captureStderr();

/** Read twice and check the single warning names the variable (and the fallback). */
function expectWarnedOnce(env: Record<string, string>, ...patterns: (string | RegExp)[]): void {
  readEnv(env);
  readEnv(env);
  expect(lines()).toHaveLength(1);
  expect(lines()[0].startsWith('[tracewire] ')).toBe(true);
  for (const p of patterns) expect(lines()[0]).toMatch(p);
}

const root: SamplingParams = { traceId: 'ab'.repeat(16), name: 'x', kind: 'server' };

describe('readEnv', () => {
  it('returns defaults for an empty environment, without warnings', () => {
    expect(readEnv({})).toEqual({
      resourceAttributes: {},
      disabled: false,
      otlp: { headers: {}, protocol: 'http/protobuf' },
      batch: {},
      limits: {},
    });
    expect(lines()).toEqual([]);
  });

  it('treats empty and blank values as unset', () => {
    const env: Record<string, string> = {};
    for (const name of [
      'OTEL_SERVICE_NAME',
      'OTEL_RESOURCE_ATTRIBUTES',
      'OTEL_SDK_DISABLED',
      'OTEL_TRACES_SAMPLER',
      'OTEL_TRACES_EXPORTER',
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'OTEL_EXPORTER_OTLP_PROTOCOL',
      'OTEL_BSP_MAX_QUEUE_SIZE',
      'OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT',
      'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT',
    ]) {
      env[name] = name.endsWith('SIZE') ? '  ' : '';
    }
    expect(readEnv(env)).toEqual(readEnv({}));
    expect(lines()).toEqual([]);
  });

  it('reads process.env by default, and only the given object otherwise', () => {
    const saved = process.env.OTEL_SERVICE_NAME;
    process.env.OTEL_SERVICE_NAME = 'from-process';
    try {
      expect(readEnv().serviceName).toBe('from-process');
      expect(readEnv({}).serviceName).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.OTEL_SERVICE_NAME;
      else process.env.OTEL_SERVICE_NAME = saved;
    }
  });

  describe('OTEL_SERVICE_NAME', () => {
    it('reads the service name', () => {
      expect(readEnv({ OTEL_SERVICE_NAME: ' checkout ' }).serviceName).toBe('checkout');
    });
  });

  describe('OTEL_RESOURCE_ATTRIBUTES', () => {
    it('parses percent-decoded key=value pairs', () => {
      expect(
        readEnv({ OTEL_RESOURCE_ATTRIBUTES: 'service.namespace=shop, team=a%20b%2Cc,host.name=h=1' })
          .resourceAttributes,
      ).toEqual({ 'service.namespace': 'shop', team: 'a b,c', 'host.name': 'h=1' });
      expect(lines()).toEqual([]);
    });

    it('skips and reports invalid pairs once', () => {
      const env = { OTEL_RESOURCE_ATTRIBUTES: 'ok=1,novalue,=x,bad=%ZZ' };
      expect(readEnv(env).resourceAttributes).toEqual({ ok: '1' });
      readEnv(env);
      expect(lines()).toHaveLength(3);
      for (const line of lines()) expect(line).toMatch(/^\[tracewire\] OTEL_RESOURCE_ATTRIBUTES .*skipped/);
    });
  });

  describe('OTEL_SDK_DISABLED', () => {
    it.each([
      ['true', true],
      ['TRUE', true],
      ['False', false],
    ])('reads %p', (value, expected) => {
      expect(readEnv({ OTEL_SDK_DISABLED: value }).disabled).toBe(expected);
    });

    it('reports a non-boolean once and stays enabled', () => {
      expect(readEnv({ OTEL_SDK_DISABLED: 'yes' }).disabled).toBe(false);
      expectWarnedOnce({ OTEL_SDK_DISABLED: 'yes' }, 'OTEL_SDK_DISABLED="yes"', /default false/);
    });
  });

  describe('OTEL_TRACES_SAMPLER', () => {
    it('builds the named sampler with its argument', () => {
      const s = readEnv({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' }).sampler;
      expect(s).toBeDefined();
      expect((s as { shouldSample(p: SamplingParams): boolean }).shouldSample(root)).toBe(false);
      expect(String(s)).toBe('TraceIdRatioBased{0}');
      expect(lines()).toEqual([]);
    });

    it('is undefined when not set, even with an argument', () => {
      expect(readEnv({ OTEL_TRACES_SAMPLER_ARG: '0.5' }).sampler).toBeUndefined();
    });

    it('reports an unknown sampler once and uses parentbased_always_on', () => {
      const s = readEnv({ OTEL_TRACES_SAMPLER: 'xray' }).sampler as { shouldSample(p: SamplingParams): boolean };
      expect(s.shouldSample(root)).toBe(true);
      expect(s.shouldSample({ ...root, parent: { traceId: root.traceId, spanId: 'c'.repeat(16), traceFlags: 0, isRemote: true } })).toBe(false);
      expectWarnedOnce({ OTEL_TRACES_SAMPLER: 'xray' }, 'OTEL_TRACES_SAMPLER="xray"', /parentbased_always_on/);
    });

    it('reports an invalid ratio once and uses 1.0', () => {
      const env = { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: 'half' };
      const s = readEnv(env).sampler as { shouldSample(p: SamplingParams): boolean };
      expect(s.shouldSample(root)).toBe(true);
      expectWarnedOnce(env, 'OTEL_TRACES_SAMPLER_ARG="half"', /1\.0/);
    });

    it('reports a missing ratio once and uses 1.0', () => {
      expectWarnedOnce({ OTEL_TRACES_SAMPLER: 'traceidratio' }, 'OTEL_TRACES_SAMPLER_ARG', /1\.0/);
    });
  });

  describe('OTEL_TRACES_EXPORTER', () => {
    it.each([
      ['console', ['console']],
      ['otlp, console', ['otlp', 'console']],
      ['OTLP,otlp', ['otlp']],
      ['zipkin,otlp', ['zipkin', 'otlp']],
      ['none', []],
    ])('reads %p', (value, expected) => {
      expect(readEnv({ OTEL_TRACES_EXPORTER: value }).exporters).toEqual(expected);
      expect(lines()).toEqual([]);
    });

    it('reports unknown names once and ignores them', () => {
      expect(readEnv({ OTEL_TRACES_EXPORTER: 'jaeger,console' }).exporters).toEqual(['console']);
      expectWarnedOnce({ OTEL_TRACES_EXPORTER: 'jaeger,console' }, 'OTEL_TRACES_EXPORTER', '"jaeger"');
    });

    it('leaves exporters unset when every name is unknown', () => {
      expect(readEnv({ OTEL_TRACES_EXPORTER: 'jaeger' }).exporters).toBeUndefined();
    });

    it('turns exporting off when none is mixed with others, and says so', () => {
      expect(readEnv({ OTEL_TRACES_EXPORTER: 'otlp,none' }).exporters).toEqual([]);
      expect(lines()[0]).toMatch(/OTEL_TRACES_EXPORTER.*"none"/);
    });
  });

  describe('OTEL_EXPORTER_OTLP_*', () => {
    it('reads the endpoints', () => {
      const otlp = readEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://api.example.com/v1/traces',
      }).otlp;
      expect(otlp.endpoint).toBe('http://collector:4318');
      expect(otlp.tracesEndpoint).toBe('https://api.example.com/v1/traces');
    });

    it.each(['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'])(
      'reports an invalid %s once and ignores it',
      (name) => {
        const env = { [name]: 'collector:4318/x y' };
        expect(readEnv(env).otlp).toEqual({ headers: {}, protocol: 'http/protobuf' });
        expectWarnedOnce(env, `${name}=`);
      },
    );

    it('reads percent-decoded headers, the traces ones overriding', () => {
      expect(
        readEnv({
          OTEL_EXPORTER_OTLP_HEADERS: 'x-honeycomb-team=abc%3D%3D,x-dataset=a',
          OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-dataset=b',
        }).otlp.headers,
      ).toEqual({ 'x-honeycomb-team': 'abc==', 'x-dataset': 'b' });
    });

    it('reports an invalid header once without printing its value', () => {
      const env = { OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20ok,sk-secret-token' };
      expect(readEnv(env).otlp.headers).toEqual({ authorization: 'Bearer ok' });
      expectWarnedOnce(env, 'OTEL_EXPORTER_OTLP_HEADERS', /entry 2/);
      expect(lines()[0]).not.toContain('sk-secret-token');
    });

    it.each([
      ['http/json', 'http/json'],
      ['HTTP/PROTOBUF', 'http/protobuf'],
    ])('reads protocol %p', (value, expected) => {
      expect(readEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: value }).otlp.protocol).toBe(expected);
    });

    it.each(['grpc', 'http'])('reports protocol %p once and uses http/protobuf', (value) => {
      const env = { OTEL_EXPORTER_OTLP_PROTOCOL: value };
      expect(readEnv(env).otlp.protocol).toBe('http/protobuf');
      expectWarnedOnce(env, `OTEL_EXPORTER_OTLP_PROTOCOL="${value}"`, /http\/protobuf/);
    });

    it('reads compression and timeout, the traces ones overriding', () => {
      expect(readEnv({ OTEL_EXPORTER_OTLP_COMPRESSION: 'GZIP', OTEL_EXPORTER_OTLP_TIMEOUT: '2500' }).otlp).toMatchObject({
        compression: 'gzip',
        timeoutMillis: 2500,
      });
      expect(
        readEnv({
          OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
          OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'none',
          OTEL_EXPORTER_OTLP_TIMEOUT: '2500',
          OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '700',
        }).otlp,
      ).toMatchObject({ compression: 'none', timeoutMillis: 700 });
      expect(lines()).toEqual([]);
    });

    it.each([
      ['OTEL_EXPORTER_OTLP_COMPRESSION', 'brotli', 'using the default none'],
      ['OTEL_EXPORTER_OTLP_TIMEOUT', '10s', 'using the default 10000'],
      ['OTEL_EXPORTER_OTLP_TIMEOUT', '0', 'using the default 10000'],
    ])('reports %s=%p once and leaves it unset', (name, value, used) => {
      const otlp = readEnv({ [name]: value }).otlp;
      expect(otlp.compression).toBeUndefined();
      expect(otlp.timeoutMillis).toBeUndefined();
      expectWarnedOnce({ [name]: value }, `${name}="${value}"`, used);
    });

    it('names the general value as the fallback of a bad traces value', () => {
      expectWarnedOnce(
        { OTEL_EXPORTER_OTLP_TIMEOUT: '2500', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: 'soon' },
        'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT="soon"',
        'using OTEL_EXPORTER_OTLP_TIMEOUT=2500',
      );
    });

    it('lets the traces protocol override the general one', () => {
      expect(
        readEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' }).otlp
          .protocol,
      ).toBe('http/json');
    });
  });

  describe('OTEL_BSP_*', () => {
    it('reads the batch settings', () => {
      expect(
        readEnv({
          OTEL_BSP_SCHEDULE_DELAY: '100',
          OTEL_BSP_EXPORT_TIMEOUT: '0',
          OTEL_BSP_MAX_QUEUE_SIZE: '64',
          OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '8',
        }).batch,
      ).toEqual({ scheduledDelayMillis: 100, exportTimeoutMillis: 0, maxQueueSize: 64, maxExportBatchSize: 8 });
    });

    it('reports a non-integer once with the default used', () => {
      expectWarnedOnce({ OTEL_BSP_MAX_QUEUE_SIZE: 'abc' }, 'OTEL_BSP_MAX_QUEUE_SIZE="abc"', /using the default 2048/);
      expect(readEnv({ OTEL_BSP_MAX_QUEUE_SIZE: 'abc' }).batch.maxQueueSize).toBeUndefined();
    });

    it.each([
      ['OTEL_BSP_SCHEDULE_DELAY', '-1', 5000],
      ['OTEL_BSP_EXPORT_TIMEOUT', '1.5', 30000],
      ['OTEL_BSP_EXPORT_TIMEOUT', '99999999999', 30000],
      ['OTEL_BSP_MAX_QUEUE_SIZE', '0', 2048],
      ['OTEL_BSP_MAX_EXPORT_BATCH_SIZE', '1e3', 512],
    ])('reports %s=%p once and leaves it unset', (name, value, dflt) => {
      expect(Object.values(readEnv({ [name]: value }).batch)).toEqual([]);
      expectWarnedOnce({ [name]: value }, `${name}="${value}"`, `using the default ${dflt}`);
    });
  });

  describe('attribute and span limits', () => {
    it('reads every limit', () => {
      expect(
        readEnv({
          OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: '1000',
          OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: '64',
          OTEL_SPAN_EVENT_COUNT_LIMIT: '10',
          OTEL_SPAN_LINK_COUNT_LIMIT: '5',
          OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT: '4',
          OTEL_LINK_ATTRIBUTE_COUNT_LIMIT: '0',
        }).limits,
      ).toEqual({
        attributeValueLengthLimit: 1000,
        attributeCountLimit: 64,
        eventCountLimit: 10,
        linkCountLimit: 5,
        attributePerEventCountLimit: 4,
        attributePerLinkCountLimit: 0,
      });
    });

    it('uses the general attribute limits when no span-specific one is set', () => {
      expect(
        readEnv({ OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '256', OTEL_ATTRIBUTE_COUNT_LIMIT: '32' }).limits,
      ).toEqual({ attributeValueLengthLimit: 256, attributeCountLimit: 32 });
    });

    it('lets the span-specific limits override the general ones', () => {
      expect(
        readEnv({
          OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '256',
          OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: '512',
          OTEL_ATTRIBUTE_COUNT_LIMIT: '32',
          OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: '16',
        }).limits,
      ).toEqual({ attributeValueLengthLimit: 512, attributeCountLimit: 16 });
    });

    it('falls back to the general limit when the span-specific one is invalid, and says so', () => {
      const env = { OTEL_ATTRIBUTE_COUNT_LIMIT: '32', OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: 'x' };
      expect(readEnv(env).limits).toEqual({ attributeCountLimit: 32 });
      expectWarnedOnce(env, 'OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT="x"', 'using OTEL_ATTRIBUTE_COUNT_LIMIT=32');
    });

    it.each([
      ['OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', 'the default (no limit)'],
      ['OTEL_ATTRIBUTE_COUNT_LIMIT', 'the default 128'],
      ['OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT', 'the default (no limit)'],
      ['OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', 'the default 128'],
      ['OTEL_SPAN_EVENT_COUNT_LIMIT', 'the default 128'],
      ['OTEL_SPAN_LINK_COUNT_LIMIT', 'the default 128'],
      ['OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT', 'the default 128'],
      ['OTEL_LINK_ATTRIBUTE_COUNT_LIMIT', 'the default 128'],
    ])('reports an invalid %s once with %s', (name, fallback) => {
      expect(readEnv({ [name]: '-5' }).limits).toEqual({});
      expectWarnedOnce({ [name]: '-5' }, `${name}="-5"`, 'not a non-negative integer', `using ${fallback}`);
    });
  });

  describe('OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT', () => {
    it.each([
      ['true', true],
      ['false', false],
      ['True', true],
    ])('reads %p', (value, expected) => {
      expect(readEnv({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: value }).captureContent).toBe(expected);
    });

    it('reports a non-boolean once and leaves it unset', () => {
      const env = { OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: '1' };
      expect(readEnv(env).captureContent).toBeUndefined();
      expectWarnedOnce(env, 'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="1"', /default false/);
    });
  });
});

describe('readEnv OTEL_SEMCONV_STABILITY_OPT_IN', () => {
  it('reads gen_ai_latest_experimental and its /dup form, and ignores other categories', () => {
    expect(readEnv({}).genAiNames).toBeUndefined();
    expect(readEnv({ OTEL_SEMCONV_STABILITY_OPT_IN: 'gen_ai_latest_experimental' }).genAiNames).toBe('latest');
    expect(readEnv({ OTEL_SEMCONV_STABILITY_OPT_IN: 'http/dup, gen_ai_latest_experimental/dup' }).genAiNames).toBe('dup');
    expect(readEnv({ OTEL_SEMCONV_STABILITY_OPT_IN: 'gen_ai_latest_experimental/dup,gen_ai_latest_experimental' }).genAiNames).toBe('dup');
    expect(readEnv({ OTEL_SEMCONV_STABILITY_OPT_IN: 'http,database/dup' }).genAiNames).toBeUndefined();
    expect(lines()).toEqual([]);
  });

  it('warns once about a value it does not know, naming the variable', () => {
    expectWarnedOnce({ OTEL_SEMCONV_STABILITY_OPT_IN: 'gen_ai_latest' }, /OTEL_SEMCONV_STABILITY_OPT_IN/, /"gen_ai_latest"/, /gen_ai_latest_experimental\/dup/);
  });
});
