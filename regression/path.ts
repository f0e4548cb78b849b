// Paths into a JSON output, and the small pattern language reconcilers use to
// name them.
//
// A path is a list of segments: a property name, an array index, or a keyed
// array element (an element matched by a key such as an allocation id; its
// label, e.g. an event type, survives into signatures).
//
// Patterns: segments separated by dots, array elements in brackets.
//   docs.trades.price            one property
//   docs.*.asOf                  `*` any one property
//   events[].data.inputId        `[]` (or `[*]`) any array element
//   events[TradeBooked].data     elements labelled (keyed arrays) or typed (`type` property) TradeBooked
//   **.inputId                   `**` any number of segments
import { isJsonObject, type Json, type JsonObject } from './json.js';

export interface KeyedSegment {
  readonly key: string;
  readonly label: string;
}
export type Segment = string | number | KeyedSegment;
export type Path = readonly Segment[];

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ID_LIKE = [/^\d+$/, UUID, /^[0-9a-f]{16,}$/i];

/** The path as people read it: `events[TradeBooked:v1].data.allocations[0].quantity`, `$` for the whole output. */
export function formatPath(path: Path): string {
  if (path.length === 0) return '$';
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string') out += IDENTIFIER.test(segment) ? (out === '' ? segment : `.${segment}`) : `[${JSON.stringify(segment)}]`;
    else out += `[${segment.key}]`;
  }
  return out;
}

/**
 * The path with ids and indices stripped, for signatures: indices become `[]`,
 * keyed elements keep only their label (`[TradeBooked]`), and property names
 * that are ids (numbers, UUIDs, long hex strings) become `*`.
 */
export function stripPath(path: Path): string {
  if (path.length === 0) return '$';
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += '[]';
    else if (typeof segment === 'string') {
      const name = ID_LIKE.some((re) => re.test(segment)) ? '*' : segment;
      out += IDENTIFIER.test(name) || name === '*' ? (out === '' ? name : `.${name}`) : `[${JSON.stringify(name)}]`;
    } else out += `[${segment.label}]`;
  }
  return out;
}

export type PatternToken =
  | { t: 'prop'; name: string }
  | { t: 'anyProp' }
  | { t: 'anyElem' }
  | { t: 'label'; label: string }
  | { t: 'deep' };

export interface Pattern {
  readonly source: string;
  readonly tokens: readonly PatternToken[];
}

const compiled = new Map<string, Pattern>();

export function compilePattern(source: string): Pattern {
  const cached = compiled.get(source);
  if (cached) return cached;
  const tokens: PatternToken[] = [];
  let i = 0;
  const name = (text: string) => {
    if (text === '') throw new Error(`path pattern ${JSON.stringify(source)}: empty property name`);
    tokens.push(text === '**' ? { t: 'deep' } : text === '*' ? { t: 'anyProp' } : { t: 'prop', name: text });
  };
  while (i < source.length) {
    const ch = source[i]!;
    if (ch === '.') {
      i++;
      continue;
    }
    if (ch === '[') {
      const end = source.indexOf(']', i);
      if (end < 0) throw new Error(`path pattern ${JSON.stringify(source)}: unclosed [`);
      const inner = source.slice(i + 1, end);
      if (inner === '' || inner === '*') tokens.push({ t: 'anyElem' });
      else if (/^".*"$/.test(inner)) tokens.push({ t: 'prop', name: JSON.parse(inner) as string });
      else tokens.push({ t: 'label', label: inner });
      i = end + 1;
      continue;
    }
    let end = i;
    while (end < source.length && source[end] !== '.' && source[end] !== '[') end++;
    name(source.slice(i, end));
    i = end;
  }
  if (tokens.length === 0) throw new Error(`path pattern ${JSON.stringify(source)} names nothing`);
  const pattern = { source, tokens };
  compiled.set(source, pattern);
  return pattern;
}

/** Whether a concrete path matches a pattern (the whole path, not a prefix). */
export function matchesPath(pattern: Pattern, path: Path): boolean {
  return matchFrom(pattern.tokens, 0, path, 0);
}

function matchFrom(tokens: readonly PatternToken[], ti: number, path: Path, pi: number): boolean {
  if (ti === tokens.length) return pi === path.length;
  const token = tokens[ti]!;
  if (token.t === 'deep') {
    for (let k = pi; k <= path.length; k++) if (matchFrom(tokens, ti + 1, path, k)) return true;
    return false;
  }
  if (pi === path.length) return false;
  const segment = path[pi]!;
  switch (token.t) {
    case 'prop':
      if (segment !== token.name) return false;
      break;
    case 'anyProp':
      if (typeof segment !== 'string') return false;
      break;
    case 'anyElem':
      if (typeof segment === 'string') return false;
      break;
    case 'label':
      if (typeof segment !== 'object' || segment.label !== token.label) return false;
      break;
  }
  return matchFrom(tokens, ti + 1, path, pi + 1);
}

export type Container = JsonObject | Json[];

/**
 * Calls `visit(container, key)` for every place in `root` the pattern names
 * that exists. A `[Label]` token picks array elements whose `type` is Label.
 * Visits run after the walk, deepest and last first, so a visitor may delete.
 */
export function forEachMatch(root: Json, pattern: Pattern, visit: (container: Container, key: string | number) => void): void {
  const found: Array<[Container, string | number]> = [];
  // Only `**` can reach one place along several routes; only then is the bookkeeping needed.
  const seen = pattern.tokens.some((t) => t.t === 'deep') ? new Set<string>() : null;
  walk(root, pattern.tokens, 0, found, seen, []);
  for (let i = found.length - 1; i >= 0; i--) visit(found[i]![0], found[i]![1]);
}

function walk(
  node: Json,
  tokens: readonly PatternToken[],
  ti: number,
  found: Array<[Container, string | number]>,
  seen: Set<string> | null,
  trail: Array<string | number>,
): void {
  const token = tokens[ti];
  if (token === undefined) return;
  const last = ti === tokens.length - 1;
  const hit = (container: Container, key: string | number, child: Json) => {
    if (last) {
      if (seen === null) found.push([container, key]);
      else {
        const id = JSON.stringify([...trail, key]);
        if (!seen.has(id)) {
          seen.add(id);
          found.push([container, key]);
        }
      }
    } else {
      trail.push(key);
      walk(child, tokens, ti + 1, found, seen, trail);
      trail.pop();
    }
  };
  if (token.t === 'deep') {
    walk(node, tokens, ti + 1, found, seen, trail);
    if (Array.isArray(node))
      node.forEach((child, i) => {
        trail.push(i);
        walk(child, tokens, ti, found, seen, trail);
        trail.pop();
      });
    else if (isJsonObject(node))
      for (const key of Object.keys(node)) {
        trail.push(key);
        walk(node[key]!, tokens, ti, found, seen, trail);
        trail.pop();
      }
    return;
  }
  if (Array.isArray(node)) {
    if (token.t === 'anyElem') node.forEach((child, i) => hit(node, i, child));
    else if (token.t === 'label') node.forEach((child, i) => isJsonObject(child) && child.type === token.label && hit(node, i, child));
    return;
  }
  if (!isJsonObject(node)) return;
  if (token.t === 'prop') {
    if (Object.prototype.hasOwnProperty.call(node, token.name)) hit(node, token.name, node[token.name]!);
  } else if (token.t === 'anyProp') for (const key of Object.keys(node)) hit(node, key, node[key]!);
}

/** Reads a dotted property path (`data.allocationId`) inside an element. */
export function getProperty(value: Json, dotted: string): Json | undefined {
  let node: Json | undefined = value;
  for (const part of dotted.split('.')) {
    if (!isJsonObject(node)) return undefined;
    node = node[part];
  }
  return node;
}
