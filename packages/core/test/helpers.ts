import { createTracer, InMemoryExporter } from '../src';
import type { Tracer, TracerOptions } from '../src';

/** A tracer exporting into memory immediately (tiny batch delay) for tests. */
export function memoryTracer(options: TracerOptions = {}): { tracer: Tracer; exporter: InMemoryExporter } {
  const exporter = new InMemoryExporter();
  const tracer = createTracer({
    serviceName: 'test-service',
    exporters: [exporter],
    batch: { scheduledDelayMillis: 1 },
    ...options,
  });
  return { tracer, exporter };
}
