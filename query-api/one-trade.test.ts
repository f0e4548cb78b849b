import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../eventstore/index.js';
import { collectionOf, LiveReadModels, tradesProjection, type TradeView } from '../projections/index.js';
import type { ReadStore } from '../readstore/index.js';
import { SqliteReadStore } from '../readstore/sqlite/index.js';
import { createHttpServer, registerQueryApi } from './server.js';

const REF = 'T/1';
const PATH = `/trades/${encodeURIComponent(REF)}`;

function trade(version: number, account = 'A'): TradeView {
  const event: RecordedEvent = {
    id: `e-${version}`, type: 'VersionApplied', stream: `trade-${REF}`, revision: version - 1, position: version, recordedAt: new Date(0), metadata: { correlationId: REF },
    data: { type: 'VersionApplied', tradeRef: REF, version: 1, terms: { account, isin: 'GB0002634946', side: 'BUY', quantity: 100 * version, price: '12.5', currency: 'GBP', tradeDate: '2026-11-27', settleDate: '2026-11-30', counterparty: 'C' } },
  };
  return { ...tradesProjection.apply(null, event, REF)!, asOf: version };
}

describe('GET /trades/{ref}', () => {
  const closing: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closing.splice(0)) await close();
  });

  async function serve(options: { reads?: (store: SqliteReadStore) => ReadStore; waitForPosition?: (position: number) => Promise<boolean>; commitQueued?: () => boolean } = {}) {
    const store = SqliteReadStore.open(join(mkdtempSync(join(tmpdir(), 'kepler-one-trade-')), 'read.db'));
    closing.push(() => store.close());
    for (const generation of [1, 2]) await store.ensureCollection(collectionOf('trades', generation), []);
    const put = (generation: number, doc: TradeView, position: number) =>
      store.write([{ kind: 'put', collection: collectionOf('trades', generation), id: REF, doc: doc as unknown as Record<string, unknown>, position }]);
    const logger = pino({ level: 'silent' });
    const app = await createHttpServer(logger);
    closing.push(() => app.close());
    const waited: number[] = [];
    registerQueryApi(app, {
      reads: options.reads ? options.reads(store) : store,
      logger,
      status: async () => ({ caughtUp: true, head: 0, subscriptions: [] }),
      waitForPosition: async (_projection, position) => {
        waited.push(position);
        return options.waitForPosition ? options.waitForPosition(position) : true;
      },
      ...(options.commitQueued && { commitQueued: options.commitQueued }),
    });
    return { app, store, put, waited };
  }

  it('answers the stored trade without the read model’s fields, the same on the first request (generation looked up) and the next ones (cached)', async () => {
    const { app, put } = await serve();
    await put(1, trade(1), 1);
    const first = await app.inject({ method: 'GET', url: PATH });
    const second = await app.inject({ method: 'GET', url: PATH });
    for (const answer of [first, second]) {
      expect(answer.statusCode, answer.body).toBe(200);
      expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(answer.headers.etag).toBe('"1"');
      expect(answer.json()).toMatchObject({ tradeRef: REF, version: 1, quantity: 100 });
      expect(answer.json()).not.toHaveProperty('asOf');
    }
    expect(second.body).toBe(first.body);
    const missing = await app.inject({ method: 'GET', url: '/trades/nope' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(missing.json()).toMatchObject({ type: '/problems/not-found', instance: '/trades/nope' });
  });

  /** The order of the common case's read, the rest of its turn and its write, and the answer. */
  async function commonCase(commitQueued?: () => boolean) {
    const order: string[] = [];
    const { app, put } = await serve({
      ...(commitQueued && { commitQueued }),
      reads: (store) => {
        // The store itself, its reads recorded (a wrapper object would keep a snapshot of its own).
        const getJsonNow = store.getJsonNow.bind(store);
        const getJson = store.getJson.bind(store);
        store.getJsonNow = (collection: string, id: string) => {
          order.push('read');
          // Runs once the callback that read has returned, before the turn goes on.
          process.nextTick(() => order.push('rest of the turn'));
          return getJsonNow(collection, id);
        };
        store.getJson = (collection: string, id: string) => {
          order.push('read with a promise');
          return getJson(collection, id);
        };
        return store;
      },
    });
    app.addHook('onSend', async (_request, _reply, payload) => {
      order.push('write');
      return payload;
    });
    await put(1, trade(1), 1);
    // The first request looks the generation up (the promise path) and caches it for 100 ms: the
    // common case is the next one read while it is cached (tried again on a machine slow enough to let it expire).
    let answer = await app.inject({ method: 'GET', url: PATH });
    for (let tries = 0; tries < 10; tries++) {
      order.length = 0;
      answer = await app.inject({ method: 'GET', url: PATH });
      if (order[0] === 'read') break;
    }
    return { order, answer };
  }

  it('writes the common case’s answer once its turn’s callbacks are done, not as it is read, and the same answer', async () => {
    const { order, answer } = await commonCase();
    expect(order).toEqual(['read', 'rest of the turn', 'write']);
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.headers.etag).toBe('"1"');
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(answer.json()).toMatchObject({ tradeRef: REF, version: 1, quantity: 100 });
  });

  it('writes the common case’s answer at once while a commit of the event store is queued for the turn’s end, and the same answer', async () => {
    const { order, answer } = await commonCase(() => true);
    expect(order).toEqual(['read', 'write', 'rest of the turn']);
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.headers.etag).toBe('"1"');
    expect(answer.json()).toMatchObject({ tradeRef: REF, version: 1, quantity: 100 });
  });

  it('waits for the position a request asks for (query or header), refuses a header that is not one, and takes an empty parameter as none', async () => {
    const { app, put, waited } = await serve();
    await put(1, trade(1), 1);
    await app.inject({ method: 'GET', url: PATH }); // the generation is cached from here on
    expect((await app.inject({ method: 'GET', url: `${PATH}?minPosition=7` })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: PATH, headers: { 'kepler-min-position': '9' } })).statusCode).toBe(200);
    expect(waited).toEqual([7, 9]);
    const invalid = await app.inject({ method: 'GET', url: PATH, headers: { 'kepler-min-position': 'soon' } });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json()).toMatchObject({ type: '/problems/invalid-parameter', parameter: 'kepler-min-position' });
    const empty = await app.inject({ method: 'GET', url: `${PATH}?minPosition=` });
    expect(empty.statusCode, empty.body).toBe(200);
    expect(waited).toEqual([7, 9]);
    expect((await app.inject({ method: 'GET', url: `${PATH}?minPosition=x` })).statusCode).toBe(400);
  });

  it('answers 503 when the read model does not reach the position, even once the generation is cached', async () => {
    const { app, put } = await serve({ waitForPosition: async () => false });
    await put(1, trade(1), 1);
    await app.inject({ method: 'GET', url: PATH });
    const late = await app.inject({ method: 'GET', url: `${PATH}?minPosition=5` });
    expect(late.statusCode).toBe(503);
    expect(late.headers['retry-after']).toBe('1');
  });

  it('reads the generation a rebuild promoted, once the cache has expired', async () => {
    const { app, store, put } = await serve();
    await put(1, trade(1), 1);
    await put(2, trade(2), 2);
    expect((await app.inject({ method: 'GET', url: PATH })).json()).toMatchObject({ quantity: 100 });
    await new LiveReadModels(store).promote('trades', 2, 1);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect((await app.inject({ method: 'GET', url: PATH })).json()).toMatchObject({ quantity: 200 });
  });

  it('answers the same from a store that can only read with a promise', async () => {
    const { app, put } = await serve({
      reads: (store) => {
        const { getJsonNow: _now, ...rest } = Object.fromEntries(
          Object.getOwnPropertyNames(Object.getPrototypeOf(store)).filter((name) => name !== 'constructor').map((name) => [name, (store as unknown as Record<string, (...args: unknown[]) => unknown>)[name]!.bind(store)]),
        );
        return rest as unknown as ReadStore;
      },
    });
    await put(1, trade(1), 1);
    await app.inject({ method: 'GET', url: PATH });
    const answer = await app.inject({ method: 'GET', url: PATH });
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.json()).toMatchObject({ tradeRef: REF, version: 1 });
    expect(answer.headers.etag).toBe('"1"');
  });
});

describe('query strings', () => {
  it('takes an empty parameter as absent, before validation and defaults, on every route with a query schema', async () => {
    const app = await createHttpServer(pino({ level: 'silent' }));
    app.get('/q', { schema: { querystring: { type: 'object', properties: { limit: { type: 'integer' }, status: { type: 'string', enum: ['OPEN'] }, page: { type: 'integer', default: 1 } } } } }, async (request) => request.query);
    try {
      expect((await app.inject({ method: 'GET', url: '/q?limit=&status=&page=' })).json()).toEqual({ page: 1 });
      expect((await app.inject({ method: 'GET', url: '/q?limit=5&status=' })).json()).toEqual({ limit: 5, page: 1 });
      const invalid = await app.inject({ method: 'GET', url: '/q?limit=x&status=SHUT' });
      expect(invalid.statusCode).toBe(400);
      // Every invalid field is reported, as before.
      expect(invalid.body).toMatch(/limit/);
      expect(invalid.body).toMatch(/status/);
    } finally {
      await app.close();
    }
  });
});
