/**
 * registerOpenTelemetry() against what else may be in @opentelemetry/api's global registry: an
 * OpenTelemetry SDK registered first, a second copy of the API in another version, itself.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { getTracer, setGlobalTracer, withSpan } from '@tracewire/core';
import type { Tracer } from '@tracewire/core';
import { registerOpenTelemetry } from '../src';
import { canRead } from '../src/register';
import { captureStderr, memoryTracer } from '../../core/test/helpers';

const stderr = captureStderr();
const REGISTRY = Symbol.for('opentelemetry.js.api.1');
const previous = getTracer();
let tracer: Tracer;
let exporter: ReturnType<typeof memoryTracer>['exporter'];

beforeEach(() => {
  ({ tracer, exporter } = memoryTracer());
  setGlobalTracer(tracer);
});
afterEach(async () => {
  trace.disable();
  context.disable();
  propagation.disable();
  delete (globalThis as Record<symbol, unknown>)[REGISTRY];
  setGlobalTracer(previous);
  await tracer.shutdown();
});

const warnings = () => stderr.lines().join('');

describe('registerOpenTelemetry', () => {
  it('with an OpenTelemetry SDK registered first: warns once naming it, registers nothing, the SDK keeps its spans', async () => {
    const sdkSpans = new InMemorySpanExporter();
    const sdk = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(sdkSpans)] });
    trace.setGlobalTracerProvider(sdk);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());

    const unregister = registerOpenTelemetry();
    registerOpenTelemetry();
    expect(warnings()).toContain('already has the tracer provider BasicTracerProvider, the propagator W3CTraceContextPropagator');
    expect(warnings()).toContain('{ override: true }');
    expect(warnings().match(/already has/g)).toHaveLength(1);

    trace.getTracer('lib').startSpan('to the sdk').end();
    unregister();
    expect(sdkSpans.getFinishedSpans().map((s) => s.name)).toEqual(['to the sdk']);
    await tracer.forceFlush();
    expect(exporter.spans()).toHaveLength(0);
    await sdk.shutdown();
  });

  it('with { override: true }: replaces them, and the function returned puts them back', async () => {
    const sdkSpans = new InMemorySpanExporter();
    const sdk = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(sdkSpans)] });
    const sdkPropagator = new W3CTraceContextPropagator();
    trace.setGlobalTracerProvider(sdk);
    propagation.setGlobalPropagator(sdkPropagator);

    const unregister = registerOpenTelemetry({ override: true });
    expect(warnings()).toBe('');
    withSpan('tracewire', () => trace.getTracer('lib').startSpan('to tracewire').end());
    const [t] = await exporter.waitFor(1);
    expect(t.spans.map((s) => s.name).sort()).toEqual(['to tracewire', 'tracewire']);

    unregister();
    trace.getTracer('lib').startSpan('back to the sdk').end();
    expect(sdkSpans.getFinishedSpans().map((s) => s.name)).toEqual(['back to the sdk']);
    expect(propagation.fields()).toEqual(sdkPropagator.fields());
    await sdk.shutdown();
  });

  it('called twice: the second call warns and changes nothing; unregistering twice is harmless', () => {
    const unregister = registerOpenTelemetry();
    const second = registerOpenTelemetry();
    expect(warnings()).toContain('already registered');
    second();
    expect(trace.getTracer('lib').startSpan('still bridged').isRecording()).toBe(true);
    unregister();
    unregister();
    expect(trace.getTracer('lib').startSpan('no-op').isRecording()).toBe(false);
  });

  it('a registry made by another version of the API: warns naming both versions, registers nothing', () => {
    // Another copy (1.9.0) registers something first, as a library bundling its own API would.
    const other = require('@opentelemetry/api-1.9.0') as typeof import('@opentelemetry/api');
    other.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const unregister = registerOpenTelemetry();
    expect(warnings()).toContain('created by version 1.9.0, but @tracewire/opentelemetry resolves @opentelemetry/api 1.9.1');
    expect(trace.getTracer('lib').startSpan('x').isRecording()).toBe(false);
    unregister();
  });

  it('a second, newer copy of the API loaded: warns naming it, and that copy indeed sees nothing', () => {
    const newer = require('@opentelemetry/api-1.10.0') as typeof import('@opentelemetry/api');
    const unregister = registerOpenTelemetry();
    expect(warnings()).toMatch(/a second @opentelemetry\/api, version 1\.10\.0 at \S*@opentelemetry\+api@1\.10\.0\/node_modules\/@opentelemetry\/api, is loaded; it cannot see a registration made through 1\.9\.1/);
    // What the warning is about: a library on the newer copy gets the API's no-op tracer.
    expect(newer.trace.getTracer('lib-on-1.10').startSpan('lost').isRecording()).toBe(false);
    // The copy registered through sees the bridge.
    expect(trace.getTracer('lib').startSpan('kept').isRecording()).toBe(true);
    unregister();
  });

  it('an older copy of the same major reads the registration (1.9.0 under 1.9.1)', () => {
    const older = require('@opentelemetry/api-1.9.0') as typeof import('@opentelemetry/api');
    const unregister = registerOpenTelemetry();
    expect(warnings()).not.toContain('version 1.9.0');
    withSpan('tw', (span) => expect(older.trace.getActiveSpan()?.spanContext().spanId).toBe(span.spanContext().spanId));
    expect(older.trace.getTracer('lib-on-1.9.0').startSpan('seen').isRecording()).toBe(true);
    unregister();
  });

  it('bad options throw a TypeError naming the option', () => {
    expect(() => registerOpenTelemetry({ tracr: tracer } as never)).toThrow(new TypeError('tracewire: unknown option "tracr" of registerOpenTelemetry (known: tracer, override)'));
    expect(() => registerOpenTelemetry({ tracer: {} as never })).toThrow(/option "tracer" of registerOpenTelemetry must be a Tracewire Tracer/);
    expect(() => registerOpenTelemetry({ override: 'yes' as never })).toThrow(/option "override" of registerOpenTelemetry must be a boolean, got string/);
    expect(() => registerOpenTelemetry(null as never)).toThrow(/must be an object, got null/);
  });
});

describe('canRead (the API\'s own compatibility rule)', () => {
  it.each([
    ['1.9.1', '1.9.1', true],
    ['1.9.0', '1.9.1', true],
    ['1.9.1', '1.9.0', true],
    ['1.4.0', '1.9.1', true],
    ['1.10.0', '1.9.1', false],
    ['2.0.0', '1.9.1', false],
    ['1.9.1', '1.10.0-rc.1', false],
  ])('a copy at %s reading a registry of %s: %s', (reader, registered, expected) => {
    expect(canRead(reader, registered)).toBe(expected);
  });
});
