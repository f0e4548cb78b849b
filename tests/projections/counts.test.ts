// The counts the projections keep (projections/counts.ts) against a full count
// of the documents, on the whole platform in-process (ingest, processors,
// projections): after a realistic feed, after exceptions are resolved, after a
// rebuild, on a store from before the counts (seeded once at start), after a
// crash half-way through a write, and with the projections split in partitions.
// On every read-store adapter the machine has: SQLite, PostgreSQL, FerretDB.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { generateFeed, MIXED_RATES, writeFeed } from '../../bench/feed-generator.js';
import { platformStateSource } from '../../app/observability.js';
import { Platform } from '../../app/platform.js';
import { FEED_SOURCES, type ExceptionResolved } from '../../domain/index.js';
import { SqliteEventStore } from '../../eventstore/sqlite/index.js';
import { FileIngestor } from '../../ingestion/index.js';
import { WHOLE, type Partition } from '../../processors/index.js';
import { checkpointOf, collectionOf, countsCollectionOf, exceptionsProjection, LiveReadModels, PROJECTIONS, ProjectionRunner, readCounts, rebuildProjection, tradesProjection, type AnyProjection } from '../../projections/index.js';
import { SqliteReadStore, type DocumentWrite, type ReadStore } from '../../readstore/index.js';
import { MongoReadStore } from '../../readstore/mongodb/index.js';
import { PostgresReadStore } from '../../readstore/postgres/index.js';
import { startFerretDb } from '../support/ferretdb.js';
import { tempDir } from '../support/feed.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { tryStartServer } from '../support/servers.js';

const logger = pino({ level: 'silent' });

/** The n-th feed of a test: trades and source sequences of its own (sequences seen before would be duplicates). */
const feedOf = (n: number, trades: number) =>
  generateFeed({ seed: n, trades, filesPerSource: 2, refPrefix: `F${n}`, firstSequence: Object.fromEntries(FEED_SOURCES.map((s) => [s, n * 100_000 + 1])), firstFileNumber: n * 10, rates: MIXED_RATES, badLines: { wrongLength: 3, badIsin: 3, badDate: 2, unknownType: 2 }, brokenTrailers: { wrongCount: 1 } });

const postgres = await tryStartServer('PostgreSQL', async () => {
  await (await createTestDatabase('probe')).drop();
  return true;
});
const ferret = await tryStartServer('FerretDB', () => startFerretDb());
const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const database of databases) await database.drop();
  await ferret?.stop();
});

/** A database of its own for each store a test opens. */
async function postgresReadStore(): Promise<ReadStore> {
  const database = await createTestDatabase('counts');
  databases.push(database);
  return PostgresReadStore.connect(database.url, { poolSize: 4 });
}

// FerretDB v1 writes the trades' large documents slowly: a smaller feed there.
const ADAPTERS: Array<{ name: string; enabled: boolean; trades: number; open: () => Promise<ReadStore> }> = [
  { name: 'SQLite', enabled: true, trades: 800, open: async () => SqliteReadStore.open(join(tempDir('kepler-counts-'), 'reads.db')) },
  { name: 'PostgreSQL', enabled: postgres !== undefined, trades: 800, open: postgresReadStore },
  { name: 'MongoDB (FerretDB)', enabled: ferret !== undefined, trades: 150, open: () => MongoReadStore.connect(ferret!.uri, `kepler_counts_${process.pid}_${randomUUID().slice(0, 8)}`) },
];

async function ingest(events: SqliteEventStore, n: number, trades: number): Promise<void> {
  const paths = await writeFeed(feedOf(n, trades), tempDir('kepler-counts-feed-'));
  let accepted = 0;
  for await (const summary of new FileIngestor(events).ingestAll(paths)) accepted += summary.accepted;
  expect(accepted).toBeGreaterThan(trades);
}

/** Processors of a platform that runs no projections. */
async function processorsCaughtUp(platform: Platform, events: SqliteEventStore, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!platform.processors.every((p) => p.status.position >= 0) || Math.min(...platform.processors.map((p) => p.status.position)) < (await events.headPosition())) {
    if (Date.now() > deadline) throw new Error('the processors did not catch up');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function caughtUp(platform: Platform, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await platform.status()).caughtUp) {
    if (Date.now() > deadline) throw new Error(`the platform did not catch up: ${JSON.stringify((await platform.status()).subscriptions.map((s) => [s.name, s.position]))}, ${JSON.stringify(platform.followersRunning())}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Partitioned projections, seen through their stored checkpoints (a partitioned platform looks for partitioned processors too). */
async function partitionsCaughtUp(events: SqliteEventStore, reads: ReadStore, count: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const models = new LiveReadModels(reads);
  for (;;) {
    const head = await events.headPosition();
    let behind = false;
    for (const projection of PROJECTIONS) {
      const generation = await models.generation(projection.name);
      for (let index = 0; index < count; index++) {
        if (((await reads.readCheckpoint(checkpointOf(projection.name, generation, { index, count }))) ?? 0) < head) behind = true;
      }
    }
    if (!behind) return;
    if (Date.now() > deadline) throw new Error('the partitions did not catch up');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The kept counts of the live generations, and what a full count of their documents says. */
async function keptAndCounted(reads: ReadStore) {
  const models = new LiveReadModels(reads);
  const trades = await models.generation('trades');
  const exceptions = await models.generation('exceptions');
  return {
    kept: { trades: await readCounts(reads, 'trades', trades, 'byStatus'), exceptions: await readCounts(reads, 'exceptions', exceptions, 'openByCode') },
    counted: {
      trades: await reads.countBy(collectionOf('trades', trades), 'status'),
      exceptions: await reads.countBy(collectionOf('exceptions', exceptions), 'code', { resolved: false }),
    },
  };
}

async function expectExact(reads: ReadStore): Promise<void> {
  const { kept, counted } = await keptAndCounted(reads);
  expect(Object.keys(counted.trades).length).toBeGreaterThan(1);
  expect(kept).toEqual(counted);
}

/** Resolves some open exceptions, as a resubmission does (the projection sees only the event). */
async function resolveSome(events: SqliteEventStore, reads: ReadStore, count: number): Promise<void> {
  const collection = await new LiveReadModels(reads).collection('exceptions');
  const open = await reads.find(collection, { where: { resolved: false }, limit: count });
  expect(open.length).toBe(count);
  for (const { id } of open) {
    const data: ExceptionResolved = { type: 'ExceptionResolved', exceptionId: id, resolution: 'RESUBMITTED', correctedLine: 'corrected', tradeRef: null };
    await events.append(`resolution-test-${id}`, [{ id: randomUUID(), type: data.type, data, metadata: { correlationId: id } }], 'any');
  }
}

function startPlatform(events: SqliteEventStore, reads: ReadStore, options: { processors?: boolean; projections?: boolean; partition?: Partition } = {}) {
  const failures: unknown[] = [];
  const platform = new Platform(events, reads, logger, { processors: options.processors ?? true, projections: options.projections ?? true, partition: options.partition ?? WHOLE });
  return { platform, failures, started: platform.start((error) => failures.push(error)) };
}

/**
 * The read store of a process that dies in the middle of a write, after the
 * first `kept` writes of the batch and before its checkpoint: what a store
 * without transactions can be left with (MongoDB), and more than one with them
 * ever is.
 */
function dyingMidWrite(reads: ReadStore, collection: string, kept: (writes: number) => number): { store: ReadStore; died: () => boolean } {
  let died = false;
  const store = new Proxy(reads, {
    get(target, property, receiver) {
      if (property !== 'write') {
        const value = Reflect.get(target, property, receiver) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      }
      return async (writes: readonly DocumentWrite[], checkpoints?: ReadonlyArray<{ name: string; position: number }>) => {
        if (died) throw new Error('this process is dead');
        if (!writes.some((w) => w.collection === collection) || writes.length < 4) return target.write(writes, checkpoints);
        died = true;
        await target.write(writes.slice(0, kept(writes.length)));
        throw new Error('killed half-way through a write');
      };
    },
  });
  return { store, died: () => died };
}

for (const adapter of ADAPTERS) {
  describe.skipIf(!adapter.enabled)(`kept counts, ${adapter.name} read store`, () => {
    it('equal a full count after a feed, resolutions, a rebuild, a store from before the counts, and a crash in mid-write', async () => {
      const events = SqliteEventStore.open(join(tempDir('kepler-counts-'), 'events.db'));
      const reads = await adapter.open();
      try {
        // A realistic feed through the whole platform.
        let run = startPlatform(events, reads);
        await run.started;
        await ingest(events, 1, adapter.trades);
        await caughtUp(run.platform);
        await expectExact(reads);
        await resolveSome(events, reads, 4);
        await caughtUp(run.platform);
        await expectExact(reads);

        // The gauges read the kept counts.
        const { kept } = await keptAndCounted(reads);
        const source = platformStateSource(run.platform, reads, null, () => undefined);
        expect(await source.tradesByStatus()).toMatchObject(kept.trades);
        expect(await source.openExceptionsByCode()).toMatchObject(kept.exceptions);

        // A rebuild builds the next generation's counts beside the live ones; the old ones go with their generation.
        for (const projection of [tradesProjection, exceptionsProjection]) await rebuildProjection(events, reads, projection as never, logger);
        const deadline = Date.now() + 20_000;
        while ((await reads.find(countsCollectionOf('trades', 1), {})).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
        expect(await reads.find(countsCollectionOf('trades', 1), {})).toEqual([]);
        expect(await new LiveReadModels(reads).generation('trades')).toBe(2);
        await expectExact(reads);
        await run.platform.stop();
        expect(run.failures).toEqual([]);

        // A store from before the counts: counted once when the projections start, then kept.
        await reads.dropCollection(countsCollectionOf('trades', 2));
        await reads.dropCollection(countsCollectionOf('exceptions', 2));
        run = startPlatform(events, reads);
        await run.started;
        expect((await reads.find(countsCollectionOf('trades', 2), {})).length).toBe(1);
        await ingest(events, 2, adapter.trades);
        await caughtUp(run.platform);
        await expectExact(reads);
        await run.platform.stop();

        // A process killed in the middle of writing a batch of trades: the next one carries on from the checkpoint.
        for (const [index, kept] of [() => 1, (n: number) => Math.floor(n / 2), (n: number) => n - 1].entries()) {
          const dying = dyingMidWrite(reads, collectionOf('trades', 2), kept);
          run = startPlatform(events, dying.store);
          await run.started;
          await ingest(events, 3 + index, adapter.trades);
          const until = Date.now() + 30_000;
          while (!dying.died() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
          expect(dying.died()).toBe(true);
          await run.platform.stop();
          expect(run.failures.length).toBeGreaterThan(0);
          run = startPlatform(events, reads);
          await run.started;
          await caughtUp(run.platform);
          await expectExact(reads);
          await run.platform.stop();
          expect(run.failures).toEqual([]);
        }
      } finally {
        await reads.close();
        await events.close();
      }
    }, 300_000);

    it('equal a full count when partitions share the read models', async () => {
      const events = SqliteEventStore.open(join(tempDir('kepler-counts-'), 'events.db'));
      const reads = await adapter.open();
      try {
        const processors = startPlatform(events, reads, { projections: false });
        await processors.started;
        await ingest(events, 1, adapter.trades);
        await processorsCaughtUp(processors.platform, events);
        const partitions = [0, 1].map((index) => startPlatform(events, reads, { processors: false, partition: { index, count: 2 } }));
        await Promise.all(partitions.map((p) => p.started));
        await partitionsCaughtUp(events, reads, 2);
        expect((await reads.find(countsCollectionOf('trades', 1), {})).map((r) => r.id)).toEqual(['counts#0of2', 'counts#1of2']);
        await expectExact(reads);

        // Partitions of a store from before the counts each count their own documents once.
        for (const p of partitions) await p.platform.stop();
        await reads.dropCollection(countsCollectionOf('trades', 1));
        const again = [0, 1].map((index) => startPlatform(events, reads, { processors: false, partition: { index, count: 2 } }));
        await Promise.all(again.map((p) => p.started));
        await resolveSome(events, reads, 2);
        await ingest(events, 2, adapter.trades);
        await processorsCaughtUp(processors.platform, events);
        await partitionsCaughtUp(events, reads, 2);
        await expectExact(reads);
        for (const p of [...again, processors]) await p.platform.stop();
      } finally {
        await reads.close();
        await events.close();
      }
    }, 300_000);
  });
}

describe('a generation whose counts lack one its projection declares', () => {
  it('is refused at start rather than counted from nothing', async () => {
    const reads = SqliteReadStore.open(join(tempDir('kepler-counts-'), 'reads.db'));
    try {
      await reads.ensureCollection(countsCollectionOf('exceptions', 1), []);
      await reads.write([{ kind: 'put', collection: countsCollectionOf('exceptions', 1), id: 'counts', doc: { somethingElse: {}, asOf: 5 }, position: 5 }]);
      const runner = new ProjectionRunner(null as never, reads, exceptionsProjection as unknown as AnyProjection, 1, logger);
      await expect(runner.prepare()).rejects.toThrow(/does not keep openByCode; raise the projection's version and rebuild/);
    } finally {
      await reads.close();
    }
  });
});
