// `npm start`: a newcomer sees the sample feed at once, and a second start does not load it again.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/feed.js';
import { KeplerServer } from '../support/kepler.js';

describe('kepler start (npm start)', () => {
  it('loads the bundled sample feed into an empty data directory and says where to look', async () => {
    const dataDir = join(tempDir(), 'data');
    let server = await KeplerServer.start(dataDir, { command: 'start' });
    try {
      // The guide is printed once the sample feed is in the store.
      await waitFor(() => server.stdout.includes('/trades'));
      await server.caughtUp();
      const statuses = Object.fromEntries(
        (await server.all<{ tradeRef: string; status: string }>('/trades')).map((t) => [t.tradeRef, t.status]),
      );
      expect(statuses).toEqual({ 'KPL-0001': 'BOOKED', 'KPL/0002': 'BOOKED', 'KPL-0003': 'CANCELLED', 'KPL-0005': 'AWAITING_TRADE', 'KPL-0007': 'PENDING' });
      expect(await server.json('/exceptions/counts')).toEqual({
        INVALID_RECORD: 1,
        SOURCE_MISMATCH: 1,
        SEQUENCE_CONFLICT: 1,
        VERSION_CONFLICT: 1,
        TRADE_CANCELLED: 1,
        TRAILER_MISMATCH: 2,
      });
      expect(server.stdout).toContain(server.url);
      expect(server.stdout).toContain('Loaded the sample feed');
    } finally {
      expect(await server.stop()).toBe(0);
    }
    server = await KeplerServer.start(dataDir, { command: 'start' });
    try {
      await waitFor(() => server.stdout.includes('/trades'));
      expect(server.stdout).not.toContain('Loaded the sample feed');
    } finally {
      await server.stop();
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
