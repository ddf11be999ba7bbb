/**
 * Replays every recorded LLM stream, in every re-chunking, through a real server and checks that
 * the client received the bytes unchanged and that the server span reconstructs the stream.
 */
import type { InMemoryExporter } from '@tracewire/core';
import { chunkings, expectReconstruction, loadFixtures } from './fixtures';
import type { Fixture } from './fixtures';
import { request } from './http';
import { rootSpan } from './assertions';

/** What the route being tested relays next: set before each request. */
export interface ReplayJob {
  fixture: Fixture;
  chunks: Buffer[];
}
export const current: { job?: ReplayJob } = {};

/** Sends the chunks one per event-loop turn, so they leave as separate writes. */
export async function* paced(chunks: Buffer[]): AsyncGenerator<Buffer> {
  for (const c of chunks) {
    yield c;
    await new Promise((r) => setImmediate(r));
  }
}

/**
 * For each fixture and chunking: sets `current.job`, GETs `url`, and asserts byte-identical
 * output and the reconstruction. Resets the exporter between requests.
 */
export async function replayEveryFixture(url: string, exporter: InMemoryExporter, opts: { headers?: Record<string, string>; decode?: (raw: Buffer) => Buffer } = {}): Promise<number> {
  let n = 0;
  for (const fixture of loadFixtures()) {
    for (const [mode, chunks] of chunkings(fixture.bytes)) {
      exporter.reset();
      current.job = { fixture, chunks };
      const res = await request(url, { headers: opts.headers });
      // Compression middleware leaves some types alone (NDJSON is not compressible to `compression`).
      const body = opts.decode && res.headers['content-encoding'] !== undefined ? opts.decode(res.raw) : res.raw;
      if (!body.equals(fixture.bytes)) throw new Error(`${fixture.name} / ${mode}: the client did not receive the bytes unchanged`);
      const [trace] = await exporter.waitFor(1);
      const span = rootSpan(trace);
      try {
        expectReconstruction(span, fixture);
        expect(span.attributes['tracewire.stream.format']).toBe(fixture.wire.format);
        expect(span.attributes['tracewire.stream.bytes']).toBe(fixture.bytes.length);
        expect(span.attributes['tracewire.stream.chunks']).toBe(fixture.wire.events);
      } catch (err) {
        (err as Error).message = `${fixture.name} / ${mode}: ${(err as Error).message}`;
        throw err;
      }
      n++;
    }
  }
  return n;
}

/** A running app that relays `current.job`, and the exporter its tracer exports to. */
export interface Relay {
  url: string;
  exporter: InMemoryExporter;
  close(): Promise<void>;
}

/** Runs `fn` against the relay once it is up, closing the relay afterwards, pass or fail. */
export async function withRelay(starting: Promise<Relay>, fn: (relay: Relay) => Promise<void>): Promise<void> {
  const relay = await starting;
  try {
    await fn(relay);
  } finally {
    await relay.close();
  }
}

/** `replayEveryFixture`, checking that it replayed each fixture in all six re-chunkings. */
export async function expectEveryFixtureReplayed(url: string, exporter: InMemoryExporter, opts: Parameters<typeof replayEveryFixture>[2] = {}): Promise<void> {
  const n = await replayEveryFixture(url, exporter, opts);
  // whole, 1-byte pieces, three random seeds, inside every multi-byte character
  expect(n).toBe(loadFixtures().length * 6);
}
