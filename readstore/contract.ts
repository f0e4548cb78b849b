// Shared contract suite for every ReadStore adapter (SQLite, MongoDB, ...).
//
// An adapter's test file calls, at its top level:
//
//   readStoreContract('sqlite', async () => SqliteReadStore.open(tmpFile()), async () => rm(tmp));
//
// `open` is called once (beforeAll); the store is closed and `cleanup` is called
// once (afterAll). Every test works in its own, freshly named collections and
// uses its own checkpoint and setting names, so tests do not see each other's
// data and the store need not be empty at the start.
//
// What is deliberately NOT specified (adapters may differ): how a document whose
// `where` field is missing compares with null, countBy keys for missing or
// non-string/non-number values, find with limit <= 0, id order beyond ASCII.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Document, DocumentWrite, ReadStore, Where } from './port.js';

export function readStoreContract(
  name: string,
  open: () => Promise<ReadStore>,
  cleanup?: () => Promise<void>,
): void {
  describe(`ReadStore contract: ${name}`, () => {
    let store: ReadStore;
    let counter = 0;
    const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
    /** A collection (or checkpoint/setting) name no other test uses. */
    const fresh = (label: string): string => `c${run}_${++counter}_${label}`;

    beforeAll(async () => {
      store = await open();
    });

    afterAll(async () => {
      try {
        await store?.close();
      } finally {
        await cleanup?.();
      }
    });

    const put = (collection: string, id: string, doc: Document, position: number): DocumentWrite => ({
      kind: 'put',
      collection,
      id,
      doc,
      position,
    });
    const del = (collection: string, id: string, position: number): DocumentWrite => ({
      kind: 'delete',
      collection,
      id,
      position,
    });
    async function newCollection(label: string, indexed: readonly string[] = []): Promise<string> {
      const c = fresh(label);
      await store.ensureCollection(c, indexed);
      return c;
    }

    describe('documents', () => {
      it('get returns null and getMany an empty map for missing ids', async () => {
        const c = await newCollection('missing');
        expect(await store.get(c, 'nope')).toBeNull();
        expect((await store.getMany(c, ['a', 'b'])).size).toBe(0);
        expect((await store.getMany(c, [])).size).toBe(0);
      });

      it('round-trips documents exactly, without bookkeeping fields', async () => {
        const c = await newCollection('roundtrip');
        const doc: Document = {
          id: 'T-1',
          position: 'field named like bookkeeping',
          pos: -1,
          status: 'open',
          qty: 1500,
          price: 101.25,
          negative: -42,
          big: 9_007_199_254_740_991,
          flag: true,
          off: false,
          nothing: null,
          empty: '',
          unicode: 'Zürich → 東京 🚀 ñ',
          path: 'desk/EMEA/rates/',
          quotes: 'it\'s "quoted" \\ back\\slash',
          nested: { a: { b: { c: [1, 'two', { three: 3 }] } }, emptyObj: {}, emptyArr: [] },
          list: [{ leg: 1, ccy: 'EUR' }, { leg: 2, ccy: 'USD' }],
        };
        await store.write([put(c, 'T-1', doc, 1)]);
        expect(await store.get(c, 'T-1')).toEqual(doc);
        // Optional: an adapter that keeps JSON text hands it over as it is.
        if (store.getJson) {
          expect(JSON.parse((await store.getJson(c, 'T-1'))!)).toEqual(doc);
          expect(await store.getJson(c, 'nope')).toBeNull();
          // The same text at once, where the adapter offers it.
          if (store.getJsonNow) {
            expect(store.getJsonNow(c, 'T-1')).toBe(await store.getJson(c, 'T-1'));
            expect(store.getJsonNow(c, 'nope')).toBeNull();
            expect(store.getJsonNow(`${c}_never_created`, 'T-1')).toBeNull();
          }
          await store.write([del(c, 'T-1', 2)]);
          expect(await store.getJson(c, 'T-1')).toBeNull();
          if (store.getJsonNow) expect(store.getJsonNow(c, 'T-1')).toBeNull();
          await store.write([put(c, 'T-1', doc, 3)]);
        }
        const many = await store.getMany(c, ['T-1']);
        expect(many.get('T-1')).toEqual(doc);
        const found = await store.find(c, {});
        expect(found).toEqual([{ id: 'T-1', doc }]);
      });

      it('supports ids with "/", unicode and punctuation', async () => {
        const c = await newCollection('ids');
        const ids = ['trade/2026/01', 'Zürich/東京', 'a b.c:d', "quote'\"id"];
        await store.write(ids.map((id, i) => put(c, id, { i }, i + 1)));
        for (const [i, id] of ids.entries()) {
          expect(await store.get(c, id)).toEqual({ i });
        }
        const many = await store.getMany(c, ids);
        expect([...many.keys()].sort()).toEqual([...ids].sort());
      });

      it('a later put replaces the whole document (no merge)', async () => {
        const c = await newCollection('replace');
        await store.write([put(c, 'x', { a: 1, b: 2 }, 1)]);
        await store.write([put(c, 'x', { a: 3 }, 2)]);
        expect(await store.get(c, 'x')).toEqual({ a: 3 });
      });

      it('getMany returns only present ids, tolerating duplicates and many ids', async () => {
        const c = await newCollection('getmany');
        const writes = Array.from({ length: 1200 }, (_, i) => put(c, `id-${String(i).padStart(5, '0')}`, { i }, i + 1));
        await store.write(writes);
        const ask = ['id-00000', 'id-00000', 'missing', 'id-01199', ...writes.map((w) => w.id)];
        const many = await store.getMany(c, ask);
        expect(many.size).toBe(1200);
        expect(many.get('id-00000')).toEqual({ i: 0 });
        expect(many.get('id-01199')).toEqual({ i: 1199 });
        expect(many.has('missing')).toBe(false);
      });

      it('reading a collection that was never ensured returns nothing', async () => {
        const c = fresh('never');
        expect(await store.get(c, 'x')).toBeNull();
        expect((await store.getMany(c, ['x'])).size).toBe(0);
        expect(await store.find(c, {})).toEqual([]);
        expect(await store.countBy(c, 'status')).toEqual({});
      });

      it('one batch may write to several collections', async () => {
        const a = await newCollection('multiA');
        const b = await newCollection('multiB');
        await store.write([put(a, '1', { in: 'a' }, 5), put(b, '1', { in: 'b' }, 5), put(a, '2', { in: 'a2' }, 6)]);
        expect(await store.get(a, '1')).toEqual({ in: 'a' });
        expect(await store.get(b, '1')).toEqual({ in: 'b' });
        expect(await store.get(a, '2')).toEqual({ in: 'a2' });
        expect(await store.get(b, '2')).toBeNull();
      });

      it('an empty write is a no-op', async () => {
        await store.write([]);
        await store.write([], []);
      });
    });

    describe('position guard', () => {
      it('never lets an older or equal position overwrite a newer one', async () => {
        const c = await newCollection('guard');
        await store.write([put(c, 'x', { v: 'ten' }, 10)]);
        await store.write([put(c, 'x', { v: 'five' }, 5)]);
        expect(await store.get(c, 'x')).toEqual({ v: 'ten' });
        await store.write([put(c, 'x', { v: 'ten again' }, 10)]);
        expect(await store.get(c, 'x')).toEqual({ v: 'ten' });
        await store.write([put(c, 'x', { v: 'eleven' }, 11)]);
        expect(await store.get(c, 'x')).toEqual({ v: 'eleven' });
      });

      it('applies the fresh writes of a batch whose other writes are stale', async () => {
        const c = await newCollection('mixed');
        await store.write([put(c, 'b', { v: 'b20' }, 20), put(c, 'd', { v: 'd20' }, 20)]);
        // Stale writes first, between and last: the fresh ones must all land.
        await store.write([
          put(c, 'b', { v: 'b-stale' }, 3),
          put(c, 'a', { v: 'a5' }, 5),
          put(c, 'd', { v: 'd-stale' }, 4),
          put(c, 'c', { v: 'c6' }, 6),
          del(c, 'b', 7),
          put(c, 'e', { v: 'e8' }, 8),
        ]);
        expect(await store.get(c, 'a')).toEqual({ v: 'a5' });
        expect(await store.get(c, 'b')).toEqual({ v: 'b20' });
        expect(await store.get(c, 'c')).toEqual({ v: 'c6' });
        expect(await store.get(c, 'd')).toEqual({ v: 'd20' });
        expect(await store.get(c, 'e')).toEqual({ v: 'e8' });
      });

      it('replaying a batch (and its checkpoint) is a no-op', async () => {
        const c = await newCollection('replay', ['status']);
        const cp = fresh('cp');
        const batch: DocumentWrite[] = [
          put(c, '1', { status: 'new', n: 1 }, 100),
          put(c, '2', { status: 'new', n: 2 }, 101),
          put(c, '3', { status: 'new', n: 3 }, 102),
          del(c, '2', 103),
        ];
        await store.write(batch, [{ name: cp, position: 103 }]);
        const snapshot = await store.find(c, {});
        await store.write(batch, [{ name: cp, position: 103 }]);
        expect(await store.find(c, {})).toEqual(snapshot);
        expect(await store.readCheckpoint(cp)).toBe(103);

        // Later events moved on; replaying the old batch must not undo them.
        await store.write([put(c, '1', { status: 'done', n: 1 }, 200), put(c, '2', { status: 'again', n: 2 }, 201)]);
        const later = await store.find(c, {});
        await store.write(batch);
        expect(await store.find(c, {})).toEqual(later);
        expect(later.map((r) => r.id)).toEqual(['1', '2', '3']);
        expect(await store.get(c, '1')).toEqual({ status: 'done', n: 1 });
        expect(await store.countBy(c, 'status')).toEqual({ done: 1, again: 1, new: 1 });
      });

      it('applies large batches of updates to existing documents completely', async () => {
        const c = await newCollection('large', ['status']);
        const n = 150;
        const idOf = (i: number): string => `doc-${String(i).padStart(4, '0')}`;
        await store.write(Array.from({ length: n }, (_, i) => put(c, idOf(i), { status: 'new', i }, i + 1)));
        await store.write(
          Array.from({ length: n }, (_, i) =>
            i % 10 === 0 ? del(c, idOf(i), 1000 + i) : put(c, idOf(i), { status: 'updated', i }, 1000 + i),
          ),
        );
        expect(await store.countBy(c, 'status')).toEqual({ updated: n - n / 10 });
        expect(await store.get(c, idOf(1))).toEqual({ status: 'updated', i: 1 });
        expect(await store.get(c, idOf(10))).toBeNull();
      });

      it('concurrent writes to the same ids converge on the highest position', async () => {
        const c = await newCollection('race');
        const ids = Array.from({ length: 20 }, (_, i) => `r${i}`);
        const batch = (pos: number): DocumentWrite[] => ids.map((id) => put(c, id, { pos }, pos));
        await Promise.all([3, 1, 4, 2, 5].map((p) => store.write(batch(p))));
        const many = await store.getMany(c, ids);
        expect(many.size).toBe(ids.length);
        for (const id of ids) expect(many.get(id)).toEqual({ pos: 5 });
        await Promise.all([store.write(batch(7)), store.write([...ids.map((id) => del(c, id, 6))]), store.write(batch(6))]);
        for (const id of ids) expect(await store.get(c, id)).toEqual({ pos: 7 });
      });

      it('several writes to one id in a batch end as if applied in order', async () => {
        const c = await newCollection('sameid');
        await store.write([put(c, 'x', { v: 5 }, 5), put(c, 'x', { v: 6 }, 6)]);
        expect(await store.get(c, 'x')).toEqual({ v: 6 });
        await store.write([put(c, 'y', { v: 8 }, 8), put(c, 'y', { v: 7 }, 7)]);
        expect(await store.get(c, 'y')).toEqual({ v: 8 });
        await store.write([put(c, 'z', { v: 9 }, 9), del(c, 'z', 10)]);
        expect(await store.get(c, 'z')).toBeNull();
        await store.write([del(c, 'w', 11), put(c, 'w', { v: 12 }, 12)]);
        expect(await store.get(c, 'w')).toEqual({ v: 12 });
        // Same position twice: the first one wins (the second is "not greater").
        await store.write([put(c, 'v', { v: 'first' }, 13), put(c, 'v', { v: 'second' }, 13)]);
        expect(await store.get(c, 'v')).toEqual({ v: 'first' });
      });
    });

    describe('deletes', () => {
      it('delete removes a document written at an older position', async () => {
        const c = await newCollection('del');
        await store.write([put(c, 'x', { v: 1 }, 10)]);
        await store.write([del(c, 'x', 12)]);
        expect(await store.get(c, 'x')).toBeNull();
      });

      it('an older delete does not remove a newer document', async () => {
        const c = await newCollection('delold');
        await store.write([put(c, 'x', { v: 1 }, 10)]);
        await store.write([del(c, 'x', 5)]);
        expect(await store.get(c, 'x')).toEqual({ v: 1 });
        await store.write([del(c, 'x', 10)]);
        expect(await store.get(c, 'x')).toEqual({ v: 1 });
      });

      it('an older put replayed after a delete does not resurrect the document', async () => {
        const c = await newCollection('resurrect');
        await store.write([put(c, 'x', { v: 1 }, 10)]);
        await store.write([del(c, 'x', 12)]);
        await store.write([put(c, 'x', { v: 'old' }, 11)]);
        expect(await store.get(c, 'x')).toBeNull();
        await store.write([put(c, 'x', { v: 'old' }, 12)]);
        expect(await store.get(c, 'x')).toBeNull();
        await store.write([put(c, 'x', { v: 'new' }, 13)]);
        expect(await store.get(c, 'x')).toEqual({ v: 'new' });
      });

      it('a delete of an absent document still guards against older puts', async () => {
        const c = await newCollection('delabsent');
        await store.write([del(c, 'x', 3)]);
        expect(await store.get(c, 'x')).toBeNull();
        await store.write([put(c, 'x', { v: 2 }, 2)]);
        expect(await store.get(c, 'x')).toBeNull();
        await store.write([put(c, 'x', { v: 4 }, 4)]);
        expect(await store.get(c, 'x')).toEqual({ v: 4 });
      });

      it('deleted documents are invisible to get, getMany, find and countBy', async () => {
        const c = await newCollection('invisible', ['status']);
        await store.write([
          put(c, 'a', { status: 'open', note: null }, 1),
          put(c, 'b', { status: 'open', note: null }, 2),
          put(c, 'c', { status: 'closed', note: null }, 3),
        ]);
        await store.write([del(c, 'b', 4), del(c, 'c', 5), del(c, 'never', 6)]);
        expect(await store.get(c, 'b')).toBeNull();
        expect([...(await store.getMany(c, ['a', 'b', 'c', 'never'])).keys()]).toEqual(['a']);
        expect((await store.find(c, {})).map((r) => r.id)).toEqual(['a']);
        expect((await store.find(c, { where: { status: ['open', 'closed'] } })).map((r) => r.id)).toEqual(['a']);
        expect((await store.find(c, { where: { note: null } })).map((r) => r.id)).toEqual(['a']);
        expect((await store.find(c, { afterId: '' })).map((r) => r.id)).toEqual(['a']);
        expect(await store.countBy(c, 'status')).toEqual({ open: 1 });
      });
    });

    describe('find', () => {
      async function seeded(): Promise<string> {
        const c = await newCollection('find', ['status', 'book']);
        const rows: Array<[string, Document]> = [
          ['t01', { status: 'open', book: 'RATES', qty: 10, live: true, desk: 'EMEA/London' }],
          ['t02', { status: 'closed', book: 'RATES', qty: 20, live: false, desk: 'EMEA/Zürich' }],
          ['t03', { status: 'open', book: 'FX', qty: 10, live: true, desk: 'APAC/東京' }],
          ['t04', { status: 'cancelled', book: 'FX', qty: 30, live: false, desk: 'EMEA/London' }],
          ['t05', { status: 'open', book: 'CREDIT', qty: 20, live: true, desk: null }],
          ['t06', { status: 'closed', book: 'FX', qty: 10, live: false, desk: 'AMER/NY' }],
        ];
        // Written out of id order, across two batches.
        await store.write(rows.slice(3).map(([id, doc], i) => put(c, id, doc, 10 + i)));
        await store.write(rows.slice(0, 3).map(([id, doc], i) => put(c, id, doc, 20 + i)));
        return c;
      }
      const ids = (rows: Array<{ id: string }>): string[] => rows.map((r) => r.id);

      it('returns everything ordered by id ascending, with documents', async () => {
        const c = await seeded();
        const all = await store.find(c, {});
        expect(ids(all)).toEqual(['t01', 't02', 't03', 't04', 't05', 't06']);
        expect(all[2]).toEqual({ id: 't03', doc: { status: 'open', book: 'FX', qty: 10, live: true, desk: 'APAC/東京' } });
      });

      it('filters by equality on strings, numbers, booleans and null, ANDed', async () => {
        const c = await seeded();
        expect(ids(await store.find(c, { where: { status: 'open' } }))).toEqual(['t01', 't03', 't05']);
        expect(ids(await store.find(c, { where: { qty: 10 } }))).toEqual(['t01', 't03', 't06']);
        expect(ids(await store.find(c, { where: { live: false } }))).toEqual(['t02', 't04', 't06']);
        expect(ids(await store.find(c, { where: { desk: null } }))).toEqual(['t05']);
        expect(ids(await store.find(c, { where: { desk: 'EMEA/Zürich' } }))).toEqual(['t02']);
        expect(ids(await store.find(c, { where: { status: 'open', book: 'FX' } }))).toEqual(['t03']);
        expect(ids(await store.find(c, { where: { status: 'open', qty: 20 } }))).toEqual(['t05']);
        expect(await store.find(c, { where: { status: 'nope' } })).toEqual([]);
      });

      it('treats an array value as "any of" ($in)', async () => {
        const c = await seeded();
        expect(ids(await store.find(c, { where: { book: ['FX', 'CREDIT'] } }))).toEqual(['t03', 't04', 't05', 't06']);
        expect(ids(await store.find(c, { where: { qty: [20, 30] } }))).toEqual(['t02', 't04', 't05']);
        expect(ids(await store.find(c, { where: { book: ['FX'], status: ['closed', 'cancelled'] } }))).toEqual([
          't04',
          't06',
        ]);
        expect(await store.find(c, { where: { book: [] } })).toEqual([]);
      });

      it('filters indexed fields of every kind as it filters fields without an index', async () => {
        // The same filters on a collection that indexes every field and one that indexes none: an
        // adapter that keeps indexed fields apart from the document must keep their kinds apart too.
        const rows: Array<[string, Document]> = [
          ['a', { status: 'open', qty: 10, price: 1.5, live: true, desk: 'EMEA' }],
          ['b', { status: 'closed', qty: 20, price: 2.25, live: false, desk: null }],
          ['c', { status: '10', qty: '10', price: 1.5, live: 'true', desk: 'APAC' }],
          ['d', { status: 'open', qty: 10.5, price: -3, live: false, desk: 'EMEA' }],
          ['e', { status: 'gone', qty: 10, price: 1.5, live: true, desk: 'EMEA' }],
        ];
        const queries: Where[] = [
          { qty: 10 },
          { qty: '10' },
          { qty: 10.5 },
          { price: 1.5 },
          { price: -3 },
          { live: true },
          { live: false },
          { live: 'true' },
          { desk: null },
          { status: '10' },
          { qty: [10, 20] },
          { status: 'open', live: true },
        ];
        const results = [];
        for (const indexed of [['status', 'qty', 'price', 'live', 'desk'], []]) {
          const c = await newCollection('kinds', indexed);
          await store.write(rows.map(([id, doc], i) => put(c, id, doc, i + 1)));
          await store.write([del(c, 'e', 10), put(c, 'd', { status: 'open', qty: 10.5, price: -3, live: false, desk: 'EMEA' }, 11)]);
          results.push(await Promise.all(queries.map(async (where) => ids(await store.find(c, { where })))));
        }
        expect(results[0]).toEqual(results[1]);
        expect(results[0]).toEqual([['a'], ['c'], ['d'], ['a', 'c'], ['d'], ['a'], ['b', 'd'], ['c'], ['b'], ['c'], ['a', 'b'], ['a']]);
      });

      it('filters on fields that have no index', async () => {
        const c = await seeded();
        expect(ids(await store.find(c, { where: { desk: 'EMEA/London' } }))).toEqual(['t01', 't04']);
      });

      it('pages with afterId and limit', async () => {
        const c = await seeded();
        expect(ids(await store.find(c, { limit: 2 }))).toEqual(['t01', 't02']);
        expect(ids(await store.find(c, { afterId: 't02', limit: 2 }))).toEqual(['t03', 't04']);
        expect(ids(await store.find(c, { afterId: 't02' }))).toEqual(['t03', 't04', 't05', 't06']);
        expect(ids(await store.find(c, { afterId: 't025' }))).toEqual(['t03', 't04', 't05', 't06']);
        expect(await store.find(c, { afterId: 't06' })).toEqual([]);
        expect(ids(await store.find(c, { where: { status: 'open' }, afterId: 't01', limit: 1 }))).toEqual(['t03']);
        expect(ids(await store.find(c, { limit: 100 }))).toHaveLength(6);

        // Paging through everything visits each row exactly once.
        const seen: string[] = [];
        let afterId: string | undefined;
        for (;;) {
          const page = await store.find(c, afterId === undefined ? { limit: 4 } : { afterId, limit: 4 });
          if (page.length === 0) break;
          seen.push(...ids(page));
          afterId = page[page.length - 1]!.id;
        }
        expect(seen).toEqual(['t01', 't02', 't03', 't04', 't05', 't06']);
      });
    });

    describe('countBy', () => {
      it('counts documents per distinct value, optionally filtered', async () => {
        const c = await newCollection('count', ['status']);
        await store.write([
          put(c, '1', { status: 'open', book: 'FX', desk: 'EMEA/London' }, 1),
          put(c, '2', { status: 'open', book: 'RATES', desk: 'EMEA/Zürich' }, 2),
          put(c, '3', { status: 'closed', book: 'FX', desk: 'EMEA/Zürich' }, 3),
          put(c, '4', { status: 'open', book: 'FX', desk: 'APAC/東京' }, 4),
        ]);
        expect(await store.countBy(c, 'status')).toEqual({ open: 3, closed: 1 });
        expect(await store.countBy(c, 'status', { book: 'FX' })).toEqual({ open: 2, closed: 1 });
        expect(await store.countBy(c, 'book', { status: ['closed', 'open'] })).toEqual({ FX: 3, RATES: 1 });
        expect(await store.countBy(c, 'desk')).toEqual({ 'EMEA/London': 1, 'EMEA/Zürich': 2, 'APAC/東京': 1 });
        expect(await store.countBy(c, 'status', { book: 'none' })).toEqual({});
        // A later write moves a document from one group to another.
        await store.write([put(c, '1', { status: 'closed', book: 'FX', desk: 'EMEA/London' }, 5)]);
        expect(await store.countBy(c, 'status')).toEqual({ open: 2, closed: 2 });
      });

      it('returns an empty record for an empty collection', async () => {
        const c = await newCollection('countempty', ['status']);
        expect(await store.countBy(c, 'status')).toEqual({});
      });
    });

    describe('collections', () => {
      it('ensureCollection is idempotent, with or without indexed fields', async () => {
        const c = fresh('ensure');
        await store.ensureCollection(c, ['status', 'book']);
        await store.ensureCollection(c, ['status', 'book']);
        await store.ensureCollection(c, ['status']);
        await store.ensureCollection(c, []);
        await store.write([put(c, 'x', { status: 'open', book: 'FX' }, 1)]);
        await store.ensureCollection(c, ['status', 'book', 'qty']);
        expect(await store.get(c, 'x')).toEqual({ status: 'open', book: 'FX' });
        expect((await store.find(c, { where: { status: 'open' } })).map((r) => r.id)).toEqual(['x']);
      });

      it('ensureCollection called at once by several writers of one new collection succeeds for all', async () => {
        // Partitions of one projection start together and each ensures the same tables (CI once
        // failed on PostgreSQL: "type ... already exists"). Thirty rounds, each on a new collection: the race is rare.
        for (let round = 0; round < 30; round++) {
          const c = fresh(`together${round}`);
          await Promise.all(Array.from({ length: 10 }, () => store.ensureCollection(c, ['status', 'book'])));
          await store.write([put(c, 'x', { status: 'open', book: 'FX' }, 1)]);
          expect((await store.find(c, { where: { status: 'open' } })).map((r) => r.id)).toEqual(['x']);
        }
      });

      it('dropCollection removes documents and tombstones, and tolerates a missing collection', async () => {
        const c = await newCollection('drop', ['status']);
        const other = await newCollection('dropother');
        await store.write([put(c, 'a', { status: 'x' }, 10), put(c, 'b', { status: 'y' }, 11), del(c, 'b', 12)]);
        await store.write([put(other, 'a', { kept: true }, 10)]);
        await store.dropCollection(c);
        expect(await store.get(c, 'a')).toBeNull();
        expect(await store.find(c, {})).toEqual([]);
        expect(await store.countBy(c, 'status')).toEqual({});
        expect(await store.get(other, 'a')).toEqual({ kept: true });

        // Rebuilding from scratch: low positions apply again, deleted ids can come back.
        await store.ensureCollection(c, ['status']);
        await store.write([put(c, 'a', { status: 'rebuilt' }, 1), put(c, 'b', { status: 'rebuilt' }, 2)]);
        expect(await store.get(c, 'a')).toEqual({ status: 'rebuilt' });
        expect(await store.get(c, 'b')).toEqual({ status: 'rebuilt' });

        await store.dropCollection(c);
        await store.dropCollection(c);
        await store.dropCollection(fresh('neverexisted'));
      });
    });

    describe('checkpoints', () => {
      it('reads null when absent, stores, overwrites and deletes', async () => {
        const cp = fresh('cp');
        expect(await store.readCheckpoint(cp)).toBeNull();
        await store.write([], [{ name: cp, position: 42 }]);
        expect(await store.readCheckpoint(cp)).toBe(42);
        await store.write([], [{ name: cp, position: 43 }]);
        expect(await store.readCheckpoint(cp)).toBe(43);
        await store.deleteCheckpoint(cp);
        expect(await store.readCheckpoint(cp)).toBeNull();
        await store.deleteCheckpoint(cp);
        await store.deleteCheckpoint(fresh('neverexisted'));
      });

      it('stores several checkpoints with the writes and keeps them apart', async () => {
        const c = await newCollection('cpwrites');
        const a = fresh('cpA');
        const b = fresh('cpB/with slash and ü');
        await store.write([put(c, 'x', { v: 1 }, 7)], [
          { name: a, position: 7 },
          { name: b, position: 0 },
        ]);
        expect(await store.get(c, 'x')).toEqual({ v: 1 });
        expect(await store.readCheckpoint(a)).toBe(7);
        expect(await store.readCheckpoint(b)).toBe(0);
        await store.deleteCheckpoint(a);
        expect(await store.readCheckpoint(a)).toBeNull();
        expect(await store.readCheckpoint(b)).toBe(0);
      });

      it('stores large positions exactly', async () => {
        const cp = fresh('cpbig');
        const big = 2 ** 53 - 1;
        await store.write([], [{ name: cp, position: big }]);
        expect(await store.readCheckpoint(cp)).toBe(big);
      });

      it('are not stored when the document writes fail', async () => {
        const c = await newCollection('cporder');
        const cp = fresh('cporder');
        const circular: Document = { name: 'cannot be serialised' };
        circular.self = circular;
        await expect(
          store.write([put(c, 'ok', { v: 1 }, 1), put(c, 'bad', circular, 2)], [{ name: cp, position: 2 }]),
        ).rejects.toThrow();
        expect(await store.readCheckpoint(cp)).toBeNull();
        // The store stays usable, and a retry of a repaired batch succeeds.
        await store.write([put(c, 'ok', { v: 1 }, 1), put(c, 'bad', { v: 2 }, 2)], [{ name: cp, position: 2 }]);
        expect(await store.readCheckpoint(cp)).toBe(2);
        expect(await store.get(c, 'bad')).toEqual({ v: 2 });
      });
    });

    describe('settings', () => {
      it('reads null when absent, stores and overwrites', async () => {
        const key = fresh('setting');
        expect(await store.getSetting(key)).toBeNull();
        await store.setSetting(key, 'generation-1');
        expect(await store.getSetting(key)).toBe('generation-1');
        await store.setSetting(key, 'génération/2 🚀');
        expect(await store.getSetting(key)).toBe('génération/2 🚀');
        await store.setSetting(key, '');
        expect(await store.getSetting(key)).toBe('');
        const other = fresh('setting/other');
        await store.setSetting(other, 'x');
        expect(await store.getSetting(key)).toBe('');
        expect(await store.getSetting(other)).toBe('x');
      });
    });
  });
}
