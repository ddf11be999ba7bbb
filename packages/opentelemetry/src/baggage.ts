/**
 * W3C baggage both ways: Tracewire's (a read-only Map of `{ value, properties }`) and
 * OpenTelemetry's (`propagation.createBaggage`, with entry metadata as the `;`-joined property
 * string). Both are immutable, so each conversion is made once per object and remembered.
 */
import { baggageEntryMetadataFromString, propagation } from '@opentelemetry/api';
import type * as otel from '@opentelemetry/api';
import type { Baggage, BaggageEntry, BaggageProperty } from '@tracewire/core';

const toOtel = new WeakMap<Baggage, otel.Baggage>();
const toTracewire = new WeakMap<otel.Baggage, Baggage>();

function propertiesString(properties: BaggageProperty[]): string {
  let out = '';
  for (let i = 0; i < properties.length; i++) {
    const p = properties[i];
    if (i > 0) out += ';';
    out += p.value === undefined ? p.key : `${p.key}=${p.value}`;
  }
  return out;
}

function parseProperties(metadata: string): BaggageProperty[] | undefined {
  const out: BaggageProperty[] = [];
  for (const part of metadata.split(';')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq < 0) out.push({ key: item });
    else out.push({ key: item.slice(0, eq).trim(), value: item.slice(eq + 1).trim() });
  }
  return out.length > 0 ? out : undefined;
}

/** Tracewire baggage as OpenTelemetry's (the same object for the same input). */
export function otelBaggageOf(baggage: Baggage): otel.Baggage {
  let out = toOtel.get(baggage);
  if (out === undefined) {
    const entries: Record<string, otel.BaggageEntry> = {};
    for (const [key, entry] of baggage) {
      entries[key] =
        entry.properties !== undefined && entry.properties.length > 0
          ? { value: entry.value, metadata: baggageEntryMetadataFromString(propertiesString(entry.properties)) }
          : { value: entry.value };
    }
    out = propagation.createBaggage(entries);
    toOtel.set(baggage, out);
    toTracewire.set(out, baggage);
  }
  return out;
}

/** OpenTelemetry baggage as Tracewire's (the same object for the same input; undefined when empty). */
export function tracewireBaggageOf(baggage: otel.Baggage): Baggage | undefined {
  let out = toTracewire.get(baggage);
  if (out === undefined) {
    const map = new Map<string, BaggageEntry>();
    for (const [key, entry] of baggage.getAllEntries()) {
      if (entry === null || typeof entry !== 'object' || typeof entry.value !== 'string') continue;
      const metadata = entry.metadata !== undefined && entry.metadata !== null ? String(entry.metadata.toString()) : '';
      const properties = metadata !== '' ? parseProperties(metadata) : undefined;
      map.set(key, properties === undefined ? { value: entry.value } : { value: entry.value, properties });
    }
    out = map;
    toTracewire.set(baggage, out);
    toOtel.set(out, baggage);
  }
  return out.size > 0 ? out : undefined;
}
