import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../eventstore/index.js';
import { checkpointOf, collectionOf, tradesProjection, type TradeView } from '../projections/index.js';
import { SqliteReadStore } from '../readstore/sqlite/index.js';
import { createHttpServer, registerQueryApi } from './server.js';

const REF = 'T1';
const TRADES = collectionOf('trades', 1);
const CHECKPOINT = checkpointOf('trades', 1, { index: 0, count: 1 });

/** The trade's document as the trades projection stores it after the first `count` versions. */
function tradeAfter(count: number): TradeView {
  let doc: TradeView | null = null;
  for (let version = 1; version <= count; version++) {
    const event: RecordedEvent = {
      id: `e-${version}`, type: 'VersionApplied', stream: `trade-${REF}`, revision: version - 1, position: version, recordedAt: new Date(0), metadata: { correlationId: REF },
      data: { type: 'VersionApplied', tradeRef: REF, version, terms: { account: 'A', isin: 'GB0002634946', side: 'BUY', quantity: 100 * version, price: '12.5', currency: 'GBP', tradeDate: '2026-11-27', settleDate: '2026-11-30', counterparty: 'C' } },
    };
    doc = { ...tradesProjection.apply(doc, event, REF)!, asOf: version };
  }
  return doc!;
}

describe('read-your-writes against a read snapshot shared by the requests of a turn', () => {
  const closing: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closing.splice(0)) await close();
  });

  it('a request that waited for a commit reads what it wrote, even if a request of the same turn read before the commit', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'kepler-ryw-')), 'read.db');
    // The projections thread's connection, and the API's.
    const projections = SqliteReadStore.open(path);
    const api = SqliteReadStore.open(path);
    closing.push(() => projections.close(), () => api.close());
    await projections.ensureCollection(TRADES, []);
    const commit = (version: number) =>
      projections.write([{ kind: 'put', collection: TRADES, id: REF, doc: tradeAfter(version) as unknown as Record<string, unknown>, position: version }], [{ name: CHECKPOINT, position: version }]);
    await commit(1);

    const logger = pino({ level: 'silent' });
    const app = await createHttpServer(logger);
    closing.push(() => app.close());
    registerQueryApi(app, {
      reads: api,
      logger,
      status: async () => ({ caughtUp: true, head: 0, subscriptions: [] }),
      // The race, in one turn of the event loop: another request reads the trade (its snapshot is
      // taken), then the projections commit version 2 and say so, which ends this request's wait.
      waitForPosition: async (_projection, position) => {
        expect(JSON.parse((await api.getJson(TRADES, REF))!)).toMatchObject({ version: 1 });
        await commit(position);
        return true;
      },
    });

    const answer = await app.inject({ method: 'GET', url: `/trades/${REF}?minPosition=2` });
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.json()).toMatchObject({ tradeRef: REF, version: 2, quantity: 200 });
    expect(answer.headers.etag).toBe('"2"');
  });
});
