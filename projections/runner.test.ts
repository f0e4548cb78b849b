// A projection runner takes the store's events in small batches, so that each batch's events die
// young, yet writes its read model only every few batches while it is behind the head, and at once
// when a batch reaches it; a read store lost in between is followed again from the last write.
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SqliteEventStore, StoreUnavailableError, type EventData, type GlobalPosition, type SubscriptionBatch } from '../eventstore/index.js';
import { SqliteReadStore, type ReadStore } from '../readstore/index.js';
import { EventFanOut, READ_EVENTS, type Follow } from './fan-out.js';
import type { AnyProjection } from './projection.js';
import { checkpointOf, collectionOf, ProjectionRunner } from './runner.js';

const logger = pino({ level: 'silent' });

/** Counts the events of each stream, and which was the last. */
const tally: AnyProjection = {
  name: 'tally',
  indexes: [],
  filter: { eventTypes: ['Counted'] },
  keysOf: (event) => [event.stream],
  apply: (doc, event) => ({ count: ((doc?.count as number | undefined) ?? 0) + 1, last: (event.data as { n: number }).n }),
};

const STREAMS = 7;
const EVENTS = 75;

let events: SqliteEventStore;
let reads: SqliteReadStore;

beforeEach(async () => {
  events = SqliteEventStore.open(':memory:', { pollIntervalMs: 5 });
  reads = SqliteReadStore.open(':memory:');
  for (let n = 0; n < EVENTS; n++) {
    const event: EventData = { id: `id-${n}`, type: 'Counted', data: { n }, metadata: { correlationId: `REF-${n}` } };
    await events.append(`s-${n % STREAMS}`, [event], 'any');
  }
});
afterEach(async () => {
  await reads.close();
  await events.close();
});

/**
 * The store's events in batches of three, as a follower far behind sees them: 25 batches, then an empty
 * one at the head. Ends there (a live subscription would wait for more).
 */
const inBatchesOfThree: Follow = (after) => {
  async function* batches(): AsyncGenerator<SubscriptionBatch> {
    let position: GlobalPosition = after;
    for (;;) {
      const page = await events.readAll(position, { maxCount: 3, filter: tally.filter });
      position = page.scannedTo;
      yield { events: page.events, scannedTo: position, caughtUp: page.endOfStore };
      if (page.endOfStore) return;
    }
  }
  const iterator = batches();
  return { [Symbol.asyncIterator]: () => iterator, close: async () => void (await iterator.return(undefined)) };
};

/** The read store, its writes counted, failing the ones `fail` picks as a lost connection would. */
function counting(fail: (write: number) => boolean = () => false): { store: ReadStore; writes: () => number } {
  let writes = 0;
  const write: ReadStore['write'] = async (documents, checkpoints) => {
    writes++;
    if (fail(writes)) throw new StoreUnavailableError('read store connection lost', { cause: new Error('ECONNRESET') });
    return reads.write(documents, checkpoints);
  };
  const store = new Proxy(reads, {
    get: (target, property, receiver) => {
      if (property === 'write') return write;
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store, writes: () => writes };
}

async function documents(): Promise<Map<string, unknown>> {
  const ids = Array.from({ length: STREAMS }, (_, i) => `s-${i}`);
  return reads.getMany(collectionOf('tally', 1), ids);
}

/** What every stream's document must say after all EVENTS events. */
function expected(): Map<string, unknown> {
  const docs = new Map<string, unknown>();
  for (let n = 0; n < EVENTS; n++) {
    const id = `s-${n % STREAMS}`;
    const before = docs.get(id) as { count: number } | undefined;
    docs.set(id, { count: (before?.count ?? 0) + 1, last: n, asOf: n + 1 });
  }
  return docs;
}

describe('ProjectionRunner', () => {
  it('writes every ten batches while behind the head, and at once when a batch reaches it', async () => {
    const { store, writes } = counting();
    const runner = new ProjectionRunner(events, store, tally, 1, logger, undefined, undefined, inBatchesOfThree);
    await runner.run();
    // Written after the 10th batch, the 20th, and the empty one at the head.
    expect(writes()).toBe(3);
    expect(runner.currentPosition).toBe(EVENTS);
    expect(await reads.readCheckpoint(runner.checkpointName)).toBe(EVENTS);
    expect(await documents()).toEqual(expected());
  });

  it('follows again from its last write when the read store is lost between writes, and ends with the same read model', async () => {
    // The second write (after the 20th batch) is lost once: the ten batches before it are taken again.
    const { store, writes } = counting((write) => write === 2);
    const runner = new ProjectionRunner(events, store, tally, 1, logger, undefined, undefined, inBatchesOfThree);
    await runner.run();
    expect(writes()).toBe(4);
    expect(await reads.readCheckpoint(runner.checkpointName)).toBe(EVENTS);
    expect(await documents()).toEqual(expected());
  });
});

describe('ProjectionRunner: what its writes say they replace', () => {
  it('tells the read store, with each document, the indexed fields it held when the runner read it (null when none)', async () => {
    const byLast: AnyProjection = { ...tally, indexes: ['last'] };
    const befores: Array<[string, unknown]> = [];
    const store = new Proxy(reads, {
      get: (target, property, receiver) => {
        if (property === 'write') {
          return (documents: Parameters<ReadStore['write']>[0], checkpoints: Parameters<ReadStore['write']>[1]) => {
            for (const write of documents) if (write.kind === 'put' && write.collection === collectionOf('tally', 1)) befores.push([write.id, write.before]);
            return reads.write(documents, checkpoints);
          };
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    await new ProjectionRunner(events, store, byLast, 1, logger, undefined, undefined, inBatchesOfThree).run();
    // Three writes (after the 10th batch, the 20th, at the head): s-0 was last written by event 28 (n = 28), then by 56.
    const s0 = befores.filter(([id]) => id === 's-0').map(([, before]) => before);
    expect(s0).toEqual([null, { last: 28 }, { last: 56 }]);
    expect(await documents()).toEqual(expected());
  });
});

describe('ProjectionRunner on a fan-out', () => {
  it('writes a catch-up whose last batch, read alone, is full and ends at the head, once it joins a shared read already at the head', async () => {
    // Twice READ_EVENTS events in all: a runner from 0 reads them alone as two full batches, the second ending at the head.
    const head = 2 * READ_EVENTS;
    for (let n = EVENTS; n < head; n++) {
      await events.append(`s-${n % STREAMS}`, [{ id: `id-${n}`, type: 'Counted', data: { n }, metadata: { correlationId: `REF-${n}` } }], 'any');
    }
    const fanOut = new EventFanOut(events, [tally.filter], { batchSize: READ_EVENTS });
    // A generation at the head starts the shared read there, which says so and then waits for events.
    await reads.write([], [{ name: checkpointOf('tally', 2), position: head }]);
    let atHead: () => void = () => {};
    const announced = new Promise<void>((resolve) => (atHead = resolve));
    const ahead = new ProjectionRunner(events, reads, tally, 2, logger, (_, caughtUp) => caughtUp && atHead(), undefined, fanOut.subscribe);
    const behind = new ProjectionRunner(events, reads, tally, 1, logger, undefined, undefined, fanOut.subscribe);
    const running = [ahead.run()];
    try {
      await announced;
      running.push(behind.run());
      await vi.waitFor(() => expect(behind.currentPosition).toBe(head), { timeout: 5_000, interval: 20 });
      expect(await reads.readCheckpoint(behind.checkpointName)).toBe(head);
    } finally {
      await ahead.stop();
      await behind.stop();
      await fanOut.close();
      await Promise.all(running);
    }
  });
});

describe('ProjectionRunner: documents a projection stamps itself', () => {
  it('keeps what apply returned as it is when the projection says it holds asOf already, and copies it to add asOf otherwise', async () => {
    for (const stampsAsOf of [true, false]) {
      const made = new Set<unknown>();
      const projection: AnyProjection = {
        ...tally,
        stampsAsOf,
        apply: (doc, event) => {
          const next = { count: ((doc?.count as number | undefined) ?? 0) + 1, last: (event.data as { n: number }).n, ...(stampsAsOf && { asOf: event.position }) };
          made.add(next);
          return next;
        },
      };
      const written: unknown[] = [];
      const store = new Proxy(reads, {
        get: (target, property, receiver) => {
          if (property === 'write') {
            return (documents: Parameters<ReadStore['write']>[0], checkpoints: Parameters<ReadStore['write']>[1]) => {
              for (const write of documents) if (write.kind === 'put' && write.collection === collectionOf('tally', 1)) written.push(write.doc);
              return reads.write(documents, checkpoints);
            };
          }
          const value: unknown = Reflect.get(target, property, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      await reads.dropCollection(collectionOf('tally', 1));
      await reads.deleteCheckpoint(checkpointOf('tally', 1));
      await new ProjectionRunner(events, store, projection, 1, logger, undefined, undefined, inBatchesOfThree).run();
      expect(written.length).toBeGreaterThan(0);
      expect(written.every((doc) => made.has(doc))).toBe(stampsAsOf);
      expect(await documents()).toEqual(expected());
    }
  });
});
