/** Errors for bad configuration: a `TypeError` naming the option, thrown at setup only. */

/** A short, log-safe rendering of a bad value for an error message. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 60 ? value.slice(0, 60) + '…' : value);
    case 'number':
    case 'boolean':
    case 'undefined':
    case 'bigint':
      return String(value);
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    default:
      if (value instanceof RegExp) return String(value);
      return 'an object';
  }
}

/** `TypeError: tracewire: option "limits.lingerMs" must be a non-negative finite number, got -1` */
export function optionError(path: string, expected: string, got: unknown): TypeError {
  return new TypeError(`tracewire: option "${path}" must be ${expected}, got ${describeValue(got)}`);
}

/** A plain object: `{}` or `Object.create(null)`, not an array, class instance, Map... */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Throw for keys of `obj` not in `known` (typos such as `limits.lingerMS`). */
export function rejectUnknownKeys(obj: object, known: ReadonlySet<string>, prefix: string): void {
  for (const key of Object.keys(obj)) {
    if (!known.has(key)) {
      const list = [...known].join(', ');
      throw new TypeError(`tracewire: unknown option "${prefix}${key}" (known: ${list})`);
    }
  }
}
