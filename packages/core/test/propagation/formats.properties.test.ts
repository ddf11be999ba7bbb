import fc from 'fast-check';
import { compilePropagation, defaultGetter, defaultSetter, formatBaggage, parseBaggage } from '../../src/propagation';
import type { BaggageEntry, PropagatorName } from '../../src/propagation';
import { SAMPLING_DEFERRED } from '../../src/propagation/remote';

// inject∘extract is the identity for every format: a context written and read back is the same
// context, and a header in the format's canonical form read and written back is the same header.

const RUNS = { numRuns: 400 };
const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'.split('')), minLength: n, maxLength: n }).filter((s) => /[^0]/.test(s));

const KEY_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789_-*/@';
const tracestate = fc
  .uniqueArray(
    fc.tuple(
      fc.tuple(fc.constantFrom(...'abc123'.split('')), fc.string({ unit: fc.constantFrom(...KEY_CHARS.split('')), maxLength: 8 })).map(([a, b]) => a + b),
      fc.string({ unit: fc.constantFrom(...'abcXYZ019!#~:/'.split('')), minLength: 1, maxLength: 10 }),
    ),
    { maxLength: 8, selector: ([k]) => k },
  )
  .map((e) => (e.length === 0 ? undefined : e.map(([k, v]) => `${k}=${v}`).join(',')));

/** What each format can carry: W3C the whole flags byte and tracestate, the others the sampled bit. */
const contexts = {
  tracecontext: fc.record({ traceId: hex(32), spanId: hex(16), traceFlags: fc.integer({ min: 0, max: 255 }), traceState: tracestate }),
  b3: fc.record({ traceId: hex(32), spanId: hex(16), traceFlags: fc.constantFrom(0, 1), deferred: fc.boolean() }),
  b3multi: fc.record({ traceId: hex(32), spanId: hex(16), traceFlags: fc.constantFrom(0, 1), deferred: fc.boolean() }),
  xtrace: fc.record({ traceId: hex(32), spanId: hex(16) }),
};

function roundTrip(name: PropagatorName, ctx: Record<string, unknown>) {
  const p = compilePropagation([{ name, extract: true, inject: true }]);
  const input: Record<string | symbol, unknown> = { ...ctx, isRemote: true };
  if (input.traceState === undefined) delete input.traceState;
  if (name === 'xtrace') input.traceFlags = 0;
  if (input.deferred === true) {
    input.traceFlags = 0;
    input[SAMPLING_DEFERRED] = true;
  }
  delete input.deferred;
  if (name === 'xtrace') input[SAMPLING_DEFERRED] = true;
  const headers: Record<string, string> = {};
  p.inject(headers, input as never, undefined, defaultSetter);
  return { input, headers, output: p.extract(headers, defaultGetter), p };
}

describe.each(Object.keys(contexts) as Array<keyof typeof contexts>)('%s: inject∘extract', (name) => {
  it('reads back the context it wrote', () => {
    fc.assert(
      fc.property(contexts[name] as fc.Arbitrary<Record<string, unknown>>, (ctx) => {
        const { input, output } = roundTrip(name, ctx);
        expect(output).toEqual(input);
        expect(output && (output as unknown as Record<symbol, unknown>)[SAMPLING_DEFERRED]).toBe(input[SAMPLING_DEFERRED]);
      }),
      RUNS,
    );
  });

  it('writes back the canonical headers it read', () => {
    fc.assert(
      fc.property(contexts[name] as fc.Arbitrary<Record<string, unknown>>, (ctx) => {
        const { headers, output, p } = roundTrip(name, ctx);
        const again: Record<string, string> = {};
        p.inject(again, output!, undefined, defaultSetter);
        expect(again).toEqual(headers);
      }),
      RUNS,
    );
  });
});

// token characters, and values over all of Unicode (well-formed), with properties.
const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".split('');
const token = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 12 });
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const value = fc
  .oneof(fc.string({ unit: 'binary', maxLength: 16 }), fc.string({ unit: fc.constantFrom(' ', ',', ';', '%', '=', '"', '\\', 'é', '\u{1F642}', 'a', '~'), maxLength: 16 }))
  .filter((s) => !LONE_SURROGATE.test(s));
const entry: fc.Arbitrary<BaggageEntry> = fc.record(
  { value, properties: fc.array(fc.record({ key: token, value: fc.option(value, { nil: undefined }) }, { requiredKeys: ['key'] }), { minLength: 1, maxLength: 3 }) },
  { requiredKeys: ['value'] },
);
const baggage = fc.uniqueArray(fc.tuple(token, entry), { minLength: 1, maxLength: 12, selector: ([k]) => k }).map((e) => new Map(e));

function clean(b: Map<string, BaggageEntry>): Map<string, BaggageEntry> {
  // An optional property value generated as undefined is the same property as one without a value.
  return new Map(
    [...b].map(([k, e]) => [k, e.properties === undefined ? { value: e.value } : { value: e.value, properties: e.properties.map((p) => (p.value === undefined ? { key: p.key } : p)) }]),
  );
}

describe('baggage: inject∘extract', () => {
  const p = compilePropagation(['baggage']);

  it('reads back the baggage it wrote', () => {
    fc.assert(
      fc.property(baggage, (b) => {
        const headers: Record<string, string> = {};
        p.inject(headers, undefined, b, defaultSetter);
        expect(p.extractBaggage(headers, defaultGetter)).toEqual(clean(b));
      }),
      RUNS,
    );
  });

  it('writes back the header it read', () => {
    fc.assert(
      fc.property(baggage, (b) => {
        const header = formatBaggage(b);
        expect(formatBaggage(parseBaggage(header)!)).toBe(header);
      }),
      RUNS,
    );
  });

  it('never throws and never lets a CR or LF through, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => {
        const parsed = parseBaggage(s);
        if (parsed !== undefined) expect(formatBaggage(parsed)).not.toMatch(/[\r\n]/);
      }),
      RUNS,
    );
  });
});
