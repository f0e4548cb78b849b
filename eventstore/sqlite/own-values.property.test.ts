// A subscription on the connection that wrote a commit takes the events' values as copied at the
// write (sqlite-event-store.ts, OwnRow; json-copy.ts) rather than parsing back their JSON. What it
// gets must be what decoding the stored JSON gives (here: another connection's read), to the key
// order, -0, NaN and keys left undefined; and nothing the writer does with its objects afterwards
// may reach it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { EventData, EventFilter, RecordedEvent } from '../port.js';
import { jsonCopy, NOT_COPIED } from '../json-copy.js';
import { SqliteEventStore } from './sqlite-event-store.js';

const dir = mkdtempSync(join(tmpdir(), 'kepler-own-values-'));

/** Deep equality that also holds the keys' order, prototypes and -0 apart (toEqual does not). */
function sameValue(a: unknown, b: unknown, at = '$'): void {
  if (a instanceof Date && b instanceof Date) return void expect(a.getTime(), at).toBe(b.getTime());
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return void expect(Object.is(a, b), `${at}: ${String(a)} against ${String(b)}`).toBe(true);
  expect(Object.getPrototypeOf(a), `${at}: prototype`).toBe(Object.getPrototypeOf(b));
  expect(Array.isArray(a), at).toBe(Array.isArray(b));
  const keys = Object.keys(a);
  expect(keys, `${at}: keys`).toEqual(Object.keys(b));
  for (const key of keys) sameValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${at}.${key}`);
}

// What the domain writes: trade versions with their terms (a price is a decimal string), origins
// with optional members, metadata built as the processors build it (keys left undefined).
const text = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)), maxLength: 10 });
const price = fc.tuple(fc.nat({ max: 99_999 }), fc.nat({ max: 99_999_999 })).map(([whole, cents]) => `${whole}.${cents}`);
const terms = fc.record({
  account: text,
  isin: text,
  side: fc.constantFrom('BUY', 'SELL'),
  quantity: fc.oneof(fc.nat(), fc.double()),
  price,
  currency: fc.constantFrom('USD', 'EUR'),
  tradeDate: fc.constant('2026-11-27'),
  settleDate: fc.constant('2026-11-30'),
  counterparty: text,
});
const origin = fc.record({ source: fc.constantFrom('CORE', 'ALLOC', 'API'), sourceSequence: fc.integer(), file: fc.option(text, { nil: undefined }), line: fc.option(fc.nat(), { nil: undefined }) }, { requiredKeys: ['source', 'sourceSequence'] });
const versionApplied = fc.record({
  type: fc.constant('VersionApplied'),
  tradeRef: text,
  inputId: text,
  version: fc.nat(),
  recordType: fc.constantFrom('TRD', 'AMD'),
  terms,
  origin,
  reachedVersion: fc.nat(),
});
// And anything else a writer could hand over: dates, maps, boxed values, sparse arrays, `__proto__` and integer-like keys, -0, NaN.
const anything = fc.anything({
  key: fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('__proto__', '0', '1', '10', '-1', '01', 'toJSON')),
  maxDepth: 3,
  withDate: true,
  withMap: true,
  withSet: true,
  withBoxedValues: true,
  withNullPrototype: true,
  withSparseArray: true,
  withTypedArray: true,
  withObjectString: true,
});
const data = fc.oneof({ weight: 3, arbitrary: versionApplied }, { weight: 2, arbitrary: anything }, { weight: 1, arbitrary: fc.constant(undefined) });
const metadata = fc.record(
  {
    correlationId: text,
    causationId: fc.option(text, { nil: undefined }),
    source: fc.option(text, { nil: undefined }),
    sourceSequence: fc.option(fc.integer(), { nil: undefined }),
    line: fc.option(fc.nat(), { nil: undefined }),
    traceparent: fc.option(text, { nil: undefined }),
    slot: fc.option(fc.constantFrom('blue', 'green'), { nil: undefined }),
    actor: fc.option(fc.record({ subject: text, clientId: fc.option(text, { nil: undefined }), name: text }, { requiredKeys: ['subject'] }), { nil: undefined }),
  },
  { requiredKeys: ['correlationId', 'causationId', 'source', 'sourceSequence', 'line', 'traceparent', 'slot', 'actor'] },
);
const event = fc.record({ type: fc.constantFrom('Wanted', 'Other'), data, metadata });
const group = fc.array(fc.record({ stream: fc.constantFrom('x-1', 'x-2', 'y-1'), events: fc.array(event, { minLength: 1, maxLength: 3 }) }), { minLength: 1, maxLength: 3 });
const filter: fc.Arbitrary<EventFilter | undefined> = fc.constantFrom(undefined, { eventTypes: ['Wanted'] }, { streamPrefixes: ['x-'] });

let ids = 0;

/** Changes every object reachable from the value, as a careless writer might after its append. */
function scribble(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  for (const key of Object.keys(value)) {
    scribble((value as Record<string, unknown>)[key]);
    try {
      (value as Record<string, unknown>)[key] = 'scribbled';
    } catch {
      // A read-only member (a typed array's length, say).
    }
  }
}

/** A subscription's events, collected as they come; `until` resolves once it has read up to a position. */
function follow(store: SqliteEventStore, options: { filter?: EventFilter; batchSize?: number }) {
  const subscription = store.subscribe(0, options);
  const events: RecordedEvent[] = [];
  let position = 0;
  const done = (async () => {
    for await (const batch of subscription) {
      events.push(...batch.events);
      position = batch.scannedTo;
    }
  })();
  return {
    events,
    until: async (head: number) => {
      while (position < head) await new Promise((resolve) => setImmediate(resolve));
    },
    close: async () => {
      await subscription.close();
      await done;
    },
  };
}

afterEach(() => vi.restoreAllMocks());

describe('SQLite event store: a follower of its own connection takes the values written', () => {
  it('gives what decoding the stored JSON gives, whatever the writer does with its objects afterwards', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(group, { minLength: 1, maxLength: 6 }), filter, fc.constantFrom(1, 2, 1000), async (groups, wanted, batchSize) => {
        const path = join(dir, `run-${++run}.db`);
        const mine = SqliteEventStore.open(path);
        const other = SqliteEventStore.open(path);
        const follower = follow(mine, { filter: wanted, batchSize });
        try {
          for (const appends of groups) {
            const written = appends.map(({ stream, events }) => ({ stream, events: events.map((e): EventData => ({ id: `e${++ids}`, type: e.type, data: e.data, metadata: e.metadata })) }));
            await Promise.all(written.map(({ stream, events }) => mine.append(stream, events, 'any')));
            for (const { events } of written) for (const e of events) scribble(e);
            await follower.until(await mine.headPosition());
          }
          const decoded = (await other.readAll(0, { maxCount: 10_000, filter: wanted })).events;
          expect(follower.events.length).toBe(decoded.length);
          follower.events.forEach((e, i) => sameValue(e, decoded[i]));
        } finally {
          await follower.close();
          await mine.close();
          await other.close();
        }
      }),
      { numRuns: 100 },
    );
  });

  it('does not parse back the JSON of plain values it just wrote', async () => {
    const mine = SqliteEventStore.open(join(dir, 'parse.db'));
    const follower = follow(mine, { filter: { eventTypes: ['Wanted'] } });
    try {
      await mine.append('x-1', [{ id: 'a', type: 'Wanted', data: { n: 1, terms: { price: '10.5' } }, metadata: { correlationId: 'x' } }], 'any');
      await follower.until(1);
      const parse = vi.spyOn(JSON, 'parse');
      await mine.append('x-1', [{ id: 'b', type: 'Wanted', data: { n: 2, terms: { price: '11.25' } }, metadata: { correlationId: 'x', actor: undefined } }], 0);
      await follower.until(2);
      expect(parse).not.toHaveBeenCalled();
      sameValue(follower.events[1]!.data, { n: 2, terms: { price: '11.25' } });
      sameValue(follower.events[1]!.metadata, { correlationId: 'x' });
    } finally {
      await follower.close();
      await mine.close();
    }
  });

  it('hands a kept row’s values to one reader: a second one decodes its own', async () => {
    const mine = SqliteEventStore.open(join(dir, 'twice.db'));
    const first = follow(mine, {});
    const second = follow(mine, {});
    try {
      await mine.append('x-1', [{ id: 'a', type: 'Wanted', data: { list: [1, 2] }, metadata: { correlationId: 'x' } }], 'any');
      await Promise.all([first.until(1), second.until(1)]);
      sameValue(first.events[0]!.data, second.events[0]!.data);
      expect(first.events[0]!.data).not.toBe(second.events[0]!.data);
      expect(first.events[0]!.metadata).not.toBe(second.events[0]!.metadata);
    } finally {
      await first.close();
      await second.close();
      await mine.close();
    }
  });
});

describe('jsonCopy', () => {
  it('is JSON.parse(JSON.stringify(x)), or declines', () => {
    fc.assert(
      fc.property(fc.oneof(anything, versionApplied, metadata), (value) => {
        const copied = jsonCopy(value);
        if (copied === NOT_COPIED) return;
        const text = JSON.stringify(value);
        sameValue(copied, text === undefined ? undefined : JSON.parse(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('copies what the domain writes (it declines nothing of it)', () => {
    fc.assert(
      fc.property(versionApplied, metadata, (data, meta) => {
        expect(jsonCopy(data)).not.toBe(NOT_COPIED);
        expect(jsonCopy(meta)).not.toBe(NOT_COPIED);
      }),
    );
  });
});
