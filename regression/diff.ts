// Structural diff of two normalised outputs: pure, deterministic, bounded.
import { isJsonObject, type Json } from './json.js';
import { formatPath, matchesPath, stripPath, type Pattern, type Segment } from './path.js';

/** MISSING_IN_UAT: PROD has a value where UAT has none (and the reverse). */
export type DifferenceKind = 'CHANGED' | 'MISSING_IN_PROD' | 'MISSING_IN_UAT';

export interface Difference {
  /** Where, with ids and indices: `docs.trades.allocations[A1].quantity`. */
  path: string;
  /** The same path with ids and indices stripped: `docs.trades.allocations[].quantity`. */
  pathPattern: string;
  kind: DifferenceKind;
  /** The rule that decided: `exact`, `presence`, or a reconciler's rule such as `decimal±0.01`. */
  rule: string;
  /** Absent when the value is missing on that side. */
  prod?: Json;
  uat?: Json;
  /** Where the value sits in each normalised side, by index (`events[3].data`): for highlighting. */
  prodAt?: string;
  uatAt?: string;
}

/** How two values at a path are compared. Rules are consulted in order; the first that answers decides. */
export interface CompareRule {
  readonly name: string;
  /** Where the rule applies; empty means everywhere. */
  readonly paths: readonly Pattern[];
  /** true: equal; false: different; undefined: this rule has no opinion on these values. */
  equal(prod: Json, uat: Json): boolean | undefined;
}

/** Elements of the arrays at `pattern` are matched by key rather than by index. */
export interface ArrayKey {
  readonly pattern: Pattern;
  key(element: Json, index: number): string;
  /** What survives into signatures (an event type, say); '' by default. */
  label(element: Json): string;
}

export interface DiffOptions {
  rules?: readonly CompareRule[];
  arrayKeys?: readonly ArrayKey[];
  /** Stop after this many differences (a pair that differs everywhere says so soon enough). */
  maxDifferences?: number;
}

export const EXACT = 'exact';
export const PRESENCE = 'presence';

export function diff(prod: Json | undefined, uat: Json | undefined, options: DiffOptions = {}): Difference[] {
  const ctx: Ctx = {
    rules: options.rules ?? [],
    arrayKeys: options.arrayKeys ?? [],
    max: options.maxDifferences ?? 200,
    out: [],
    path: [],
    aPath: [],
    bPath: [],
  };
  compare(ctx, prod, uat);
  return ctx.out;
}

interface Ctx {
  rules: readonly CompareRule[];
  arrayKeys: readonly ArrayKey[];
  max: number;
  out: Difference[];
  path: Segment[];
  /** The same place as indices into each side. */
  aPath: Segment[];
  bPath: Segment[];
}

function emit(ctx: Ctx, kind: DifferenceKind, rule: string, prod: Json | undefined, uat: Json | undefined): void {
  if (ctx.out.length >= ctx.max) return;
  const d: Difference = { path: formatPath(ctx.path), pathPattern: stripPath(ctx.path), kind, rule };
  if (prod !== undefined) {
    d.prod = prod;
    d.prodAt = formatPath(ctx.aPath);
  }
  if (uat !== undefined) {
    d.uat = uat;
    d.uatAt = formatPath(ctx.bPath);
  }
  ctx.out.push(d);
}

function compare(ctx: Ctx, a: Json | undefined, b: Json | undefined): void {
  if (ctx.out.length >= ctx.max) return;
  if (a === undefined && b === undefined) return;
  if (b === undefined) return emit(ctx, 'MISSING_IN_UAT', EXACT, a, undefined);
  if (a === undefined) return emit(ctx, 'MISSING_IN_PROD', EXACT, undefined, b);
  if (a === b) return;
  const aArray = Array.isArray(a);
  const bArray = Array.isArray(b);
  if (aArray && bArray) return compareArrays(ctx, a, b);
  if (isJsonObject(a) && isJsonObject(b)) return compareObjects(ctx, a, b);
  // Two leaves, or values of different shapes: the rules decide, else exact.
  for (const rule of ctx.rules) {
    if (rule.paths.length > 0 && !rule.paths.some((p) => matchesPath(p, ctx.path))) continue;
    const verdict = rule.equal(a, b);
    if (verdict === true) return;
    if (verdict === false) return emit(ctx, 'CHANGED', rule.name, a, b);
  }
  emit(ctx, 'CHANGED', EXACT, a, b);
}

function compareObjects(ctx: Ctx, a: Record<string, Json>, b: Record<string, Json>): void {
  for (const key of Object.keys(a)) {
    enter(ctx, key, key, key);
    compare(ctx, a[key], Object.prototype.hasOwnProperty.call(b, key) ? b[key] : undefined);
    leave(ctx);
  }
  for (const key of Object.keys(b)) {
    if (Object.prototype.hasOwnProperty.call(a, key)) continue;
    enter(ctx, key, key, key);
    compare(ctx, undefined, b[key]);
    leave(ctx);
  }
}

function compareArrays(ctx: Ctx, a: Json[], b: Json[]): void {
  const keyed = ctx.arrayKeys.find((k) => matchesPath(k.pattern, ctx.path));
  if (!keyed) {
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) {
      enter(ctx, i, i, i);
      compare(ctx, a[i], b[i]);
      leave(ctx);
    }
    return;
  }
  const left = keyedElements(keyed, a);
  const right = keyedElements(keyed, b);
  for (const [key, entry] of left) {
    const other = right.get(key);
    enter(ctx, { key, label: entry.label }, entry.index, other?.index ?? -1);
    compare(ctx, entry.value, other?.value);
    leave(ctx);
  }
  for (const [key, entry] of right) {
    if (left.has(key)) continue;
    enter(ctx, { key, label: entry.label }, -1, entry.index);
    compare(ctx, undefined, entry.value);
    leave(ctx);
  }
}

/** Elements by key; a key seen again gets `#2`, `#3`... so repeated events pair up in order. */
export function keyedElements(keyed: ArrayKey, elements: readonly Json[]): Map<string, { value: Json; label: string; index: number }> {
  const out = new Map<string, { value: Json; label: string; index: number }>();
  const seen = new Map<string, number>();
  elements.forEach((value, index) => {
    const base = keyed.key(value, index);
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    out.set(n === 1 ? base : `${base}#${n}`, { value, label: keyed.label(value), index });
  });
  return out;
}

function enter(ctx: Ctx, segment: Segment, a: string | number, b: string | number): void {
  ctx.path.push(segment);
  ctx.aPath.push(a);
  ctx.bPath.push(b);
}

function leave(ctx: Ctx): void {
  ctx.path.pop();
  ctx.aPath.pop();
  ctx.bPath.pop();
}
