/**
 * @module Memoising a parser of one setting's text: settings are read per request, and the same
 * few texts come back every time, so each is parsed once. A handful of texts at most (a new
 * deployment's, a test's): past 16 the memo starts over.
 */
const MAX_REMEMBERED = 16;

export function memoByText<T>(parse: (raw: string) => T): (raw: string) => T {
  const cache = new Map<string, T>();
  return (raw) => {
    const cached = cache.get(raw);
    if (cached !== undefined) return cached;
    const parsed = parse(raw);
    if (cache.size > MAX_REMEMBERED) cache.clear();
    cache.set(raw, parsed);
    return parsed;
  };
}
