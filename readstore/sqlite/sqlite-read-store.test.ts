import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
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

describe('SQLite read store: indexed fields in columns of their own', () => {
  const stores: SqliteReadStore[] = [];
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
  });
  const newPath = () => join(mkdtempSync(join(tmpdir(), 'kepler-rs-')), 'read.db');
  const open = (path: string) => {
    const store = SqliteReadStore.open(path);
    stores.push(store);
    return store;
  };
  const planOf = (path: string, sql: string): string => {
    const db = new Database(path, { readonly: true });
    try {
      return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((r) => r.detail).join('; ');
    } finally {
      db.close();
    }
  };

  it('a store written before fields had columns keeps its documents, and its queries use the new columns and their index', async () => {
    const path = newPath();
    // The schema of earlier versions: the document only, with an expression index per field.
    const old = new Database(path);
    old.exec(`CREATE TABLE rm_trades (id TEXT PRIMARY KEY, doc TEXT NOT NULL, position INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
      CREATE INDEX rm_trades_status ON rm_trades (json_extract(doc, '$.status'), id);
      INSERT INTO rm_trades VALUES ('T1', '{"status":"open","qty":5}', 1, 0), ('T2', '{"status":"closed","qty":7}', 2, 0), ('T3', '{}', 3, 1);`);
    old.close();

    const store = open(path);
    await store.ensureCollection('trades', ['status']);
    expect((await store.find('trades', { where: { status: 'open' } })).map((r) => r.id)).toEqual(['T1']);
    expect(await store.countBy('trades', 'status')).toEqual({ open: 1, closed: 1 });
    await store.write([{ kind: 'put', collection: 'trades', id: 'T3', doc: { status: 'open', qty: 1 }, position: 4 }]);
    expect((await store.find('trades', { where: { status: 'open' } })).map((r) => r.id)).toEqual(['T1', 'T3']);

    const plan = planOf(path, "SELECT id FROM rm_trades WHERE deleted = 0 AND f_status = 'open' ORDER BY id");
    expect(plan).toContain('rm_trades_f_status');
    const db = new Database(path, { readonly: true });
    const indexes = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'rm_trades'").pluck().all() as string[]).sort();
    db.close();
    expect(indexes).toEqual(['rm_trades_f_status']);
  });

  it('a writer whose statements predate a column another connection added fills that column too', async () => {
    const path = newPath();
    const first = open(path);
    await first.ensureCollection('trades', ['status']);
    await first.write([{ kind: 'put', collection: 'trades', id: 'T1', doc: { status: 'open', book: 'FX' }, position: 1 }]);
    const second = open(path);
    await second.ensureCollection('trades', ['status', 'book']);
    // The first connection's put was prepared without the book column.
    await first.write([{ kind: 'put', collection: 'trades', id: 'T2', doc: { status: 'open', book: 'FX' }, position: 2 }]);
    second.renewSnapshot();
    expect((await second.find('trades', { where: { book: 'FX' } })).map((r) => r.id)).toEqual(['T1', 'T2']);
  });
});

describe('SQLite read store: a reader opened before the migration', () => {
  afterEach(() => vi.restoreAllMocks());

  it('filters through the new columns once another connection migrated the table', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'kepler-rs-')), 'read.db');
    const old = new Database(path);
    old.exec(`CREATE TABLE rm_trades (id TEXT PRIMARY KEY, doc TEXT NOT NULL, position INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
      CREATE INDEX rm_trades_status ON rm_trades (json_extract(doc, '$.status'), id);
      INSERT INTO rm_trades VALUES ('T1', '{"status":"open"}', 1, 0);`);
    old.close();
    const reader = SqliteReadStore.open(path);
    const writer = SqliteReadStore.open(path);
    try {
      expect((await reader.find('trades', { where: { status: 'open' } })).map((r) => r.id)).toEqual(['T1']);
      await writer.ensureCollection('trades', ['status']);
      await new Promise((resolve) => setImmediate(resolve));
      // The answer is the same either way: what differs is whether the index serves it.
      const prepared: string[] = [];
      const prepare = Database.prototype.prepare;
      vi.spyOn(Database.prototype, 'prepare').mockImplementation(function (this: Database.Database, sql: string) {
        prepared.push(sql);
        return prepare.call(this, sql);
      } as typeof prepare);
      expect((await reader.find('trades', { where: { status: 'open' } })).map((r) => r.id)).toEqual(['T1']);
      expect(await reader.countBy('trades', 'status')).toEqual({ open: 1 });
      const queries = prepared.filter((sql) => sql.startsWith('SELECT') && sql.includes('rm_trades'));
      expect(queries.length).toBeGreaterThanOrEqual(2);
      for (const sql of queries) expect(sql).not.toContain('json_extract');
    } finally {
      await reader.close();
      await writer.close();
    }
  });
});

describe('SQLite read store: a document rewritten with its indexed fields as they were', () => {
  const doc = (status: string, version: number, isin: string | null = 'US0378331005') => ({ status, account: 'ACC-1', isin, version });
  const put = (id: string, d: Record<string, unknown>, position: number) => ({ kind: 'put' as const, collection: 'trades', id, doc: d, position });

  /** The pages one write dirties: the frames it adds to a write-ahead log emptied before it. */
  async function pagesWritten(path: string, store: SqliteReadStore, write: () => Promise<void>): Promise<number> {
    const wal = new Database(path);
    try {
      wal.pragma('wal_checkpoint(TRUNCATE)');
      await write();
      return (wal.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number }>)[0]!.log;
    } finally {
      wal.close();
    }
  }

  it('writes the table and the indexes of the fields that changed, with every column as the document says whatever the writer says it read', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'kepler-rs-')), 'read.db');
    const store = SqliteReadStore.open(path);
    try {
      await store.ensureCollection('trades', ['status', 'account', 'isin']);
      await store.write([put('T1', doc('PENDING', 1), 1), put('T2', doc('PENDING', 1), 2)]);
      // Each collection's table and its three indexes fit in a page each: a rewrite that set every
      // column wrote all four (a delete and an insert in each index); one whose fields are unchanged
      // writes one, and one whose status changed, as the writer says it read the document, two.
      expect(await pagesWritten(path, store, () => store.write([put('T1', doc('PENDING', 2), 3)]))).toBe(1);
      expect(await pagesWritten(path, store, () => store.write([{ ...put('T1', doc('BOOKED', 3), 4), before: doc('PENDING', 2) }]))).toBe(2);
      // Unsaid, a change is taken for none, found to be one, and every column set.
      expect(await pagesWritten(path, store, () => store.write([put('T2', doc('BOOKED', 2), 5), put('T2', doc('PENDING', 3), 6)]))).toBe(4);
      // What a writer says it read is never trusted: here T1 is BOOKED, not CANCELLED, and T2 exists.
      await store.write([{ ...put('T1', doc('CANCELLED', 4), 7), before: doc('CANCELLED', 3) }, { ...put('T2', doc('BOOKED', 4), 8), before: null }]);
      expect(await store.countBy('trades', 'status')).toEqual({ BOOKED: 1, CANCELLED: 1 });
      await store.write([{ ...put('T1', doc('BOOKED', 5), 9), before: doc('CANCELLED', 4, 'XS0000000001') }, { ...put('T2', doc('PENDING', 5), 10), before: doc('BOOKED', 4) }]);
      // Replayed, an older write changes nothing; a field set to null, then a deletion, then a put again.
      await store.write([put('T1', doc('CANCELLED', 9), 9), { ...put('T1', doc('CANCELLED', 9), 8), before: doc('BOOKED', 5) }, put('T2', doc('PENDING', 2, null), 11)]);
      await store.write([{ kind: 'delete', collection: 'trades', id: 'T2', position: 12 }]);
      await store.write([{ ...put('T2', doc('PENDING', 3, null), 13), before: doc('PENDING', 2, null) }, put('T3', doc('BOOKED', 1), 14)]);
      expect(await store.get('trades', 'T1')).toEqual(doc('BOOKED', 5));
      expect(await store.countBy('trades', 'status')).toEqual({ BOOKED: 2, PENDING: 1 });
      expect((await store.find('trades', { where: { isin: null } })).map((r) => r.id)).toEqual(['T2']);
      expect((await store.find('trades', { where: { status: 'BOOKED', account: 'ACC-1', isin: 'US0378331005' } })).map((r) => r.id)).toEqual(['T1', 'T3']);
      const raw = new Database(path, { readonly: true });
      try {
        expect(raw.prepare('SELECT id, position, deleted, f_status, f_account, f_isin FROM rm_trades ORDER BY id').raw().all()).toEqual([
          ['T1', 9, 0, 'BOOKED', 'ACC-1', 'US0378331005'],
          ['T2', 13, 0, 'PENDING', 'ACC-1', null],
          ['T3', 14, 0, 'BOOKED', 'ACC-1', 'US0378331005'],
        ]);
      } finally {
        raw.close();
      }
    } finally {
      await store.close();
    }
  });
});
