// The reconciler API: what a developer writes to say how PROD and UAT outputs
// for one correlation ID are compared. A typical reconciler is a dozen lines:
//
//   export default defineReconciler({
//     name: 'trades',
//     version: '3',
//     select: { eventTypes: ['VersionApplied'], readModels: ['trades'] },
//     normalise: [eventPayloads(), stripIds(), ignorePaths('docs.trades.asOf'), sortArrayBy('docs.trades.allocations', 'allocationId')],
//     compare: [decimalTolerance('0.01', 'docs.trades.price')],
//   });
//
// Everything here is pure: no I/O, no clocks.
import { parseDecimal, formatDecimal, type Scaled } from './decimal.js';
import { diff, EXACT, PRESENCE, type ArrayKey, type CompareRule, type Difference } from './diff.js';
import { cloneJson, isJsonObject, jsonEqual, stableStringify, type Json, type JsonObject } from './json.js';
import { compilePattern, forEachMatch, getProperty, type Pattern } from './path.js';

/** One selected event, as stored for a pair: plain JSON, so it can be re-judged later. */
export interface OutputEvent extends JsonObject {
  id: string;
  type: string;
  stream: string;
  revision: number;
  /** Global position in its environment's event store: never comparable across environments. */
  position: number;
  /** ISO timestamp of the append. */
  recordedAt: string;
  data: Json;
  metadata: JsonObject;
}

/** What one environment produced for one correlation ID, before normalisation. */
export interface SideOutput extends JsonObject {
  /** Selected events, in the environment's order. */
  events: OutputEvent[];
  /** Selected read-model documents by read-model name; null when the environment has none. */
  docs: { [readModel: string]: Json };
}

/** The minimal view of an event that correlation needs (a RecordedEvent or an OutputEvent). */
export interface CorrelatedEvent {
  type: string;
  data: unknown;
  metadata: { correlationId: string };
}

export interface Selection {
  /** Events of these types are part of the output. */
  eventTypes?: readonly string[];
  /**
   * Read models whose documents are part of the output: a list of names (the
   * document id is the correlation ID) or, per name, how to find the document id.
   */
  readModels?: readonly string[] | Readonly<Record<string, (correlationId: string) => string>>;
}

export interface Correlation {
  /** Events that reveal (or touch) correlation IDs; they need not be part of the output. */
  eventTypes: readonly string[];
  /** The correlation IDs an event belongs to; by default its metadata.correlationId. */
  keys?(event: CorrelatedEvent): readonly string[];
}

/** A normalisation step: a transformation of the output, and/or keys for matching array elements. */
export interface NormaliseStep {
  readonly describe: string;
  /** May change its argument (always a private copy) and returns the result. */
  apply?(output: Json): Json;
  readonly arrayKeys?: readonly ArrayKey[];
  /** A deep scrub, which defineReconciler may fuse with adjacent ones into a single walk. */
  readonly scrub?: Scrub;
}

interface Scrub {
  fields: ReadonlySet<string>;
  value: ((s: string) => string) | null;
  alsoDrop: ((key: string) => boolean) | null;
}

export interface ReconcilerDefinition {
  name: string;
  version: string | number;
  description?: string;
  select: Selection;
  /** Defaults to the selected event types, keyed by metadata.correlationId. Required when only read models are selected. */
  correlate?: Correlation;
  normalise?: ReadonlyArray<NormaliseStep | ((output: Json) => Json)>;
  /** Rules in order; where none answers, values must be exactly equal. */
  compare?: readonly CompareRule[];
  /** Differences kept per pair (default 200). */
  maxDifferences?: number;
}

export interface ReadModelSelection {
  name: string;
  idOf(correlationId: string): string;
}

export type Outcome = 'MATCHED' | 'DIFFERENT' | 'MISSING_IN_PROD' | 'MISSING_IN_UAT';

export interface Judgement {
  outcome: Outcome;
  differences: Difference[];
  /** The normalised outputs that were compared (absent for a missing side). */
  prod?: Json;
  uat?: Json;
}

export interface Reconciler {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  /** Types that are stored as output. */
  readonly eventTypes: readonly string[];
  /** Types the engine must follow: output types and correlation-only types. */
  readonly followedTypes: readonly string[];
  readonly readModels: readonly ReadModelSelection[];
  /** Correlation IDs an event belongs to (for followed types). */
  keysOf(event: CorrelatedEvent): readonly string[];
  /** Whether an event of this type is stored as output (otherwise it only marks activity). */
  keeps(type: string): boolean;
  /** The normalised output. `inPlace` lets the caller hand over an output it will not use again. */
  normalise(output: SideOutput, options?: { inPlace?: boolean }): Json;
  /** Differences between two normalised outputs. */
  compare(prod: Json, uat: Json): Difference[];
  /** Normalises and compares; a null side is a missing side. `inPlace`: the outputs are the caller's to give away. */
  judge(prod: SideOutput | null, uat: SideOutput | null, options?: { inPlace?: boolean }): Judgement;
}

const NAME = /^[a-z][a-z0-9-]*$/;

export function defineReconciler(definition: ReconcilerDefinition): Reconciler {
  const { name } = definition;
  if (!NAME.test(name)) throw new Error(`reconciler name ${JSON.stringify(name)}: use lower-case letters, digits and '-'`);
  const version = String(definition.version);
  if (version === '') throw new Error(`reconciler ${name}: version must not be empty`);
  const eventTypes = [...new Set(definition.select.eventTypes ?? [])];
  const readModels = readModelsOf(definition.select.readModels);
  if (eventTypes.length === 0 && readModels.length === 0) throw new Error(`reconciler ${name}: select at least one event type or read model`);
  if (eventTypes.length === 0 && !definition.correlate) {
    throw new Error(`reconciler ${name}: with read models only, say which events reveal correlation IDs (correlate)`);
  }
  const followedTypes = [...new Set([...eventTypes, ...(definition.correlate?.eventTypes ?? [])])];
  const kept = new Set(eventTypes);
  const customKeys = definition.correlate?.keys;
  const keysOf = customKeys ?? ((event: CorrelatedEvent) => [event.metadata.correlationId]);

  const steps: Array<(output: Json) => Json> = [];
  const arrayKeys: ArrayKey[] = [];
  // Adjacent scrubs (ids, timestamps, positions) become one walk of the output.
  let pendingScrubs: Scrub[] = [];
  const flushScrubs = () => {
    if (pendingScrubs.length === 1) steps.push(scrubber(pendingScrubs[0]!));
    else if (pendingScrubs.length > 1) steps.push(scrubber(fuseScrubs(pendingScrubs)));
    pendingScrubs = [];
  };
  for (const step of definition.normalise ?? []) {
    if (typeof step !== 'function' && step.scrub) {
      pendingScrubs.push(step.scrub);
      continue;
    }
    flushScrubs();
    if (typeof step === 'function') steps.push(step);
    else {
      if (step.apply) steps.push(step.apply.bind(step));
      arrayKeys.push(...(step.arrayKeys ?? []));
    }
  }
  flushScrubs();
  const rules = definition.compare ?? [];
  const maxDifferences = definition.maxDifferences ?? 200;

  const normalise = (output: SideOutput, options: { inPlace?: boolean } = {}): Json => {
    let value: Json = options.inPlace ? output : cloneJson(output);
    for (const step of steps) value = step(value);
    return value;
  };
  const compare = (prod: Json, uat: Json) => diff(prod, uat, { rules, arrayKeys, maxDifferences });

  return {
    name,
    version,
    description: definition.description ?? '',
    eventTypes,
    followedTypes,
    readModels,
    keysOf,
    keeps: (type) => kept.has(type),
    normalise,
    compare,
    judge(prodOutput, uatOutput, options = {}) {
      if (prodOutput === null && uatOutput === null) throw new Error(`reconciler ${name}: nothing to judge`);
      const prod = prodOutput === null ? undefined : normalise(prodOutput, options);
      const uat = uatOutput === null ? undefined : normalise(uatOutput, options);
      if (prod === undefined) {
        return { outcome: 'MISSING_IN_PROD', differences: [missing('MISSING_IN_PROD', undefined, uat)], ...(uat !== undefined && { uat }) };
      }
      if (uat === undefined) return { outcome: 'MISSING_IN_UAT', differences: [missing('MISSING_IN_UAT', prod, undefined)], prod };
      // Structurally equal outputs are equal under any rule: skip the diff walk for the common case.
      const differences = jsonEqual(prod, uat) ? [] : compare(prod, uat);
      return { outcome: differences.length === 0 ? 'MATCHED' : 'DIFFERENT', differences, prod, uat };
    },
  };
}

function missing(kind: 'MISSING_IN_PROD' | 'MISSING_IN_UAT', prod: Json | undefined, uat: Json | undefined): Difference {
  const d: Difference = { path: '$', pathPattern: '$', kind, rule: PRESENCE };
  if (prod !== undefined) Object.assign(d, { prod, prodAt: '$' });
  if (uat !== undefined) Object.assign(d, { uat, uatAt: '$' });
  return d;
}

function readModelsOf(selection: Selection['readModels']): ReadModelSelection[] {
  if (!selection) return [];
  if (Array.isArray(selection)) return (selection as readonly string[]).map((name) => ({ name, idOf: (cid: string) => cid }));
  return Object.entries(selection as Readonly<Record<string, (correlationId: string) => string>>).map(([name, idOf]) => ({ name, idOf }));
}

// ---------------------------------------------------------------------------
// Normalisation helpers

/** Removes whatever the patterns name (`docs.trades.asOf`, `events[].data.inputId`, `**.traceparent`). */
export function ignorePaths(...patterns: string[]): NormaliseStep {
  const compiled = patterns.map(compilePattern);
  return {
    describe: `ignore ${patterns.join(', ')}`,
    apply(output) {
      for (const pattern of compiled) forEachMatch(output, pattern, remove);
      return output;
    },
  };
}

function remove(container: JsonObject | Json[], key: string | number): void {
  if (Array.isArray(container)) container.splice(key as number, 1);
  else delete container[key as string];
}

/** Replaces the values the pattern names with what `fn` makes of them. */
export function mapPaths(pattern: string, fn: (value: Json) => Json): NormaliseStep {
  const compiled = compilePattern(pattern);
  return {
    describe: `map ${pattern}`,
    apply(output) {
      forEachMatch(output, compiled, (container, key) => {
        if (Array.isArray(container)) container[key as number] = fn(container[key as number]!);
        else container[key as string] = fn(container[key as string]!);
      });
      return output;
    },
  };
}

/** Keeps only `type` and `data` of each event: ids, positions, streams and timestamps are the environment's own. */
export function eventPayloads(): NormaliseStep {
  return {
    describe: 'events as type and data',
    apply(output) {
      if (isJsonObject(output) && Array.isArray(output.events)) {
        output.events = output.events.map((e) => (isJsonObject(e) ? { type: e.type ?? null, data: e.data ?? null } : e));
      }
      return output;
    },
  };
}

type KeyOf = string | ((element: Json) => string | number | null | undefined);

function keyFunction(key: KeyOf): (element: Json) => string {
  if (typeof key === 'function') return (element) => String(key(element) ?? '');
  return (element) => {
    const value = getProperty(element, key);
    return value === undefined ? '' : typeof value === 'string' ? value : stableStringify(value);
  };
}

/**
 * Orders the arrays at `pattern` by a key (a property path inside the element,
 * or a function), and matches their elements by that key when comparing, so a
 * missing element is one difference, not a shifted array.
 */
export function sortArrayBy(pattern: string, key: KeyOf, options: { label?: KeyOf } = {}): NormaliseStep {
  const compiled = compilePattern(pattern);
  const keyOf = keyFunction(key);
  const labelOf = options.label ? keyFunction(options.label) : () => '';
  return {
    describe: `sort ${pattern} by ${typeof key === 'string' ? key : 'key'}`,
    apply(output) {
      forEachMatch(output, compiled, (container, k) => {
        const value = Array.isArray(container) ? container[k as number] : container[k as string];
        if (!Array.isArray(value)) return;
        const decorated = value.map((element, index) => ({ element, key: keyOf(element), index }));
        decorated.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.index - b.index));
        const sorted = decorated.map((d) => d.element);
        if (Array.isArray(container)) container[k as number] = sorted;
        else container[k as string] = sorted;
      });
      return output;
    },
    arrayKeys: [{ pattern: compiled, key: (element) => keyOf(element), label: labelOf }],
  };
}

/**
 * Matches events by type and a business key per type (`{ TradeBooked: (d) => d.version }`),
 * in any order. Types without a key function pair up by occurrence. Signatures
 * keep the event type: `events[TradeBooked].data.version`.
 */
export function keyEventsBy(keys: Readonly<Record<string, (data: JsonObject) => string | number | null | undefined>> = {}): NormaliseStep {
  return sortArrayBy(
    'events',
    (event) => {
      if (!isJsonObject(event)) return '';
      const type = String(event.type ?? '');
      const fn = keys[type];
      const data = event.data;
      const part = fn && isJsonObject(data) ? fn(data) : undefined;
      return part === undefined || part === null ? type : `${type}:${part}`;
    },
    { label: (event) => (isJsonObject(event) ? String(event.type ?? '') : '') },
  );
}

const UUID_VALUE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;
export const DEFAULT_ID_FIELDS = ['id', 'eventId', 'inputId', 'causationId', 'traceparent'];
export const DEFAULT_TIMESTAMP_FIELDS = ['recordedAt', 'createdAt', 'updatedAt', 'timestamp'];
export const DEFAULT_POSITION_FIELDS = ['position', 'asOf', 'scannedTo'];

/** Drops generated ids everywhere: fields named `id`, `inputId`, `causationId`... (plus `extra`), and any UUID value becomes "<uuid>". */
export function stripIds(...extra: string[]): NormaliseStep {
  return deepScrub(`strip ids`, new Set([...DEFAULT_ID_FIELDS, ...extra]), (v) => (v.length === 36 && v.charCodeAt(8) === 45 && UUID_VALUE.test(v) ? '<uuid>' : v));
}

/** Drops timestamps everywhere: `recordedAt`, `...At` fields (plus `extra`), and any ISO date-time value becomes "<timestamp>". Dates (YYYY-MM-DD) stay. */
export function stripTimestamps(...extra: string[]): NormaliseStep {
  const fields = new Set([...DEFAULT_TIMESTAMP_FIELDS, ...extra]);
  return deepScrub(
    `strip timestamps`,
    fields,
    (v) => (v.length >= 16 && v.charCodeAt(10) === 84 /* T */ && ISO_TIMESTAMP.test(v) ? '<timestamp>' : v),
    (key) => key.length > 2 && key.charCodeAt(key.length - 1) === 116 /* t */ && key.charCodeAt(key.length - 2) === 65 /* A */ && /[a-z]At$/.test(key),
  );
}

/** Drops event-store positions everywhere: `position`, `asOf`, `scannedTo` (plus `extra`). They are never comparable across environments. */
export function stripPositions(...extra: string[]): NormaliseStep {
  return deepScrub('strip positions', new Set([...DEFAULT_POSITION_FIELDS, ...extra]), null);
}

function deepScrub(describe: string, fields: ReadonlySet<string>, value: ((s: string) => string) | null, alsoDrop?: (key: string) => boolean): NormaliseStep {
  const scrub: Scrub = { fields, value, alsoDrop: alsoDrop ?? null };
  return { describe, apply: scrubber(scrub), scrub };
}

function fuseScrubs(scrubs: readonly Scrub[]): Scrub {
  const values = scrubs.map((s) => s.value).filter((v): v is (s: string) => string => v !== null);
  const drops = scrubs.map((s) => s.alsoDrop).filter((d): d is (key: string) => boolean => d !== null);
  return {
    fields: new Set(scrubs.flatMap((s) => [...s.fields])),
    value: values.length === 0 ? null : (text) => values.reduce((v, fn) => fn(v), text),
    alsoDrop: drops.length === 0 ? null : (key) => drops.some((d) => d(key)),
  };
}

function scrubber({ fields, value, alsoDrop }: Scrub): (output: Json) => Json {
  const scrub = (node: Json): Json => {
    if (typeof node === 'string') return value === null ? node : value(node);
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) node[i] = scrub(node[i]!);
      return node;
    }
    if (node === null || typeof node !== 'object') return node;
    let drops = false;
    for (const key in node) {
      if (fields.has(key) || (alsoDrop !== null && alsoDrop(key))) {
        drops = true;
        break;
      }
    }
    // Rebuilding beats `delete` (which turns V8 objects into slow dictionaries).
    const out: JsonObject = drops ? {} : node;
    for (const key in node) {
      if (drops && (fields.has(key) || (alsoDrop !== null && alsoDrop(key)))) continue;
      const child = node[key]!;
      out[key] = typeof child === 'object' && child !== null ? scrub(child) : typeof child === 'string' && value !== null ? value(child) : child;
    }
    return out;
  };
  return scrub;
}

// ---------------------------------------------------------------------------
// Comparison rules

/** Plain equality, spelled out (for a path that a broader rule would otherwise catch). */
export function exact(...paths: string[]): CompareRule {
  return { name: EXACT, paths: paths.map(compilePattern), equal: (a, b) => stableStringify(a) === stableStringify(b) };
}

/**
 * Decimal values within `tolerance` of each other are equal. Both sides are
 * read as decimal strings (or JSON integers) into scaled bigints: never floats.
 * Values that are not decimals fall through to the next rule.
 */
export function decimalTolerance(tolerance: string, ...paths: string[]): CompareRule {
  const tol: Scaled | null = parseDecimal(tolerance);
  if (tol === null || tol.units < 0n) throw new Error(`decimalTolerance: ${JSON.stringify(tolerance)} is not a non-negative decimal`);
  const name = `decimal±${formatDecimal(tol)}`;
  return {
    name,
    paths: paths.map(compilePattern),
    equal(a, b) {
      const x = parseDecimal(a);
      const y = parseDecimal(b);
      if (x === null || y === null) return undefined;
      const scale = Math.max(x.scale, y.scale, tol.scale);
      const delta = x.units * 10n ** BigInt(scale - x.scale) - y.units * 10n ** BigInt(scale - y.scale);
      const limit = tol.units * 10n ** BigInt(scale - tol.scale);
      return (delta < 0n ? -delta : delta) <= limit;
    },
  };
}

/** A rule of your own: `equal` answers true, false, or undefined (no opinion). */
export function rule(name: string, paths: readonly string[], equal: (prod: Json, uat: Json) => boolean | undefined): CompareRule {
  return { name, paths: paths.map(compilePattern), equal };
}

export type { ArrayKey, CompareRule, Difference, Pattern };
