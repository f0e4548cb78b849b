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
