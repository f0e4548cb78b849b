// Runs the shared ReadStore contract against a real FerretDB v1 server (MongoDB
// wire protocol, SQLite backend) started by tests/support/ferretdb.ts.
// Skipped when the server cannot be built or started, unless
// KEPLER_REQUIRE_SERVERS=1 (CI), in which case this file fails.

import { afterAll, describe, expect, it, vi } from 'vitest';

import { startFerretDb } from '../../tests/support/ferretdb.js';
import { tryStartServer } from '../../tests/support/servers.js';
import { readStoreContract } from '../contract.js';
import type { DocumentWrite } from '../port.js';
import { MongoReadStore } from './index.js';

const server = await tryStartServer('FerretDB', () => startFerretDb());

afterAll(async () => {
  await server?.stop();
});

describe.skipIf(!server)('MongoReadStore on FerretDB', () => {
  let db = 0;
  const dbName = (): string => `kepler_test_${process.pid}_${++db}`;

  readStoreContract('mongodb (FerretDB)', () => MongoReadStore.connect(server!.uri, dbName()));

  it('refuses the reserved bookkeeping collection names', async () => {
    const store = await MongoReadStore.connect(server!.uri, dbName());
    try {
      await expect(store.get('checkpoints', 'x')).rejects.toThrow(/reserved/);
      await expect(store.ensureCollection('settings', [])).rejects.toThrow(/reserved/);
    } finally {
      await store.close();
    }
  });

  it('creates the single-field indexes ensureCollection asks for', async () => {
    const name = dbName();
    const store = await MongoReadStore.connect(server!.uri, name);
    const { MongoClient } = await import('mongodb');
    const client = await MongoClient.connect(server!.uri);
    try {
      await store.ensureCollection('trades', ['status', 'book']);
      await store.ensureCollection('trades', ['status', 'book']);
      const keys = (await client.db(name).collection('trades').indexes()).map((i) => i.key);
      expect(keys).toEqual(expect.arrayContaining([{ _id: 1 }, { 'doc.status': 1 }, { 'doc.book': 1 }]));
      expect(keys).toHaveLength(3);
    } finally {
      await client.close();
      await store.close();
    }
  });

  it('stores documents as { _id, _pos, doc } and deletes as tombstones', async () => {
    const name = dbName();
    const store = await MongoReadStore.connect(server!.uri, name);
    const { MongoClient } = await import('mongodb');
    const client = await MongoClient.connect(server!.uri);
    try {
      await store.write(
        [
          { kind: 'put', collection: 'trades', id: 'a', doc: { status: 'open' }, position: 3 },
          { kind: 'delete', collection: 'trades', id: 'b', position: 4 },
        ],
        [{ name: 'trades-projection', position: 4 }],
      );
      const raw = await client.db(name).collection('trades').find({}).sort({ _id: 1 }).toArray();
      expect(raw).toEqual([
        { _id: 'a', _pos: 3, doc: { status: 'open' } },
        { _id: 'b', _pos: 4, _del: true },
      ]);
      expect(await client.db(name).collection('checkpoints').findOne({})).toEqual({
        _id: 'trades-projection',
        position: 4,
      });
    } finally {
      await client.close();
      await store.close();
    }
  });

  it('does not swallow errors other than the guard\'s duplicate keys', async () => {
    const name = dbName();
    const store = await MongoReadStore.connect(server!.uri, name);
    try {
      // FerretDB v1 rejects field names containing "." (a server-side write error, code 2).
      await expect(
        store.write([{ kind: 'put', collection: 'trades', id: 'a', doc: { 'a.b': 1 }, position: 1 }]),
      ).rejects.toThrow();
      // ...also when it comes after a duplicate-key (stale) write in the same batch.
      await store.write([{ kind: 'put', collection: 'trades', id: 'x', doc: { v: 1 }, position: 10 }]);
      await expect(
        store.write([
          { kind: 'put', collection: 'trades', id: 'x', doc: { v: 0 }, position: 1 },
          { kind: 'put', collection: 'trades', id: 'y', doc: { 'a.b': 1 }, position: 2 },
        ]),
      ).rejects.toThrow();
      expect(await store.get('trades', 'x')).toEqual({ v: 1 });
    } finally {
      await store.close();
    }
  });

  describe('races between writers (simulated stale reads of stored positions)', () => {
    const put = (id: string, v: number, position: number): DocumentWrite => ({
      kind: 'put',
      collection: 'trades',
      id,
      doc: { v },
      position,
    });

    it('an insert that loses to another writer is re-checked, not dropped', async () => {
      const store = await MongoReadStore.connect(server!.uri, dbName());
      try {
        await store.write([put('a', 1, 10), put('c', 1, 10)]);
        // This writer believes nothing is stored yet (it read before the other
        // writer inserted): its inserts of a and c hit duplicate keys.
        const spy = vi.spyOn(store as unknown as { storedPositions: () => Promise<Map<string, number>> }, 'storedPositions');
        spy.mockResolvedValueOnce(new Map());
        await store.write([put('a', 2, 5), put('b', 2, 5), put('c', 2, 20), put('d', 2, 5)]);
        expect(spy).toHaveBeenCalledTimes(2);
        spy.mockRestore();
        expect(await store.get('trades', 'a')).toEqual({ v: 1 }); // stored 10 > 5: stays
        expect(await store.get('trades', 'b')).toEqual({ v: 2 });
        expect(await store.get('trades', 'c')).toEqual({ v: 2 }); // 20 > 10: applied on the retry
        expect(await store.get('trades', 'd')).toEqual({ v: 2 });
      } finally {
        await store.close();
      }
    });

    it('a guarded replace that misses because of a newer write is re-checked', async () => {
      const store = await MongoReadStore.connect(server!.uri, dbName());
      try {
        await store.write([put('a', 1, 10), put('b', 1, 10)]);
        const spy = vi.spyOn(store as unknown as { storedPositions: () => Promise<Map<string, number>> }, 'storedPositions');
        spy.mockResolvedValueOnce(new Map([['a', 0], ['b', 0]]));
        await store.write([put('a', 2, 5), put('b', 2, 11)]);
        expect(spy).toHaveBeenCalledTimes(2);
        spy.mockRestore();
        expect(await store.get('trades', 'a')).toEqual({ v: 1 });
        expect(await store.get('trades', 'b')).toEqual({ v: 2 });
      } finally {
        await store.close();
      }
    });

    it('two store instances inserting the same new ids converge on the higher position', async () => {
      const name = dbName();
      const [one, two] = await Promise.all([
        MongoReadStore.connect(server!.uri, name),
        MongoReadStore.connect(server!.uri, name),
      ]);
      try {
        const ids = Array.from({ length: 60 }, (_, i) => `n${i}`);
        // Only two writers and only fresh ids: FerretDB's inserts are atomic on
        // _id, so this holds there too (its guarded replaces are not atomic).
        await Promise.all([
          one.write(ids.map((id, i) => put(id, 1, i % 2 === 0 ? 5 : 7))),
          two.write(ids.map((id, i) => put(id, 2, i % 2 === 0 ? 7 : 5))),
        ]);
        const many = await one.getMany('trades', ids);
        ids.forEach((id, i) => expect(many.get(id)).toEqual({ v: i % 2 === 0 ? 2 : 1 }));
      } finally {
        await Promise.all([one.close(), two.close()]);
      }
    });
  });
});
