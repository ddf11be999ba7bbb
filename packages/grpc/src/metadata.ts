/**
 * grpc-js `Metadata` as a propagation carrier (core's getter/setter contract) and as the source of
 * the `rpc.request.metadata.*` / `rpc.response.metadata.*` attributes.
 */
import type { Metadata } from '@grpc/grpc-js';
import type { Attributes, CarrierGetter, CarrierSetter } from '@tracewire/core';

function strings(values: unknown[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < values.length; i++) if (typeof values[i] === 'string') out.push(values[i] as string);
  return out;
}

/**
 * Reads one key: a single value as a string, several as string[] (the propagation parsers check
 * each), binary values skipped. grpc-js keys are lowercase, as are the ones propagation asks for.
 */
export const metadataGetter: CarrierGetter<Metadata> = {
  get(md, key) {
    const values = md.get(key);
    if (values.length === 0) return undefined;
    if (values.length === 1) return typeof values[0] === 'string' ? values[0] : undefined;
    const s = strings(values);
    return s.length === 0 ? undefined : s;
  },
};

/** Writes one key, replacing what was there (a repeated traceparent would be invalid). */
export const metadataSetter: CarrierSetter<Metadata> = {
  set(md, key, value) {
    md.set(key, value);
  },
};

/** Whether `md` has `key` (a propagation format the caller set itself is left alone). */
export function metadataHas(md: Metadata, key: string): boolean {
  return md.get(key).length > 0;
}

/** Adds the listed keys' string values under `prefix` (`rpc.request.metadata.`); returns how many. */
export function captureMetadata(md: Metadata | null | undefined, keys: readonly string[], prefix: string, into: Attributes): number {
  if (!md || keys.length === 0) return 0;
  let n = 0;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (into[prefix + key] !== undefined) continue;
    const values = strings(md.get(key));
    if (values.length > 0) {
      into[prefix + key] = values;
      n++;
    }
  }
  return n;
}
