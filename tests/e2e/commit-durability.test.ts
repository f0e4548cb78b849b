// Never answered before committed: serve is killed (SIGKILL) the moment a
// command is answered 201, while other commands are still in flight, and every
// command answered 201 has its events in the store afterwards: a group commit
// answers every command of its group only once the group's fsync has returned.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/feed.js';
import { KeplerServer } from '../support/kepler.js';

const TERMS = { account: 'ACC-1', isin: 'US0378331005', side: 'BUY', quantity: 100, price: '10.5', currency: 'USD', tradeDate: '2026-11-27', settleDate: '2026-11-30', counterparty: 'CPTY' };

describe('commands are durable when answered', () => {
  it('every command answered 201 before a SIGKILL has its events in the store after it', async () => {
    const dataDir = join(tempDir('kepler-durable-'), 'data');
    for (let round = 0; round < 3; round++) {
      const server = await KeplerServer.start(dataDir);
      const answered: string[] = [];
      let killed: Promise<void> | null = null;
      // Closed-loop senders, so that commits are in flight (and gathering) when the kill lands.
      const senders = Array.from({ length: 16 }, async (_, sender) => {
        for (let n = 0; killed === null; n++) {
          const tradeRef = `R${round}-S${sender}-${n}`;
          let status: number;
          try {
            status = (await fetch(`${server.url}/trades`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tradeRef, ...TERMS }) })).status;
          } catch {
            return; // the process is gone: this one was never answered
          }
          if (status !== 201) throw new Error(`POST /trades answered ${status}`);
          answered.push(tradeRef);
          // Right after the 50th answer, with 15 other commands on their way.
          if (answered.length === 50) killed ??= server.kill();
        }
      });
      await Promise.all(senders);
      await killed;
      expect(answered.length).toBeGreaterThanOrEqual(50);
      const db = new Database(join(dataDir, 'events.db'), { readonly: true });
      const stored = db.prepare("SELECT count(*) AS n FROM events WHERE stream = ? AND type = 'VersionApplied'");
      const missing = answered.filter((ref) => (stored.get(`trade-${ref}`) as { n: number }).n !== 1);
      db.close();
      expect(missing).toEqual([]);
    }
    // And the platform starts again on that store, and goes on from it.
    const server = await KeplerServer.start(dataDir);
    try {
      const again = await fetch(`${server.url}/trades`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tradeRef: 'AFTER', ...TERMS }) });
      expect(again.status).toBe(201);
    } finally {
      await server.stop();
    }
  }, 300_000);
});
