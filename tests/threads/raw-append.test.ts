// The bench's raw-append baseline writes exactly the events a run produced, with the event store's
// own settings (its checkpoint thread included, hence the compiled build), and leaves nothing behind.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compiled } from '../support/compiled.js';
import { tempDir } from '../support/feed.js';

type RawAppendModule = typeof import('../../bench/raw-append.js');
type SqliteModule = typeof import('../../eventstore/sqlite/index.js');

describe('the raw batched append baseline', () => {
  it('appends every event of a store, in order, page by page, and removes its scratch database', async () => {
    const { eventsOfSqliteStore, rawSqliteAppend } = await compiled<RawAppendModule>('bench/raw-append.ts');
    const { SqliteEventStore } = await compiled<SqliteModule>('eventstore/sqlite/index.ts');
    const dir = tempDir();
    const store = SqliteEventStore.open(join(dir, 'events.db'));
    for (let i = 0; i < 25; i++) {
      await store.append(`s-${i % 4}`, [{ id: `id-${i}`, type: 'Happened', data: { i }, metadata: { correlationId: `c-${i}` } }], 'any');
    }
    await store.close();

    const pages = [...eventsOfSqliteStore(join(dir, 'events.db'), 10)];
    expect(pages.map((page) => page.length)).toEqual([10, 10, 5]);
    expect(pages.flat().map((event) => event.id)).toEqual(Array.from({ length: 25 }, (_, i) => `id-${i}`));
    expect(pages[0]![4]).toMatchObject({ stream: 's-0', revision: 1, type: 'Happened', data: '{"i":4}' });

    const scratch = join(dir, 'scratch');
    const baseline = await rawSqliteAppend(pages, scratch);
    expect(baseline).toMatchObject({ events: 25, unit: 'events' });
    expect(baseline.rate).toBeGreaterThan(0);
    expect(baseline.meanEventBytes).toBeGreaterThan(20);
    expect(readdirSync(scratch)).toEqual([]);
  });
});
