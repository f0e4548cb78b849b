// One read of the store for several followers: each gets exactly what a subscription of its own
// would give it (every event it wants, once, in order, whatever its position and speed), one that
// stalls or stops holds up nobody, and one that starts behind catches up alone and joins.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteEventStore, UNREAD_METADATA, type EventData, type EventFilter, type Subscription } from '../eventstore/index.js';
import { EventFanOut, unionOf } from './fan-out.js';

const TYPES = ['A', 'B', 'C'];
const event = (type: string, n: number): EventData => ({ id: `id-${n}`, type, data: { n }, metadata: { correlationId: `REF-${n}` } });

let store: SqliteEventStore;
let fanOut: EventFanOut | null = null;
let appended = 0;

async function append(count: number, stream = 'trade-1'): Promise<void> {
  for (let i = 0; i < count; i++) {
    const n = appended++;
    await store.append(n % 4 === 3 ? `feed-${n}` : stream, [event(TYPES[n % 3]!, n)], 'any');
  }
}

/**
 * The positions of what a subscription hands out, until it has `count` more events (the subscription
 * stays open for more); its batches' positions must rise, each batch's events lie at or below it.
 */
function reader(subscription: Subscription) {
  const iterator = subscription[Symbol.asyncIterator]();
  let scanned = -1;
  return async (count: number): Promise<number[]> => {
    const seen: number[] = [];
    while (seen.length < count) {
      const { value: batch, done } = await iterator.next();
      if (done) break;
      expect(batch.scannedTo).toBeGreaterThanOrEqual(scanned);
      scanned = batch.scannedTo;
      for (const e of batch.events) expect(e.position).toBeLessThanOrEqual(batch.scannedTo);
      seen.push(...batch.events.map((e) => e.position));
    }
    return seen;
  };
}

const take = (subscription: Subscription, count: number) => reader(subscription)(count);

/** What the store says the filter passes after a position: what a follower must be handed. */
async function expected(after: number, filter: EventFilter): Promise<number[]> {
  return (await store.readAll(after, { maxCount: 1_000_000, filter })).events.map((e) => e.position);
}

const withTimeout = <T>(promise: Promise<T>, ms = 10_000) =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out')), ms))]);

const FILTERS: EventFilter[] = [{ eventTypes: ['A'] }, { eventTypes: ['B', 'C'] }, { streamPrefixes: ['feed-'] }];

beforeEach(() => {
  store = SqliteEventStore.open(':memory:', { pollIntervalMs: 5 });
  appended = 0;
});
afterEach(async () => {
  await fanOut?.close();
  fanOut = null;
  await store.close();
});

describe('EventFanOut', () => {
  // The second set reads by the union of the types alone, the prefixes left to the one follower that names them.
  it.each([
    ['everything', FILTERS],
    ['the union of the types', [{ eventTypes: ['A'] }, { eventTypes: ['B'] }, { eventTypes: ['C'], streamPrefixes: ['feed-'] }]],
  ] as Array<[string, EventFilter[]]>)('hands each follower what its own subscription would, from its own position, then live appends (reading %s)', async (_, filters) => {
    await append(200);
    fanOut = new EventFanOut(store, filters, { batchSize: 16, stallMs: 100 }); // each stops reading once it has its count
    const starts = [0, 37, 150];
    const subscriptions = filters.map((filter, i) => fanOut!.subscribe(starts[i]!, { filter }));
    const wanted = await Promise.all(filters.map(async (filter, i) => (await expected(starts[i]!, filter)).length));
    const reading = subscriptions.map((s, i) => take(s, wanted[i]! + (i === 2 ? 10 : 30)));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await append(120); // live, once every follower has caught up
    const seen = await withTimeout(Promise.all(reading));
    for (const [i, filter] of filters.entries()) {
      const all = await expected(starts[i]!, filter);
      expect(seen[i]).toEqual(all.slice(0, seen[i]!.length));
      expect(seen[i]!.length).toBeGreaterThan(wanted[i]!); // the live appends reached it
    }
    await Promise.all(subscriptions.map((s) => s.close()));
  });

  it('lets a follower that starts behind the shared read catch up alone and join, nothing lost or repeated', async () => {
    await append(100);
    fanOut = new EventFanOut(store, FILTERS, { batchSize: 8 });
    const ahead = fanOut.subscribe(0, { filter: FILTERS[0]! });
    const fromAhead = reader(ahead);
    const first = await withTimeout(fromAhead((await expected(0, FILTERS[0]!)).length));
    // The shared read has reached the head; a new follower (a rebuilt generation, say) starts at 0.
    const behind = fanOut.subscribe(0, { filter: FILTERS[1]! });
    const owed = (await expected(0, FILTERS[1]!)).length;
    const reading = take(behind, owed + 40);
    const stillAhead = fromAhead(20);
    await append(60);
    expect(await withTimeout(reading)).toEqual((await expected(0, FILTERS[1]!)).slice(0, owed + 40));
    expect([...first, ...(await withTimeout(stillAhead))]).toEqual((await expected(0, FILTERS[0]!)).slice(0, first.length + 20));
    await ahead.close();
    await behind.close();
  });

  it('does not let a follower that takes nothing hold up the others; it later gets all it was owed', async () => {
    await append(300);
    fanOut = new EventFanOut(store, FILTERS, { batchSize: 10, queued: 2, stallMs: 50 });
    const stalled = fanOut.subscribe(0, { filter: FILTERS[0]! });
    const fromStalled = reader(stalled);
    const first = await withTimeout(fromStalled(1)); // takes a batch, then nothing for a while
    const others = fanOut.subscribe(0, { filter: FILTERS[1]! });
    const wanted = await expected(0, FILTERS[1]!);
    expect(await withTimeout(take(others, wanted.length), 5_000)).toEqual(wanted);
    // Woken again: everything after what it took, once, in order.
    const all = await expected(0, FILTERS[0]!);
    const rest = await withTimeout(fromStalled(all.length - first.length));
    expect([...first, ...rest]).toEqual(all);
    await stalled.close();
    await others.close();
  });

  it('keeps a follower that is up to date live while one far behind catches up', async () => {
    await append(300);
    // Minutes of stall allowance: only not waiting for the laggard at all lets the test pass.
    fanOut = new EventFanOut(store, FILTERS, { batchSize: 10, stallMs: 600_000 });
    const head = await store.headPosition();
    const upToDate = fanOut.subscribe(head, { filter: FILTERS[0]! });
    const laggard = fanOut.subscribe(0, { filter: FILTERS[1]! }); // started, and not read for now
    const fromLaggard = reader(laggard);
    const reading = take(upToDate, 5);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await append(15);
    expect(await withTimeout(reading, 2_000)).toEqual((await expected(head, FILTERS[0]!)).slice(0, 5));
    const owed = await expected(0, FILTERS[1]!);
    expect(await withTimeout(fromLaggard(owed.length))).toEqual(owed);
    await upToDate.close();
    await laggard.close();
  });

  it('carries on for the others when one follower stops or fails', async () => {
    await append(100);
    fanOut = new EventFanOut(store, FILTERS, { batchSize: 5 });
    const failing = fanOut.subscribe(0, { filter: FILTERS[0]! });
    const failed = (async () => {
      for await (const batch of failing) if (batch.events.length > 0) throw new Error('projection failed');
    })();
    const others = fanOut.subscribe(0, { filter: FILTERS[2]! });
    const wanted = await expected(0, FILTERS[2]!);
    await expect(failed).rejects.toThrow('projection failed');
    const reading = take(others, wanted.length + 5);
    await append(20);
    expect(await withTimeout(reading)).toEqual((await expected(0, FILTERS[2]!)).slice(0, wanted.length + 5));
    await others.close();
  });

  it('announces caught up to a follower already at the head', async () => {
    await append(30);
    fanOut = new EventFanOut(store, FILTERS);
    const head = await store.headPosition();
    const atHead = fanOut.subscribe(head, { filter: FILTERS[0]! });
    const { value } = await withTimeout(atHead[Symbol.asyncIterator]().next());
    expect(value).toEqual({ events: [], scannedTo: head, caughtUp: true });
    await atHead.close();
  });

  it('refuses a filter it was not made for', () => {
    fanOut = new EventFanOut(store, [{ eventTypes: ['A'] }, { eventTypes: ['B'] }]);
    expect(() => fanOut!.subscribe(0, { filter: { eventTypes: ['C'] } })).toThrow(/not one it was made for/);
    expect(() => fanOut!.subscribe(0, {})).toThrow(/not one it was made for/);
  });

  it('refuses a follower that reads a part of an event its shared read leaves out', () => {
    fanOut = new EventFanOut(store, [{ eventTypes: ['A', 'R'], withoutData: ['R'], withoutMetadata: ['R'] }, { eventTypes: ['B'] }]);
    // Its filter without the hints: it would be handed R without the data and metadata it reads.
    expect(() => fanOut!.subscribe(0, { filter: { eventTypes: ['A', 'R'], withoutData: ['R'] } })).toThrow(/not one it was made for/);
    expect(() => fanOut!.subscribe(0, { filter: { eventTypes: ['A', 'R'], withoutMetadata: ['R'] } })).toThrow(/not one it was made for/);
    // One that takes no R, or reads it without both, is served.
    fanOut.subscribe(0, { filter: { eventTypes: ['B'] } });
    fanOut.subscribe(0, { filter: { eventTypes: ['A', 'R'], withoutData: ['R'], withoutMetadata: ['R'] } });
  });

  it('hands each follower the events its own read would, those read without their metadata alike', async () => {
    await store.append('feed-1', [event('R', 0), event('A', 1)], 'no_stream');
    const filters: EventFilter[] = [{ eventTypes: ['A', 'R'], withoutMetadata: ['R'] }, { eventTypes: ['A'] }];
    fanOut = new EventFanOut(store, filters);
    const [withR, withoutR] = filters.map((filter) => fanOut!.subscribe(0, { filter }));
    const first = async (subscription: Subscription) => (await withTimeout(subscription[Symbol.asyncIterator]().next())).value as { events: Array<{ type: string; metadata: unknown }> };
    expect((await first(withR!)).events.map((e) => [e.type, e.metadata])).toEqual([
      ['R', UNREAD_METADATA],
      ['A', { correlationId: 'REF-1' }],
    ]);
    expect((await first(withoutR!)).events.map((e) => [e.type, e.metadata])).toEqual([['A', { correlationId: 'REF-1' }]]);
    await withR!.close();
    await withoutR!.close();
  });
});

describe('unionOf', () => {
  it('keeps the types when every filter names types, the prefixes when every filter names prefixes, else reads everything', () => {
    expect(unionOf([{ eventTypes: ['A', 'B'] }, { eventTypes: ['B', 'C'] }])).toEqual({ eventTypes: ['A', 'B', 'C'] });
    expect(unionOf([{ streamPrefixes: ['a-'] }, { streamPrefixes: ['b-'] }])).toEqual({ streamPrefixes: ['a-', 'b-'] });
    expect(unionOf([{ eventTypes: ['A'] }, { eventTypes: ['B'], streamPrefixes: ['b-'] }])).toEqual({ eventTypes: ['A', 'B'] });
    expect(unionOf([{ streamPrefixes: ['a-'] }, { eventTypes: ['B'], streamPrefixes: ['b-'] }])).toEqual({ streamPrefixes: ['a-', 'b-'] });
    expect(unionOf([{ eventTypes: ['A'], streamPrefixes: ['a-'] }])).toEqual({ eventTypes: ['A'] });
    expect(unionOf([{ eventTypes: ['A'] }, { streamPrefixes: ['b-'] }])).toBeUndefined();
    expect(unionOf([{ eventTypes: ['A'] }, {}])).toBeUndefined();
  });

  it('reads a type without its data only when every filter that may take it reads it without', () => {
    expect(unionOf([{ eventTypes: ['A', 'R'], withoutData: ['R'] }, { eventTypes: ['B'] }])).toEqual({ eventTypes: ['A', 'R', 'B'], withoutData: ['R'] });
    expect(unionOf([{ eventTypes: ['A', 'R'], withoutData: ['R'] }, { eventTypes: ['R'] }])).toEqual({ eventTypes: ['A', 'R'] });
    expect(unionOf([{ eventTypes: ['R'], withoutData: ['R'] }, { eventTypes: ['R'], withoutData: ['R'] }])).toEqual({ eventTypes: ['R'], withoutData: ['R'] });
    // A filter of prefixes alone may take any type.
    expect(unionOf([{ streamPrefixes: ['a-'], withoutData: ['R'] }, { streamPrefixes: ['b-'] }])).toEqual({ streamPrefixes: ['a-', 'b-'] });
    expect(unionOf([{ streamPrefixes: ['a-'], withoutData: ['R'] }, { streamPrefixes: ['b-'], withoutData: ['R'] }])).toEqual({ streamPrefixes: ['a-', 'b-'], withoutData: ['R'] });
  });

  it('reads a type without its metadata only when every filter that may take it reads it without, whatever it says of the data', () => {
    expect(unionOf([{ eventTypes: ['A', 'R'], withoutMetadata: ['R'] }, { eventTypes: ['B'] }])).toEqual({ eventTypes: ['A', 'R', 'B'], withoutMetadata: ['R'] });
    expect(unionOf([{ eventTypes: ['A', 'R'], withoutMetadata: ['R'] }, { eventTypes: ['R'], withoutData: ['R'] }])).toEqual({ eventTypes: ['A', 'R'] });
    expect(unionOf([{ eventTypes: ['R', 'S'], withoutData: ['R'], withoutMetadata: ['R', 'S'] }, { eventTypes: ['S'] }])).toEqual({ eventTypes: ['R', 'S'], withoutData: ['R'], withoutMetadata: ['R'] });
    expect(unionOf([{ streamPrefixes: ['a-'], withoutMetadata: ['R'] }, { streamPrefixes: ['b-'] }])).toEqual({ streamPrefixes: ['a-', 'b-'] });
    expect(unionOf([{ streamPrefixes: ['a-'], withoutMetadata: ['R'] }, { streamPrefixes: ['b-'], withoutMetadata: ['R'] }])).toEqual({ streamPrefixes: ['a-', 'b-'], withoutMetadata: ['R'] });
  });
});
