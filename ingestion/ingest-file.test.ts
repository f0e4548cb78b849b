// The files of a run are checked before any is read: an unreadable one stops the
// run with nothing written, and the one told is the first in the run's order.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../eventstore/index.js';
import { tempDir } from '../tests/support/feed.js';
import { UnreadableFileError } from './file-intake.js';
import { FileIngestor } from './ingest-file.js';

describe('FileIngestor, files that cannot be read', () => {
  it('writes nothing and names the first unreadable file of the run, wherever the others are', async () => {
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
      expect(error).toBeInstanceOf(UnreadableFileError);
      expect((error as UnreadableFileError).path).toBe(join(dir, 'missing-b.cx1'));
      expect(summaries).toEqual([]);
      expect((await store.readAll(0, { maxCount: 10 })).events).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
