import { describe, expect, it } from 'vitest';
import { compareMagnitude, formatDecimal, parseDecimal, subtract, withinTolerance } from './decimal.js';
import { diff } from './diff.js';
import { addToChecksum, EMPTY_CHECKSUM, fnv1a, formatChecksum, partitionOf } from './hash.js';
import type { Json } from './json.js';
import { compilePattern, forEachMatch, formatPath, matchesPath, stripPath } from './path.js';
import {
  decimalTolerance,
  defineReconciler,
  eventPayloads,
  exact,
  ignorePaths,
  keyEventsBy,
  rule,
  sortArrayBy,
  stripIds,
  stripPositions,
  stripTimestamps,
  type OutputEvent,
  type SideOutput,
} from './reconciler.js';
import { classifySignature, groupSignatures, parseSignature, signatureOf } from './signature.js';

describe('decimals', () => {
  it('parses decimal strings and integers into scaled bigints, never floats', () => {
    expect(parseDecimal('123.45')).toEqual({ units: 12345n, scale: 2 });
    expect(parseDecimal('-0.001')).toEqual({ units: -1n, scale: 3 });
    expect(parseDecimal(100)).toEqual({ units: 100n, scale: 0 });
    expect(parseDecimal('1e5')).toBeNull();
    expect(parseDecimal('abc')).toBeNull();
    expect(parseDecimal(null)).toBeNull();
  });

  it('subtracts and compares exactly', () => {
    const d = subtract(parseDecimal('0.3')!, parseDecimal('0.1')!);
    expect(formatDecimal(d)).toBe('0.2');
    expect(compareMagnitude(subtract(parseDecimal('0.1')!, parseDecimal('0.3')!), parseDecimal('0.2')!)).toBe(0);
    expect(withinTolerance('100.005', '100.01', parseDecimal('0.005')!)).toBe(true);
    expect(withinTolerance('100.0049', '100.01', parseDecimal('0.005')!)).toBe(false);
    expect(withinTolerance('x', '1', parseDecimal('1')!)).toBeNull();
  });
});

describe('paths and patterns', () => {
  const keyed = { key: 'TradeBooked:1', label: 'TradeBooked' };

  it('formats paths for people and strips ids and indices for signatures', () => {
    expect(formatPath([])).toBe('$');
    expect(formatPath(['docs', 'trades', 'allocations', 2, 'quantity'])).toBe('docs.trades.allocations[2].quantity');
    expect(formatPath(['events', keyed, 'data', 'version'])).toBe('events[TradeBooked:1].data.version');
    expect(stripPath(['events', keyed, 'data', 'allocations', 0, 'quantity'])).toBe('events[TradeBooked].data.allocations[].quantity');
    expect(stripPath(['docs', 'byId', '12345', 'x'])).toBe('docs.byId.*.x');
    expect(stripPath(['m', '0b7c1f0e-3d7a-5c55-8a1e-2f3b4c5d6e7f'])).toBe('m.*');
  });

  it('matches patterns with *, [], [Label] and **', () => {
    const path = ['events', keyed, 'data', 'allocations', 0, 'quantity'];
    expect(matchesPath(compilePattern('events[].data.allocations[].quantity'), path)).toBe(true);
    expect(matchesPath(compilePattern('events[TradeBooked].data.*[].quantity'), path)).toBe(true);
    expect(matchesPath(compilePattern('events[BookingReversed].data.allocations[].quantity'), path)).toBe(false);
    expect(matchesPath(compilePattern('**.quantity'), path)).toBe(true);
    expect(matchesPath(compilePattern('events.**'), path)).toBe(true);
    expect(matchesPath(compilePattern('events[].data'), path)).toBe(false);
  });

  it('visits what a pattern names in a value, [Type] picking elements by their type', () => {
    const value: Json = { events: [{ type: 'A', data: { x: 1 } }, { type: 'B', data: { x: 2 } }] };
    const seen: Json[] = [];
    forEachMatch(value, compilePattern('events[B].data.x'), (c, k) => seen.push((c as Record<string, Json>)[k as string]!));
    expect(seen).toEqual([2]);
    const deep: Json[] = [];
    forEachMatch(value, compilePattern('**.x'), (c, k) => deep.push((c as Record<string, Json>)[k as string]!));
    expect(deep.sort()).toEqual([1, 2]);
  });
});

describe('diff', () => {
  it('reports changed, missing-in-PROD and missing-in-UAT values with paths', () => {
    const differences = diff({ a: 1, b: { c: 'x' }, d: [1, 2] }, { a: 2, b: {}, d: [1, 2, 3], e: null });
    expect(differences.map((d) => [d.path, d.kind, d.rule, d.prod, d.uat])).toEqual([
      ['a', 'CHANGED', 'exact', 1, 2],
      ['b.c', 'MISSING_IN_UAT', 'exact', 'x', undefined],
      ['d[2]', 'MISSING_IN_PROD', 'exact', undefined, 3],
      ['e', 'MISSING_IN_PROD', 'exact', undefined, null],
    ]);
  });

  it('applies the first rule with an opinion, else exact', () => {
    const rules = [decimalTolerance('0.01', 'price'), rule('case-insensitive', ['name'], (a, b) => (typeof a === 'string' && typeof b === 'string' ? a.toLowerCase() === b.toLowerCase() : undefined))];
    expect(diff({ price: '100.004', name: 'Abc', q: 1 }, { price: '100.01', name: 'abc', q: 1 }, { rules })).toEqual([]);
    const [d] = diff({ price: '100.02', name: 'x' }, { price: '100', name: 'x' }, { rules });
    expect(d).toMatchObject({ path: 'price', kind: 'CHANGED', rule: 'decimal±0.01', prod: '100.02', uat: '100' });
  });

  it('matches keyed array elements by key, so a missing element is one difference', () => {
    const step = sortArrayBy('allocations', 'allocationId');
    const prod = step.apply!({ allocations: [{ allocationId: 'A1', q: 1 }, { allocationId: 'A2', q: 2 }, { allocationId: 'A3', q: 3 }] });
    const uat = step.apply!({ allocations: [{ allocationId: 'A3', q: 3 }, { allocationId: 'A1', q: 1 }] });
    const differences = diff(prod, uat, { arrayKeys: step.arrayKeys! });
    expect(differences).toHaveLength(1);
    expect(differences[0]).toMatchObject({ path: 'allocations[A2]', pathPattern: 'allocations[]', kind: 'MISSING_IN_UAT' });
  });

  it('stops at maxDifferences', () => {
    const a = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i]));
    expect(diff(a, {}, { maxDifferences: 10 })).toHaveLength(10);
  });
});

function event(type: string, data: Json, extra: Partial<OutputEvent> = {}): OutputEvent {
  return { id: '0b7c1f0e-3d7a-5c55-8a1e-2f3b4c5d6e7f', type, stream: 's-1', revision: 0, position: 7, recordedAt: '2026-01-01T10:00:00.000Z', data, metadata: { correlationId: 'T1' }, ...extra };
}

describe('normalisation helpers', () => {
  it('strips ids, timestamps and positions', () => {
    const value: Json = { id: 'x', inputId: 'y', when: '2026-01-01T10:00:00Z', day: '2026-01-01', createdAt: 1, asOf: 9, n: { position: 3, ref: '0b7c1f0e-3d7a-5c55-8a1e-2f3b4c5d6e7f', keep: 1 } };
    let out = stripIds().apply!(structuredClone(value));
    out = stripTimestamps().apply!(out);
    out = stripPositions().apply!(out);
    expect(out).toEqual({ when: '<timestamp>', day: '2026-01-01', n: { ref: '<uuid>', keep: 1 } });
  });

  it('fuses adjacent scrubs in a reconciler without changing what they do', () => {
    const r = defineReconciler({ name: 'scrubs', version: 1, select: { eventTypes: ['E'] }, normalise: [stripIds('ref'), stripTimestamps(), stripPositions()] });
    const output: SideOutput = { events: [event('E', { ref: 1, keep: '0b7c1f0e-3d7a-5c55-8a1e-2f3b4c5d6e7f', at: '2026-01-01T10:00:00Z', updatedAt: 3 })], docs: { m: { asOf: 1, v: 2 } } };
    expect(r.normalise(output)).toEqual({ events: [{ type: 'E', stream: 's-1', revision: 0, data: { keep: '<uuid>', at: '<timestamp>' }, metadata: { correlationId: 'T1' } }], docs: { m: { v: 2 } } });
  });

  it('ignores paths, including array elements and typed events', () => {
    const out = ignorePaths('events[].data.origin.line', 'events[B]', 'docs.t.asOf').apply!({
      events: [{ type: 'A', data: { origin: { line: 1, file: 'f' } } }, { type: 'B', data: {} }],
      docs: { t: { asOf: 3, v: 1 } },
    });
    expect(out).toEqual({ events: [{ type: 'A', data: { origin: { file: 'f' } } }], docs: { t: { v: 1 } } });
  });

  it('keys events by type and business key, in any order', () => {
    const step = keyEventsBy({ TradeBooked: (d) => d.version as number });
    const a = step.apply!({ events: [{ type: 'TradeBooked', data: { version: 2 } }, { type: 'Noted', data: {} }, { type: 'TradeBooked', data: { version: 1 } }] });
    const b = step.apply!({ events: [{ type: 'Noted', data: {} }, { type: 'TradeBooked', data: { version: 1 } }] });
    const differences = diff(a, b, { arrayKeys: step.arrayKeys! });
    expect(differences.map((d) => [d.path, d.pathPattern, d.kind])).toEqual([['events[TradeBooked:2]', 'events[TradeBooked]', 'MISSING_IN_UAT']]);
  });
});

describe('defineReconciler', () => {
  const trades = defineReconciler({
    name: 'demo',
    version: 2,
    select: { eventTypes: ['VersionApplied'], readModels: ['trades'] },
    normalise: [eventPayloads(), stripIds(), stripPositions(), sortArrayBy('docs.trades.allocations', 'allocationId')],
    compare: [decimalTolerance('0.01', 'docs.trades.price'), exact()],
  });
  const output = (price: string, allocations: Json[]): SideOutput => ({
    events: [event('VersionApplied', { version: 1, inputId: 'abc' })],
    docs: { trades: { tradeRef: 'T1', price, asOf: 12, allocations } },
  });

  it('judges matching outputs MATCHED whatever their ids, positions and order', () => {
    const prod = output('10.001', [{ allocationId: 'A', q: 1 }, { allocationId: 'B', q: 2 }]);
    const uat = output('10.00', [{ allocationId: 'B', q: 2 }, { allocationId: 'A', q: 1 }]);
    uat.events[0]!.position = 99;
    uat.docs.trades = { ...(uat.docs.trades as Record<string, Json>), asOf: 500 };
    expect(trades.judge(prod, uat).outcome).toBe('MATCHED');
    expect(trades.version).toBe('2');
  });

  it('does not change its inputs unless told to', () => {
    const prod = output('10', []);
    const copy = structuredClone(prod);
    trades.judge(prod, output('11', []));
    expect(prod).toEqual(copy);
  });

  it('judges differences beyond the tolerance, and missing sides', () => {
    const result = trades.judge(output('10.02', []), output('10', []));
    expect(result.outcome).toBe('DIFFERENT');
    expect(result.differences).toMatchObject([{ path: 'docs.trades.price', rule: 'decimal±0.01' }]);
    const missing = trades.judge(output('1', []), null);
    expect(missing.outcome).toBe('MISSING_IN_UAT');
    expect(missing.differences).toMatchObject([{ path: '$', kind: 'MISSING_IN_UAT', rule: 'presence' }]);
  });

  it('refuses definitions that cannot work', () => {
    expect(() => defineReconciler({ name: 'Bad Name', version: 1, select: { eventTypes: ['x'] } })).toThrow(/name/);
    expect(() => defineReconciler({ name: 'x', version: 1, select: {} })).toThrow(/select/);
    expect(() => defineReconciler({ name: 'x', version: 1, select: { readModels: ['positions'] } })).toThrow(/correlate/);
  });
});

describe('signatures', () => {
  it('groups differences by reconciler, stripped path, kind and rule, with counts and examples', () => {
    const d = (path: string, pathPattern: string) => ({ path, pathPattern, kind: 'CHANGED' as const, rule: 'exact' });
    const summaries = groupSignatures([
      { reconciler: 'trades', correlationId: 'T1', differences: [d('allocations[A1].q', 'allocations[].q'), d('allocations[A2].q', 'allocations[].q')] },
      { reconciler: 'trades', correlationId: 'T2', differences: [d('allocations[A9].q', 'allocations[].q'), d('price', 'price')] },
      { reconciler: 'bookings', correlationId: 'T2', differences: [d('price', 'price')] },
    ]);
    expect(summaries.map((s) => [s.signature, s.pairs, s.occurrences, s.examples])).toEqual([
      ['trades | allocations[].q | CHANGED | exact', 2, 3, ['T1', 'T2']],
      ['bookings | price | CHANGED | exact', 1, 1, ['T2']],
      ['trades | price | CHANGED | exact', 1, 1, ['T2']],
    ]);
    expect(parseSignature(signatureOf('trades', d('x', 'x')))).toEqual({ reconciler: 'trades', path: 'x', kind: 'CHANGED', rule: 'exact' });
    expect(classifySignature('a', new Set(['a']), new Set(['a']))).toBe('accepted');
    expect(classifySignature('a', new Set(), new Set(['a']))).toBe('noise');
    expect(classifySignature('a', new Set(), new Set())).toBe('new');
  });
});

describe('hashing', () => {
  it('is stable, spreads keys, and checksums are order independent', () => {
    expect(fnv1a('T-0001')).toBe(fnv1a('T-0001'));
    const counts = new Array(8).fill(0) as number[];
    for (let i = 0; i < 8000; i++) counts[partitionOf(`T-${i}`, 8)]!++;
    for (const n of counts) expect(n).toBeGreaterThan(800);
    const a = ['x', 'y', 'z'].reduce(addToChecksum, EMPTY_CHECKSUM);
    const b = ['z', 'x', 'y'].reduce(addToChecksum, EMPTY_CHECKSUM);
    expect(formatChecksum(a)).toBe(formatChecksum(b));
    expect(formatChecksum(a)).not.toBe(formatChecksum(['x', 'y'].reduce(addToChecksum, EMPTY_CHECKSUM)));
  });
});
