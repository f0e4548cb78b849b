import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readStoreContract } from '../contract.js';
import { SqliteReadStore } from './sqlite-read-store.js';

readStoreContract('SQLite', async () => SqliteReadStore.open(join(mkdtempSync(join(tmpdir(), 'kepler-rs-')), 'read.db')));

/** The next turn of the event loop: the reads of the last one have let go of their snapshot. */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('SQLite read store: the reads of one event-loop turn share a snapshot', () => {
  // The API's connection and the projections thread's, on one file.
  let reader: SqliteReadStore;
  let writer: SqliteReadStore;
  afterEach(async () => {
    await reader.close();
    await writer.close();
  });
  const put = (version: number) => [{ kind: 'put' as const, collection: 'trades', id: 'T1', doc: { version }, position: version }];

  async function open() {
    const path = join(mkdtempSync(join(tmpdir(), 'kepler-rs-')), 'read.db');
    writer = SqliteReadStore.open(path);
    await writer.ensureCollection('trades', []);
    await writer.write(put(1), [{ name: 'projection:trades', position: 1 }]);
    reader = SqliteReadStore.open(path);
  }

  it('a checkpoint read in the snapshot shows the documents committed with it, and the next turn sees later commits', async () => {
    await open();
    expect(await reader.get('trades', 'T1')).toEqual({ version: 1 });
    // A commit of the projections between two reads of one turn.
    await writer.write(put(2), [{ name: 'projection:trades', position: 2 }]);
    const checkpoint = await reader.readCheckpoint('projection:trades');
    const doc = await reader.get('trades', 'T1');
    expect([checkpoint, doc]).toEqual([1, { version: 1 }]);
    await nextTurn();
    expect([await reader.readCheckpoint('projection:trades'), await reader.get('trades', 'T1')]).toEqual([2, { version: 2 }]);
  });

  it('renewSnapshot lets the next read see every commit made before it', async () => {
    await open();
    expect(await reader.getJson('trades', 'T1')).toBe('{"version":1}');
    await writer.write(put(2), [{ name: 'projection:trades', position: 2 }]);
    reader.renewSnapshot();
    expect(await reader.getJson('trades', 'T1')).toBe('{"version":2}');
  });

  it('a write on the connection ends its snapshot first, however stale the snapshot is', async () => {
    await open();
    expect(await reader.get('trades', 'T1')).toEqual({ version: 1 });
    await writer.write(put(2));
    // In a stale snapshot, SQLite refuses to write (SQLITE_BUSY_SNAPSHOT).
    await reader.write([{ kind: 'put', collection: 'trades', id: 'T2', doc: { version: 3 }, position: 3 }]);
    expect(await reader.getMany('trades', ['T1', 'T2'])).toEqual(new Map([['T1', { version: 2 }], ['T2', { version: 3 }]]));
  });
});
