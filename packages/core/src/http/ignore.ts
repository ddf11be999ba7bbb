/**
 * `ignore` option: exact paths, globs (`*` within a segment, `**` across segments), RegExps, or a
 * predicate. Compiled once into one matcher at setup.
 */
export type IgnoreOption<Req> = Array<string | RegExp> | ((req: Req, path: string) => boolean);

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Returns undefined when nothing is ignored (the request path then does no matching at all). */
export function compileIgnore<Req>(option: IgnoreOption<Req> | undefined, optionName = 'ignore'): ((req: Req, path: string) => boolean) | undefined {
  if (option === undefined) return undefined;
  if (typeof option === 'function') return option;
  if (!Array.isArray(option)) throw new TypeError(`tracewire: option "${optionName}" must be an array of paths, globs or RegExps, or a function`);
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  option.forEach((p, i) => {
    if (typeof p === 'string') {
      if (p.includes('*') || p.includes('?')) patterns.push(globToRegExp(p));
      else exact.add(p);
    } else if (p instanceof RegExp) patterns.push(p);
    else throw new TypeError(`tracewire: option "${optionName}[${i}]" must be a string or RegExp, got ${typeof p}`);
  });
  if (patterns.length === 0) return (_req, path) => exact.has(path);
  return (_req, path) => {
    if (exact.has(path)) return true;
    for (const re of patterns) if (re.test(path)) return true;
    return false;
  };
}
