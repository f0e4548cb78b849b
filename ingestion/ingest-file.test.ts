// The files of a run are checked before any is read: an unreadable one stops the
// run with nothing written; the error names every unreadable file, the first in the
// run's order as its own.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../eventstore/index.js';
import { tempDir } from '../tests/support/feed.js';
import { UnreadableFilesError } from './unreadable-file.js';
import { FileIngestor } from './ingest-file.js';
import { startIntake } from './start-intake.js';

describe('FileIngestor, files that cannot be read', () => {
  it('writes nothing and names every unreadable file of the run in its order, the first as its own, wherever the others are', async () => {
    const dir = tempDir();
    const readable = join(dir, 'CORE_20261127_0000000001.cx1');
    writeFileSync(readable, 'garbage\n');
    const store = SqliteEventStore.open(join(dir, 'events.db'));
    try {
      const run = [readable, join(dir, 'missing-b.cx1'), readable, join(dir, 'missing-a.cx1')];
      const summaries: unknown[] = [];
      const error = await (async () => {
        for await (const summary of new FileIngestor(store).ingestAll(run)) summaries.push(summary);
      })().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(UnreadableFilesError);
      const refused = error as UnreadableFilesError;
      expect(refused.path).toBe(join(dir, 'missing-b.cx1'));
      expect(refused.message).toBe(`cannot read ${join(dir, 'missing-b.cx1')}: no such file (and 1 more)`);
      expect(refused.unreadable.map(({ path, reason }) => [path, reason])).toEqual([
        [join(dir, 'missing-b.cx1'), 'no such file'],
        [join(dir, 'missing-a.cx1'), 'no such file'],
      ]);
      expect(summaries).toEqual([]);
      expect((await store.readAll(0, { maxCount: 10 })).events).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

describe('FileIngestor, a started intake', () => {
  it('is ingested by one run; a second run of it is refused, not given spent batches that would write nothing', async () => {
    const dir = tempDir();
    const file = join(dir, 'CORE_20261127_0000000001.cx1');
    writeFileSync(file, 'garbage\n');
    const store = SqliteEventStore.open(join(dir, 'events.db'));
    try {
      const intake = await startIntake([file]);
      const ingestor = new FileIngestor(store);
      const first: unknown[] = [];
      for await (const summary of ingestor.ingestAll(intake)) first.push(summary);
      expect(first).toHaveLength(1);
      const again = await (async () => {
        for await (const summary of ingestor.ingestAll(intake)) first.push(summary);
      })().catch((caught: unknown) => caught);
      expect(again).toBeInstanceOf(Error);
      expect((again as Error).message).toBe('this intake was already taken by a run: start another');
      expect(first).toHaveLength(1);
    } finally {
      await store.close();
    }
  });
});

describe('startIntake, its files checked on this thread (checkSync)', () => {
  it('refuses before any check through libuv pool could have come back, naming every unreadable file in the run order; takes a readable run as the pool checks do', async () => {
    const dir = tempDir();
    const readable = join(dir, 'CORE_20261127_0000000001.cx1');
    writeFileSync(readable, 'garbage\n');
    const run = [readable, join(dir, 'missing-b.cx1'), readable, join(dir, 'missing-a.cx1')];
    let outcome: unknown = 'pending';
    void startIntake(run, { checkSync: true }).then(
      () => (outcome = 'started'),
      (error: unknown) => (outcome = error),
    );
    // Microtasks only: a check through libuv's pool comes back on a later turn of the event loop.
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(outcome).toBeInstanceOf(UnreadableFilesError);
    expect((outcome as UnreadableFilesError).unreadable.map(({ path, reason }) => [path, reason])).toEqual([
      [join(dir, 'missing-b.cx1'), 'no such file'],
      [join(dir, 'missing-a.cx1'), 'no such file'],
    ]);
    const intake = await startIntake([readable, readable], { checkSync: true });
    expect(intake.files).toEqual([
      { path: readable, name: 'CORE_20261127_0000000001.cx1' },
      { path: readable, name: 'CORE_20261127_0000000001.cx1' },
    ]);
    await intake.cancel();
  });
});
