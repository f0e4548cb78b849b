// The platform against the feed generator's own expectations (worked out from the spec,
// independently of the platform), on a feed with every scenario, in several file orders.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateFeed, MIXED_RATES, writeFeed, type GeneratedFeed } from '../../bench/feed-generator.js';
import { tempDir } from '../support/feed.js';
import { ingest, KeplerServer } from '../support/kepler.js';

const FEED: GeneratedFeed = generateFeed({
  seed: 2026,
  trades: 1200,
  filesPerSource: 3,
  rates: MIXED_RATES,
  badLines: { wrongLength: 3, badIsin: 3, badDate: 2, unknownType: 2, sourceMismatch: 2 },
  brokenTrailers: { wrongCount: 1, wrongTotal: 1, missing: 1 },
});

type TradeJson = {
  tradeRef: string;
  status: string;
  version: number;
  bookedVersion: number | null;
  allocations: unknown[];
  confirmation: { status: string; quantity: number; price: string } | null;
  [field: string]: unknown;
};

const ORDERS: Record<string, (paths: string[]) => string[]> = {
  'as generated': (paths) => paths,
  'reversed': (paths) => [...paths].reverse(),
  'allocations and confirmations first': (paths) => [...paths.filter((p) => !p.includes('CORE_')), ...paths.filter((p) => p.includes('CORE_'))],
};

describe('a generated feed with every scenario', () => {
  for (const [name, order] of Object.entries(ORDERS)) {
    it(`ends as the spec says, ingested ${name}`, async () => {
      const dir = tempDir();
      const paths = await writeFeed(FEED, dir);
      const dataDir = join(dir, 'data');
      const server = await KeplerServer.start(dataDir);
      try {
        const summaries = await ingest(dataDir, order(paths));
        const total = summaries.reduce((t, s) => ({ lines: t.lines + s.lines, accepted: t.accepted + s.accepted, duplicates: t.duplicates + s.duplicates, rejected: t.rejected + s.rejected }), { lines: 0, accepted: 0, duplicates: 0, rejected: 0 });
        expect(total).toEqual({ lines: FEED.totals.detailLines, accepted: FEED.totals.accepted, duplicates: FEED.totals.duplicates, rejected: FEED.totals.rejected });
        expect(Object.fromEntries(summaries.map((s) => [s.file, s.trailer]))).toEqual(Object.fromEntries(FEED.files.map((f) => [f.name, f.trailer])));
        await server.caughtUp(120_000);

        const trades = new Map((await server.all<TradeJson>('/trades')).map((t) => [t.tradeRef, t]));
        expect(trades.size).toBeGreaterThanOrEqual(FEED.trades.length);
        for (const expected of FEED.trades) {
          const actual = trades.get(expected.tradeRef);
          expect(actual, expected.tradeRef).toBeDefined();
          expect(
            { status: actual!.status, version: actual!.version, bookedVersion: actual!.bookedVersion, allocations: actual!.allocations, confirmation: actual!.confirmation && { status: actual!.confirmation.status, quantity: actual!.confirmation.quantity, price: actual!.confirmation.price } },
            `${expected.tradeRef} (${expected.scenarios.join(', ')})`,
          ).toEqual({ status: expected.status, version: expected.effectiveVersion, bookedVersion: expected.bookedVersion, allocations: expected.allocations, confirmation: expected.confirmation });
          if (expected.terms) expect(actual, expected.tradeRef).toMatchObject(expected.terms);
        }

        const positions = (await server.json<{ items: unknown[] }>('/positions')).items;
        expect(positions).toEqual(FEED.positions);

        const exceptions = await server.all<{ code: string; file: string; line: number; tradeRef: string }>('/exceptions');
        for (const rejection of FEED.rejections) {
          expect(exceptions, `${rejection.code} ${rejection.file}:${rejection.line}`).toContainEqual(expect.objectContaining({ code: rejection.code, tradeRef: rejection.tradeRef }));
        }
        const domain = exceptions.filter((e) => e.code === 'VERSION_CONFLICT' || e.code === 'TRADE_CANCELLED');
        expect(domain.map((e) => `${e.code} ${e.tradeRef}`).sort()).toEqual(FEED.exceptions.map((e) => `${e.code} ${e.tradeRef}`).sort());
        const counts = await server.json<Record<string, number>>('/exceptions/counts');
        expect(counts.TRAILER_MISMATCH).toBe(FEED.files.filter((f) => f.trailer !== 'OK').length);
      } finally {
        await server.stop();
      }
    }, 180_000);
  }
});
