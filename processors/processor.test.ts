// A processor waits out another process's long hold on the store's write lock instead of failing.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { VersionRecord } from '../domain/index.js';
import { SqliteEventStore, StoreBusyError, StoreUnavailableError } from '../eventstore/index.js';
import { RecordWriter } from '../ingestion/index.js';
import { tempDir, terms } from '../tests/support/feed.js';
import { ProcessorRunner } from './processor.js';
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
