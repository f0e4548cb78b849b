// A processor waits out another process's long hold on the store's write lock instead of failing.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { VersionRecord } from '../domain/index.js';
import { SqliteEventStore, StoreBusyError, StoreUnavailableError, type EventData } from '../eventstore/index.js';
import { intakeAppend, RecordWriter } from '../ingestion/index.js';
import { recordRouting, SLOT_HANDED_OVER, type SlotHandedOver, type SlotRouting } from '../slots/index.js';
import { tempDir, terms } from '../tests/support/feed.js';
import { ProcessorRunner, type ProcessorDefinition } from './processor.js';
import { tradeProcessor } from './trade-processor.js';

const opened: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const resource of opened.splice(0).reverse()) await resource.close();
});

async function receivedTrade(store: SqliteEventStore, tradeRef: string, sourceSequence: number): Promise<void> {
  const record: VersionRecord = { type: 'TRD', tradeRef, version: 1, terms: terms() };
  await new RecordWriter(store).write([{ kind: 'record', source: 'CORE', file: 'CORE_LOCK.cx1', line: sourceSequence, raw: `line ${sourceSequence}`, sourceSequence, record }]);
}

const until = async (what: string, condition: () => Promise<boolean>, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe('processor runner and the write lock', () => {
  it('goes on once another process lets go of the write lock, however long it held it', async () => {
    const path = join(tempDir('kepler-lock-'), 'events.db');
    const store = SqliteEventStore.open(path, { busyTimeoutMs: 50 });
    opened.push(store);
    await receivedTrade(store, 'LOCK-1', 1);

    // Another process takes the write lock and keeps it, far beyond the store's busy timeout.
    const other = new Database(path);
    opened.push(other);
    other.exec('BEGIN IMMEDIATE');
    await expect(receivedTrade(store, 'LOCK-2', 2)).rejects.toBeInstanceOf(StoreBusyError);

    const runner = new ProcessorRunner(store, tradeProcessor, pino({ level: 'silent' }));
    let failed: unknown = null;
    const running = runner.run().catch((error: unknown) => (failed = error));
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(failed).toBeNull();
    expect(await store.readStream('trade-LOCK-1')).toEqual([]);

    other.exec('ROLLBACK');
    await until('the trade to be applied', async () => (await store.readStream('trade-LOCK-1')).length > 0);
    expect((await store.readStream('trade-LOCK-1')).map((e) => e.type)).toEqual(['VersionApplied']);
    await runner.stop();
    await running;
    expect(failed).toBeNull();
  });
});

describe('processor runner and a lost connection', () => {
  it('decides a batch again when the outcome of an append is unknown, and appends nothing twice', async () => {
    const store = SqliteEventStore.open(join(tempDir('kepler-lost-'), 'events.db'));
    opened.push(store);
    await receivedTrade(store, 'LOST-1', 1);
    // The connection is lost after the server committed: the processor cannot know the append went through.
    // (A stand-in for the network: the store underneath is real.)
    let lost = 0;
    const flaky = Object.create(store, {
      appendMany: {
        value: async (...args: Parameters<SqliteEventStore['appendMany']>) => {
          const outcomes = await store.appendMany(...args);
          if (lost++ === 0) throw new StoreUnavailableError('PostgreSQL at test did not append: Connection terminated unexpectedly', { cause: null });
          return outcomes;
        },
      },
    }) as SqliteEventStore;
    const runner = new ProcessorRunner(flaky, tradeProcessor, pino({ level: 'silent' }));
    const running = runner.run();
    await until('the processor to catch up', async () => (await store.readCheckpoint(tradeProcessor.name)) !== null && lost > 1);
    await runner.stop();
    await running;
    expect((await store.readStream('trade-LOST-1')).map((e) => e.type)).toEqual(['VersionApplied']);
  });
});

describe('processor runner and a hand-over in the batch it reads', () => {
  // Seen in the cut-over under load: an amendment arrives while blue is drained, and the
  // hand-over to green commits just after it, so green reads both in one batch. Green had
  // the trade in memory as blue's: it passed the amendment over (blue's to decide), and at
  // the hand-over it must not trust that memory, or the amendment is decided by nobody
  // (blue, reading the stream now, sees green's).
  it('decides what came just before its stream was handed to its slot, from the same batch', async () => {
    const store = SqliteEventStore.open(join(tempDir('kepler-handover-'), 'events.db'));
    opened.push(store);
    const silent = pino({ level: 'silent' });
    const routing = (live: 'blue' | 'green'): SlotRouting => ({ live, feed: [live], events: [live], publishing: null });
    await recordRouting(store, routing('blue'), { expectedRevision: null, cutoverId: null, step: null });
    await receivedTrade(store, 'HO-1', 1);
    const blue = new ProcessorRunner(store, tradeProcessor, silent, { slot: 'blue' });
    const blueRunning = blue.run();
    await until('blue to apply the trade', async () => (await store.readStream('trade-HO-1')).some((e) => e.type === 'VersionApplied'));
    await blue.stop();
    await blueRunning;
    const blueProgress = (await store.readCheckpoint(blue.name))!;
    await recordRouting(store, routing('green'), { expectedRevision: 0, cutoverId: null, step: null });

    // Green follows, passes the trade over (blue's), and remembers it as blue's.
    const green = new ProcessorRunner(store, tradeProcessor, silent, { slot: 'green' });
    const greenRunning = green.run();
    const head = await store.headPosition();
    await until('green to catch up', async () => green.status.position >= head);

    const stream = await store.readStream('trade-HO-1');
    const handOver: SlotHandedOver = { type: SLOT_HANDED_OVER, tradeRef: 'HO-1', from: 'blue', to: 'green', reason: 'drained', since: blueProgress };
    await store.appendMany([
      intakeAppend({ kind: 'record', source: 'CORE', file: 'CORE_HO.cx1', line: 3, raw: 'line 3', sourceSequence: 2, record: { type: 'AMD', tradeRef: 'HO-1', version: 2, terms: terms({ quantity: 2 }) } }),
      { stream: 'trade-HO-1', expectedRevision: stream.at(-1)!.revision, events: [{ id: 'ho-1-handover', type: SLOT_HANDED_OVER, data: handOver, metadata: { correlationId: 'HO-1' } }] },
    ]);
    const end = await store.headPosition();
    await until('green to pass the hand-over', async () => green.status.position >= end);
    await green.stop();
    await greenRunning;

    const applied = (await store.readStream('trade-HO-1')).filter((e) => e.type === 'VersionApplied');
    expect(applied.map((e) => [(e.data as { version: number }).version, e.metadata.slot])).toEqual([
      [1, 'blue'],
      [2, 'green'],
    ]);
  });
});

describe('processor runner and the checkpoint of a batch that decided nothing', () => {
  // Seen on PostgreSQL in the crash test (with the processors on a shared read, which made it
  // frequent): the trailing write of an idle batch's checkpoint went out while a later batch's
  // append, which carries the same checkpoint, was waiting for the same group commit. That commit
  // wrote one checkpoint twice in one statement, failed, and `serve` stopped.
  it('never writes it beside an append that carries its checkpoint', async () => {
    const store = SqliteEventStore.open(join(tempDir('kepler-trailing-'), 'events.db'));
    opened.push(store);
    const routing: SlotRouting = { live: 'blue', feed: ['blue'], events: ['blue'], publishing: null };
    await recordRouting(store, routing, { expectedRevision: null, cutoverId: null, step: null });
    // A store whose appends of events take longer than the trailing write waits (a commit held up
    // by others), and which counts writes carrying this processor's checkpoint at the same time.
    let inFlight = 0;
    let together = 0;
    const slow = Object.create(store, {
      appendMany: {
        value: async (...args: Parameters<SqliteEventStore['appendMany']>) => {
          const mine = args[1]?.checkpoint?.name === tradeProcessor.name;
          if (mine && inFlight++ > 0) together++;
          try {
            if (args[0].length > 0) await new Promise((resolve) => setTimeout(resolve, 1500));
            return await store.appendMany(...args);
          } finally {
            if (mine) inFlight--;
          }
        },
      },
    }) as SqliteEventStore;
    const runner = new ProcessorRunner(slow, tradeProcessor, pino({ level: 'silent' }), { slot: 'blue' });
    const running = runner.run();
    const applied = (tradeRef: string) => async () => (await store.readStream(`trade-${tradeRef}`)).some((e) => e.type === 'VersionApplied');
    await receivedTrade(store, 'IDLE-1', 1);
    await until('the first trade', applied('IDLE-1'));
    // A batch that decides nothing, within a second of that append: its checkpoint waits for a trailing write.
    const { position } = await recordRouting(store, routing, { expectedRevision: 0, cutoverId: null, step: null });
    await until('the routing passed', async () => runner.status.position >= position);
    // A batch whose append is under way when the trailing write is due.
    await receivedTrade(store, 'IDLE-2', 2);
    await until('the second trade', applied('IDLE-2'));
    const head = await store.headPosition();
    await until('the checkpoint at the head', async () => ((await store.readCheckpoint(tradeProcessor.name)) ?? 0) >= head - 1);
    await runner.stop();
    await running;
    expect(together).toBe(0);
  });
});

describe('processor runner and the states it keeps', () => {
  // Each event decided made a new version of the stream's state at once, kept until the batch's
  // commit and then in the cache: in a catch-up nearly every one was promoted by the young
  // generation's collector and died old, most of them never read (a trade is decided once, and
  // its state leaves the cache before its next input, if any).
  it('evolves a state by what was decided on it only when its stream is decided on again, and decides the same', async () => {
    const store = SqliteEventStore.open(join(tempDir('kepler-lazy-'), 'events.db'));
    opened.push(store);
    const received = (tradeRef: string, sourceSequence: number, record: VersionRecord) =>
      new RecordWriter(store).write([{ kind: 'record', source: 'CORE', file: 'CORE_LAZY.cx1', line: sourceSequence, raw: `line ${sourceSequence}`, sourceSequence, record }]);
    let evolved = 0;
    const counting = { ...tradeProcessor, evolve: (...args: Parameters<typeof tradeProcessor.evolve>) => (evolved++, tradeProcessor.evolve(...args)) };
    // The second batch's append fails once as if another process held the write lock: the batch is
    // decided again on what the cache kept, which must not hold what the failed attempt decided.
    let appends = 0;
    const busyOnce = Object.create(store, {
      appendMany: {
        value: async (...args: Parameters<SqliteEventStore['appendMany']>) => {
          if (args[0].length > 0 && ++appends === 2) throw new StoreBusyError({ cause: null });
          return store.appendMany(...args);
        },
      },
    }) as SqliteEventStore;
    const runner = new ProcessorRunner(busyOnce, counting, pino({ level: 'silent' }));
    const running = runner.run();
    const caughtUp = async () => {
      const head = await store.headPosition();
      await until('the processor to catch up', async () => runner.status.position >= head);
    };

    for (const [i, tradeRef] of ['LAZY-1', 'LAZY-2', 'LAZY-3'].entries()) await received(tradeRef, i + 1, { type: 'TRD', tradeRef, version: 1, terms: terms() });
    await caughtUp();
    // Three trades decided, none of them evolved yet: nothing has needed their states.
    expect(evolved).toBe(0);

    // An amendment of one, the first version of another again with other content; the third is left alone.
    await received('LAZY-1', 4, { type: 'AMD', tradeRef: 'LAZY-1', version: 2, terms: terms({ quantity: 2 }) });
    await received('LAZY-2', 5, { type: 'TRD', tradeRef: 'LAZY-2', version: 1, terms: terms({ quantity: 3 }) });
    await caughtUp();
    await runner.stop();
    await running;

    const types = async (tradeRef: string) => (await store.readStream(`trade-${tradeRef}`)).map((e) => [e.type, (e.data as { version: number }).version]);
    expect(await types('LAZY-1')).toEqual([
      ['VersionApplied', 1],
      ['VersionApplied', 2],
    ]);
    expect(await types('LAZY-2')).toEqual([
      ['VersionApplied', 1],
      ['VersionConflictDetected', 1],
    ]);
    expect(await types('LAZY-3')).toEqual([['VersionApplied', 1]]);
    expect(appends).toBeGreaterThan(2);
    // The two trades decided again were evolved by their first version, once each and whatever the
    // failed attempt did; what was decided on them last is still to evolve.
    expect(evolved).toBe(2);
  });
});

describe('processor runner and the streams of a batch', () => {
  // A catch-up's batch loads thousands of streams it has not cached (a new trade's, nearly always empty):
  // a promise, a resolution and a reaction a stream cost more than the store's statements for them.
  it('loads the unseen streams of a batch with one readStreams call where the store has one, and decides the same as without', async () => {
    const decided = async (withReadStreams: boolean) => {
      const store = SqliteEventStore.open(join(tempDir('kepler-streams-'), 'events.db'));
      opened.push(store);
      const calls = { readStream: 0, readStreams: 0 };
      const counting = Object.create(store, {
        readStream: { value: (...args: Parameters<SqliteEventStore['readStream']>) => (calls.readStream++, store.readStream(...args)) },
        readStreams: { value: withReadStreams ? (streams: readonly string[]) => (calls.readStreams++, store.readStreams(streams)) : undefined },
      }) as SqliteEventStore;
      for (const [i, tradeRef] of ['ST-1', 'ST-2', 'ST-3'].entries()) await receivedTrade(store, tradeRef, i + 1);
      await new RecordWriter(store).write([
        { kind: 'record', source: 'CORE', file: 'CORE_LOCK.cx1', line: 4, raw: 'line 4', sourceSequence: 4, record: { type: 'AMD', tradeRef: 'ST-2', version: 2, terms: terms({ quantity: 2 }) } },
      ]);
      const runner = new ProcessorRunner(counting, tradeProcessor, pino({ level: 'silent' }));
      const running = runner.run();
      const head = await store.headPosition();
      await until('the processor to catch up', async () => runner.status.position >= head);
      await runner.stop();
      await running;
      const stored = await store.readAll(0, { maxCount: 100 });
      return { calls, stored: stored.events.map((e) => [e.position, e.stream, e.revision, e.id, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata)]) };
    };
    const once = await decided(true);
    const apart = await decided(false);
    expect(once.calls).toEqual({ readStream: 0, readStreams: 1 });
    expect(apart.calls).toEqual({ readStream: 3, readStreams: 0 });
    expect(once.stored).toEqual(apart.stored);
    expect(once.stored.filter(([, , , , type]) => type === 'VersionApplied')).toHaveLength(4);
  });
});

describe('processor runner and the metadata of what one decision decides', () => {
  // A booking manager's decision notes its input and books: the store then encodes one metadata for both.
  it('hands the events of one decision one metadata object while they name the same trade, and stores what separate ones would', async () => {
    const store = SqliteEventStore.open(join(tempDir('kepler-metadata-'), 'events.db'));
    opened.push(store);
    const appended: EventData[][] = [];
    const watching = Object.create(store, {
      appendMany: { value: (...args: Parameters<SqliteEventStore['appendMany']>) => (appended.push(args[0].flatMap((a) => a.events as EventData[])), store.appendMany(...args)) },
    }) as SqliteEventStore;
    const definition: ProcessorDefinition<null, { type: string; tradeRef: string }, string> = {
      name: 'metadata-test',
      streamPrefix: 'md-',
      filter: { eventTypes: ['Input'] },
      route: (event) => ({ stream: `md-${event.metadata.correlationId}`, input: event.metadata.correlationId }),
      initialState: null,
      cacheSize: 10,
      evolve: (state) => state,
      decide: (tradeRef) => E.right([{ type: 'Noted', tradeRef }, { type: 'Booked', tradeRef }, { type: 'Told', tradeRef: `${tradeRef}-other` }]),
    };
    await store.append('in-1', [{ id: 'input-1', type: 'Input', data: {}, metadata: { correlationId: 'T1', source: 'CORE', sourceSequence: 7, file: 'f', line: 8 } }], 'no_stream');
    const runner = new ProcessorRunner(watching, definition, pino({ level: 'silent' }), { slot: 'blue' });
    const running = runner.run();
    const head = await store.headPosition();
    await until('the processor to catch up', async () => runner.status.position >= head);
    await runner.stop();
    await running;

    const [noted, booked, told] = appended.flat();
    expect(booked!.metadata).toBe(noted!.metadata);
    expect(told!.metadata).not.toBe(noted!.metadata);
    const expected = (tradeRef: string) => JSON.stringify({ correlationId: tradeRef, causationId: 'input-1', source: 'CORE', sourceSequence: 7, file: 'f', line: 8, slot: 'blue' });
    const stored = (await store.readStream('md-T1')).map((e) => [e.type, JSON.stringify(e.metadata)]);
    expect(stored).toEqual([
      ['Noted', expected('T1')],
      ['Booked', expected('T1')],
      ['Told', expected('T1-other')],
    ]);
  });
});
