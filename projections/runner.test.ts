// A projection runner takes the store's events in small batches, so that each batch's events die
// young, yet while it is behind the head holds the documents they touch across batches and writes
// them only when its bounds say (documents held, time since its last write), when a reader waits for a
// position a batch has passed, and at once when a batch reaches the head; a read store lost in between
// is followed again from the last write.
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SqliteEventStore, StoreUnavailableError, type EventData, type GlobalPosition, type SubscriptionBatch } from '../eventstore/index.js';
import { SqliteReadStore, type ReadStore } from '../readstore/index.js';
import { EventFanOut, READ_EVENTS, type Follow } from './fan-out.js';
import type { AnyProjection } from './projection.js';
import { checkpointOf, collectionOf, keepsWritten, ProjectionRunner, writeDue, type Held, type HoldBounds } from './runner.js';

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

/**
 * The same batches, on a clock that moves one second as each is handed out: `hold`'s time bound counts
 * batches, with no sleeping. `during` runs before the batch of that number (1 for the first) is handed out.
 */
function onAClock(bounds: { documents?: number; ms?: number }, during: (batch: number) => void = () => {}): { follow: Follow; hold: HoldBounds } {
  let now = 0;
  const follow: Follow = (after, options) => {
    const inner = inBatchesOfThree(after, options);
    async function* batches(): AsyncGenerator<SubscriptionBatch> {
      let handed = 0;
      for await (const batch of inner) {
        now += 1_000;
        during(++handed);
        yield batch;
      }
    }
    const iterator = batches();
    return { [Symbol.asyncIterator]: () => iterator, close: async () => void (await iterator.return(undefined)) };
  };
  // No processors here (headGap aside), and no look again while the batches come without a pause.
  return { follow, hold: { documents: bounds.documents ?? Number.POSITIVE_INFINITY, ms: bounds.ms ?? Number.POSITIVE_INFINITY, headGap: 10, recheckMs: 60_000, now: () => now } };
}

/** Written after the 10th batch, the 20th, and at the head: as the runner wrote every ten batches before it held documents. */
const everyTenSeconds = () => onAClock({ ms: 10_000 });

/** The read store, its writes counted, failing the ones `fail` picks as a lost connection would; the ids its documents were read by. */
function counting(fail: (write: number) => boolean = () => false): { store: ReadStore; writes: () => number; read: string[] } {
  let writes = 0;
  const read: string[] = [];
  const write: ReadStore['write'] = async (documents, checkpoints) => {
    writes++;
    if (fail(writes)) throw new StoreUnavailableError('read store connection lost', { cause: new Error('ECONNRESET') });
    return reads.write(documents, checkpoints);
  };
  const getMany: ReadStore['getMany'] = async (collection, ids) => {
    read.push(...ids);
    return reads.getMany(collection, ids);
  };
  const store = new Proxy(reads, {
    get: (target, property, receiver) => {
      if (property === 'write') return write;
      if (property === 'getMany') return getMany;
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store, writes: () => writes, read };
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
  it('holds what it projects across every batch behind the head, within its bounds, and writes it once when a batch reaches the head', async () => {
    const { store, writes } = counting();
    const written: number[] = [];
    const runner = new ProjectionRunner(events, store, tally, 1, logger, (position) => written.push(position), undefined, inBatchesOfThree);
    await runner.run();
    // 25 batches behind the head, then the empty one at it: one write, of the whole store.
    expect(writes()).toBe(1);
    expect(written).toEqual([EVENTS]);
    expect(runner.currentPosition).toBe(EVENTS);
    expect(await reads.readCheckpoint(runner.checkpointName)).toBe(EVENTS);
    expect(await documents()).toEqual(expected());
  });

  it('writes what it holds once it holds the bound of documents', async () => {
    const { store, writes } = counting();
    const written: number[] = [];
    const { follow, hold } = onAClock({ documents: STREAMS });
    const runner = new ProjectionRunner(events, store, tally, 1, logger, (position) => written.push(position), undefined, follow, hold);
    await runner.run();
    // Three batches of three events bring all seven streams' documents in: written every third batch, then at the head.
    expect(written).toEqual([9, 18, 27, 36, 45, 54, 63, 72, EVENTS]);
    expect(writes()).toBe(9);
    expect(await documents()).toEqual(expected());
  });

  it('writes what it holds once the time bound has passed since its last write, and keeps what it wrote behind the head for the batches after it', async () => {
    const { store, writes, read } = counting();
    const written: number[] = [];
    const { follow, hold } = onAClock({ ms: 4_000 });
    const runner = new ProjectionRunner(events, store, tally, 1, logger, (position) => written.push(position), undefined, follow, hold);
    await runner.run();
    // A second a batch: every fourth batch (twelve events), then at the head.
    expect(written).toEqual([12, 24, 36, 48, 60, 72, EVENTS]);
    expect(writes()).toBe(7);
    // Seven streams, each read once: after each write the documents were found as written, not read again.
    expect(read.toSorted()).toEqual(Array.from({ length: STREAMS }, (_, i) => `s-${i}`));
    expect(await documents()).toEqual(expected());
  });

  it('lets go of what it wrote once it holds the bound of documents, and reads them again', async () => {
    const { store, read } = counting();
    const { follow, hold } = onAClock({ documents: STREAMS });
    await new ProjectionRunner(events, store, tally, 1, logger, undefined, undefined, follow, hold).run();
    // Written every third batch with all seven held (the bound): each write let them go, so each stream was read nine times over.
    expect(read.length).toBeGreaterThan(STREAMS * 8);
    expect(await documents()).toEqual(expected());
  });

  it('writes at once the batch that passes a position a reader waits for', async () => {
    const { store, writes } = counting();
    const written: number[] = [];
    let runner: ProjectionRunner | null = null;
    // A reader asks for position 40 as the fifth batch comes (the runner is at 0, holding 12 events' documents).
    const { follow, hold } = onAClock({}, (batch) => batch === 5 && runner!.awaitPosition(40));
    runner = new ProjectionRunner(events, store, tally, 1, logger, (position) => written.push(position), undefined, follow, hold);
    await runner.run();
    expect(written).toEqual([42, EVENTS]);
    expect(writes()).toBe(2);
    expect(await documents()).toEqual(expected());
  });

  it('takes in the positions readers wait for through its hold, at each batch, where no event-loop turn would deliver them', async () => {
    const { store, writes } = counting();
    const written: number[] = [];
    let batches = 0;
    let runner: ProjectionRunner | null = null;
    const { follow, hold } = onAClock({}, () => batches++);
    // As the projections thread's port: a wait that came in while the fifth batch was read is heard at its decision.
    let heard = 0;
    const hear = () => ++heard === 5 && runner!.awaitPosition(40);
    runner = new ProjectionRunner(events, store, tally, 1, logger, (position) => written.push(position), undefined, follow, { ...hold, hear });
    await runner.run();
    expect(written).toEqual([42, EVENTS]);
    expect(writes()).toBe(2);
    // At every batch, the one at the head too: what waits on the port never piles up while the runner is live.
    expect(heard).toBe(batches);
    expect(batches).toBe(26);
  });

  it('claims nothing it holds unwritten when stopped, and a runner after it projects the held events again', async () => {
    const { store, writes } = counting();
    let runner: ProjectionRunner | null = null;
    const { follow, hold } = onAClock({ documents: STREAMS }, (batch) => batch === 8 && void runner!.stop());
    runner = new ProjectionRunner(events, store, tally, 1, logger, undefined, undefined, follow, hold);
    await runner.run();
    // Written after the 3rd and 6th batches; the 7th is held, the 8th not taken: position and checkpoint stay at the 6th.
    expect(writes()).toBe(2);
    expect(runner.currentPosition).toBe(18);
    expect(await reads.readCheckpoint(runner.checkpointName)).toBe(18);
    const after = new ProjectionRunner(events, store, tally, 1, logger, undefined, undefined, inBatchesOfThree);
    await after.run();
    expect(await documents()).toEqual(expected());
  });

  it('follows again from its last write when the read store is lost between writes, and ends with the same read model', async () => {
    // The second write (after the 20th batch) is lost once: the ten batches before it are taken again.
    const { store, writes } = counting((write) => write === 2);
    const { follow, hold } = everyTenSeconds();
    const runner = new ProjectionRunner(events, store, tally, 1, logger, undefined, undefined, follow, hold);
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
    const { follow, hold } = everyTenSeconds();
    await new ProjectionRunner(events, store, byLast, 1, logger, undefined, undefined, follow, hold).run();
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

describe('keepsWritten', () => {
  const bounds = { documents: 1_000, headGap: 20_000 };
  it('keeps what was written while catching up, behind the head or at it with the processors far behind, within the bound of documents', () => {
    expect(keepsWritten({ documents: 10, caughtUp: false, processorsGap: undefined }, bounds)).toBe(true);
    expect(keepsWritten({ documents: 10, caughtUp: false, processorsGap: 0 }, bounds)).toBe(true);
    expect(keepsWritten({ documents: 10, caughtUp: true, processorsGap: 20_000 }, bounds)).toBe(true);
    expect(keepsWritten({ documents: 1_000, caughtUp: false, processorsGap: undefined }, bounds)).toBe(false);
    expect(keepsWritten({ documents: 1_000, caughtUp: true, processorsGap: 20_000 }, bounds)).toBe(false);
  });
  it('keeps nothing written at the head where no processors run here, or they are near it', () => {
    expect(keepsWritten({ documents: 10, caughtUp: true, processorsGap: undefined }, bounds)).toBe(false);
    expect(keepsWritten({ documents: 10, caughtUp: true, processorsGap: 19_999 }, bounds)).toBe(false);
    expect(keepsWritten({ documents: 10, caughtUp: true, processorsGap: 20_000 }, { ...bounds, headGap: 0 })).toBe(false);
  });
});

describe('writeDue', () => {
  const bounds = { documents: 1_000, ms: 10_000, headGap: 20_000 };
  const behind: Held = { documents: 10, sinceWrite: 0, scannedTo: 100_000, caughtUp: false, awaited: undefined, heldAtHead: false, processorsGap: undefined };
  const atHead: Held = { ...behind, caughtUp: true };

  it('holds behind the head within its bounds, and writes once a bound or a waiting reader says', () => {
    expect(writeDue(behind, bounds)).toBe(false);
    expect(writeDue({ ...behind, documents: 1_000 }, bounds)).toBe(true);
    expect(writeDue({ ...behind, sinceWrite: 10_000 }, bounds)).toBe(true);
    expect(writeDue({ ...behind, awaited: 100_001 }, bounds)).toBe(false);
    expect(writeDue({ ...behind, awaited: 100_000 }, bounds)).toBe(true);
    // The processors at the head, the projections alone far behind (a restart): held, as before.
    expect(writeDue({ ...behind, processorsGap: 0 }, bounds)).toBe(false);
  });

  it('writes at the head at once where no processors run here, or they are near the head', () => {
    expect(writeDue(atHead, bounds)).toBe(true);
    expect(writeDue({ ...atHead, processorsGap: 0 }, bounds)).toBe(true);
    expect(writeDue({ ...atHead, processorsGap: 19_999 }, bounds)).toBe(true);
  });

  it("holds at the head while this process's processors are at least headGap events behind it, within the same bounds", () => {
    const farBehind: Held = { ...atHead, processorsGap: 20_000 };
    expect(writeDue(farBehind, bounds)).toBe(false);
    expect(writeDue({ ...farBehind, processorsGap: 500_000 }, bounds)).toBe(false);
    expect(writeDue({ ...farBehind, documents: 1_000 }, bounds)).toBe(true);
    expect(writeDue({ ...farBehind, sinceWrite: 10_000 }, bounds)).toBe(true);
    expect(writeDue({ ...farBehind, awaited: 99_000 }, bounds)).toBe(true);
    // 0 turns the hold at the head off.
    expect(writeDue(farBehind, { ...bounds, headGap: 0 })).toBe(true);
  });

  it('writes what it held at the head once the processors come near the head, behind it or not', () => {
    expect(writeDue({ ...behind, heldAtHead: true, processorsGap: 30_000 }, bounds)).toBe(false);
    expect(writeDue({ ...behind, heldAtHead: true, processorsGap: 19_999 }, bounds)).toBe(true);
  });
});

describe('ProjectionRunner at the head while the processors are far behind', () => {
  /**
   * The store's events in batches of three, as projections following the processors through a feed see
   * them: at the head every `every` batches (the processors appending as they go), then still once all
   * are handed out, until closed. `during` runs before the batch of that number (1 for the first) is handed out.
   */
  /** Batches of three of the store's 75 events, and the empty one at the head. */
  const BATCHES = EVENTS / 3 + 1;
  /** The ids the last runner `following` made read from the store. */
  let readIds: string[] = [];

  const reachingTheHead =
    (every: number, during: (batch: number) => void = () => {}): Follow =>
    (after) => {
      let release: () => void = () => {};
      const still = new Promise<void>((resolve) => (release = resolve));
      async function* batches(): AsyncGenerator<SubscriptionBatch> {
        let position: GlobalPosition = after;
        for (let n = 1; ; n++) {
          const page = await events.readAll(position, { maxCount: 3, filter: tally.filter });
          position = page.scannedTo;
          during(n);
          yield { events: page.events, scannedTo: position, caughtUp: page.endOfStore || n % every === 0 };
          if (page.endOfStore) break;
        }
        await still;
      }
      const iterator = batches();
      return {
        [Symbol.asyncIterator]: () => iterator,
        close: async () => {
          release();
          await iterator.return(undefined);
        },
      };
    };

  /** A runner at the head every fifth batch, its processors `processors()` events behind the head, on a clock the test moves. */
  function following(processors: () => number | undefined, options: { hear?: () => void; during?: (batch: number) => void; fail?: (write: number) => boolean } = {}) {
    const { store, writes, read } = counting(options.fail);
    readIds = read;
    const written: number[] = [];
    const clock = { now: 0 };
    // How many batches were handed out, and how often the runner heard its port (at each batch's decision, and at each look again).
    let handed = 0;
    let heard = 0;
    const hear = () => {
      heard++;
      options.hear?.();
    };
    const during = (batch: number) => {
      handed = batch;
      options.during?.(batch);
    };
    const hold: HoldBounds = { documents: Number.POSITIVE_INFINITY, ms: 10_000, headGap: 10, recheckMs: 2, now: () => clock.now, processorsGap: processors, hear };
    const runner = new ProjectionRunner(events, store, tally, 1, logger, (position) => written.push(position), undefined, reachingTheHead(5, during), hold);
    /**
     * Until every batch was handed out, the last decided, and the runner looked again at what it holds with
     * no batch coming (two hearings after the last batch was handed out): it holds at the still head. No sleep.
     */
    const stillAtTheHead = async () => {
      await vi.waitFor(() => expect(handed).toBe(BATCHES), { timeout: 5_000, interval: 2 });
      const since = heard;
      await vi.waitFor(() => expect(heard).toBeGreaterThanOrEqual(since + 2), { timeout: 5_000, interval: 2 });
    };
    return { runner, running: runner.run(), written, writes, clock, stillAtTheHead };
  }

  it('writes each batch at the head at once where the processors keep up, as a live system does', async () => {
    const { runner, running, written, writes } = following(() => 3);
    try {
      await vi.waitFor(() => expect(written).toEqual([15, 30, 45, 60, 75, 75]), { timeout: 5_000, interval: 5 });
      expect(writes()).toBe(5);
    } finally {
      await runner.stop();
      await running;
    }
    expect(await documents()).toEqual(expected());
  });

  it('reads its documents from the store again after each write at the head where the processors keep up', async () => {
    const { runner, running, written } = following(() => 3);
    try {
      await vi.waitFor(() => expect(written).toEqual([15, 30, 45, 60, 75, 75]), { timeout: 5_000, interval: 5 });
      // Each of the five writes at the head let go of the seven documents: read again in the batches after it.
      expect(readIds.length).toBeGreaterThanOrEqual(STREAMS * 5);
    } finally {
      await runner.stop();
      await running;
    }
  });

  it('keeps what it wrote at the head while they are far behind, when its time bound forced the write', async () => {
    let processors = 50;
    // The time bound passes as batch 7 comes: written there, at the held head (batch 5) and behind it; kept.
    const { runner, running, written, clock, stillAtTheHead } = following(() => processors, { during: (batch) => batch === 7 && (clock.now = 10_000) });
    try {
      await stillAtTheHead();
      expect(written).toEqual([21]);
      processors = 5;
      await vi.waitFor(() => expect(written).toEqual([21, EVENTS]), { timeout: 5_000, interval: 5 });
      expect(readIds.toSorted()).toEqual(Array.from({ length: STREAMS }, (_, i) => `s-${i}`));
    } finally {
      await runner.stop();
      await running;
    }
    expect(await documents()).toEqual(expected());
  });

  it('writes each batch at the head at once where no processors run in the process', async () => {
    const { runner, running, written } = following(() => undefined);
    try {
      await vi.waitFor(() => expect(written).toEqual([15, 30, 45, 60, 75, 75]), { timeout: 5_000, interval: 5 });
    } finally {
      await runner.stop();
      await running;
    }
  });

  it('holds at the head while they are far behind, and writes what it holds once they come near it, with no batch coming', async () => {
    let processors = 50;
    const { runner, running, written, writes, stillAtTheHead } = following(() => processors);
    try {
      // Every batch taken, five of them at the head, the store still: nothing written, nothing claimed.
      await stillAtTheHead();
      expect(written).toEqual([]);
      expect(await reads.readCheckpoint(runner.checkpointName)).toBeNull();
      processors = 5;
      await vi.waitFor(() => expect(written).toEqual([EVENTS]), { timeout: 5_000, interval: 5 });
      expect(writes()).toBe(1);
      expect(await reads.readCheckpoint(runner.checkpointName)).toBe(EVENTS);
      expect(await documents()).toEqual(expected());
    } finally {
      await runner.stop();
      await running;
    }
  });

  it('writes what it held at the head as soon as they come near the head, at a batch behind it', async () => {
    let processors = 50;
    // Held at the head at batch 5; the processors near the head as batch 7 comes (behind the head): written there.
    const { runner, running, written } = following(() => processors, { during: (batch) => batch === 7 && (processors = 5) });
    try {
      await vi.waitFor(() => expect(written).toEqual([21, 30, 45, 60, 75, 75]), { timeout: 5_000, interval: 5 });
    } finally {
      await runner.stop();
      await running;
    }
  });

  it('writes what it holds at the head once its time bound has passed, or a reader waits, with no batch coming', async () => {
    const { runner, running, written, clock, stillAtTheHead } = following(() => 50);
    try {
      await stillAtTheHead();
      expect(written).toEqual([]);
      clock.now = 10_000;
      await vi.waitFor(() => expect(written).toEqual([EVENTS]), { timeout: 5_000, interval: 5 });
    } finally {
      await runner.stop();
      await running;
    }
    await reads.dropCollection(collectionOf('tally', 1));
    await reads.deleteCheckpoint(checkpointOf('tally', 1));
    let waiting: ProjectionRunner | null = null;
    let heard = 0;
    // A reader's wait comes through the port (hear), heard while nothing else comes.
    const waits = following(() => 50, { hear: () => ++heard === 30 && waiting!.awaitPosition(40) });
    waiting = waits.runner;
    try {
      await vi.waitFor(() => expect(waits.written).toEqual([EVENTS]), { timeout: 5_000, interval: 5 });
      expect(heard).toBeGreaterThanOrEqual(30);
    } finally {
      await waits.runner.stop();
      await waits.running;
    }
  });

  it('follows again from its last write when the write of what it held at the head, with no batch coming, is lost', async () => {
    let processors = 50;
    const { runner, running, written, writes, stillAtTheHead } = following(() => processors, { fail: (write) => write === 1 });
    try {
      await stillAtTheHead();
      expect(written).toEqual([]);
      processors = 5;
      // The first write is lost; followed again from 0, with the processors now near the head, each batch at it is written.
      await vi.waitFor(() => expect(written.at(-1)).toBe(EVENTS), { timeout: 5_000, interval: 5 });
      expect(writes()).toBeGreaterThan(1);
      expect(await reads.readCheckpoint(runner.checkpointName)).toBe(EVENTS);
      expect(await documents()).toEqual(expected());
    } finally {
      await runner.stop();
      await running;
    }
  });

  it('claims nothing it held at the head when stopped', async () => {
    const { runner, running, written, writes, stillAtTheHead } = following(() => 50);
    await stillAtTheHead();
    await runner.stop();
    await running;
    expect(written).toEqual([]);
    expect(writes()).toBe(0);
    expect(runner.currentPosition).toBe(0);
    expect(await reads.readCheckpoint(runner.checkpointName)).toBeNull();
  });
});
