import { isDeepStrictEqual } from 'node:util';

type Keyed = Record<string, unknown>;
type State = Record<string, unknown>;

/**
 * Where two snapshots of the platform's state part, item by item. A failed `toEqual` on thousands of
 * trades cannot print the difference (the diff is cut long before it), so a crash test that finds
 * one would only say "no visual difference"; this names the collection, the key and both sides.
 */
export function stateDifferences(actual: State, expected: State, keyOf: (collection: string, item: Keyed) => string, limit = 5): string[] {
  const found: string[] = [];
  for (const name of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
    const a = actual[name];
    const e = expected[name];
    if (!Array.isArray(a) || !Array.isArray(e)) {
      if (!isDeepStrictEqual(a, e)) found.push(`${name}: ${JSON.stringify(a)} where ${JSON.stringify(e)} was expected`);
      continue;
    }
    const index = (items: unknown[]) => new Map(items.map((item) => [keyOf(name, item as Keyed), item]));
    const got = index(a);
    const want = index(e);
    if (got.size !== a.length) found.push(`${name}: ${a.length - got.size} items share a key with another`);
    for (const [key, item] of want) {
      if (!got.has(key)) found.push(`${name} ${key}: missing; expected ${JSON.stringify(item)}`);
      else if (!isDeepStrictEqual(got.get(key), item)) found.push(`${name} ${key}: ${JSON.stringify(got.get(key))} where ${JSON.stringify(item)} was expected`);
    }
    for (const [key, item] of got) if (!want.has(key)) found.push(`${name} ${key}: not expected, found ${JSON.stringify(item)}`);
  }
  return found.slice(0, limit);
}
