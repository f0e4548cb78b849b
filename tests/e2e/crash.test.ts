// Nothing lost, nothing doubled: SIGKILL at arbitrary moments, concurrent ingests.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir, writeFeedFile } from '../support/feed.js';
import { ingest, KeplerServer, runCli, referenceSnapshot, snapshot } from '../support/kepler.js';
import { Rng } from '../../bench/feed-generator.js';
import { busyFeed } from '../support/scenarios.js';

const FEED = busyFeed(6000, 3);


/** The event ids Kepler writes are derived from their causes, so doing any work twice would repeat an id. */
function assertNothingDoubled(dataDir: string) {
  const db = new Database(join(dataDir, 'events.db'), { readonly: true });
  try {
    const repeatedIds = db.prepare('SELECT id, count(*) AS n FROM events GROUP BY id HAVING n > 1 LIMIT 5').all();
    expect(repeatedIds).toEqual([]);
    const rows = db
      .prepare("SELECT stream, type, data FROM events WHERE stream LIKE 'booking-%' AND type IN ('TradeBooked', 'BookingReversed') ORDER BY stream, revision")
      .all() as Array<{ stream: string; type: string; data: string }>;
    const booked = new Map<string, number | null>();
    for (const row of rows) {
      const version = (JSON.parse(row.data) as { version: number }).version;
      if (row.type === 'TradeBooked') {
        expect(booked.get(row.stream) ?? null, `${row.stream} booked twice without a reversal`).toBeNull();
        booked.set(row.stream, version);
      } else {
        expect(booked.get(row.stream), `${row.stream} reversed a booking it did not have`).toBe(version);
        booked.set(row.stream, null);
      }
    }
  } finally {
    db.close();
  }
}

describe('crash safety and concurrency', () => {
  let files: string[];
  let reference: Awaited<ReturnType<typeof snapshot>>;

  beforeAll(async () => {
    const dir = tempDir('kepler-feed-');
    files = FEED.map((spec) => writeFeedFile(dir, spec));
    reference = await referenceSnapshot(join(tempDir('kepler-ref-'), 'data'), files);
    expect(reference.trades.length).toBe(6000);
    expect(reference.trades.filter((t) => (t as { status?: string }).status === 'BOOKED').length).toBeGreaterThan(3000);
  }, 180_000);

  it('SIGKILL of ingest and of serve at arbitrary moments loses nothing and books nothing twice', async () => {
    const dataDir = join(tempDir('kepler-crash-'), 'data');
    const rng = new Rng(42);
    const random = () => rng.next();
    let server = await KeplerServer.start(dataDir);
    let ingestsKilled = 0;
    // Ingest keeps being killed part-way; meanwhile serve is killed and restarted while it processes.
    for (let attempt = 0; attempt < 6; attempt++) {
      const ingesting = runCli(['ingest', '--data-dir', dataDir, '--json', ...files], { killAfterMs: 300 + Math.floor(random() * 900) });
      await new Promise((r) => setTimeout(r, 200 + Math.floor(random() * 800)));
      await server.kill();
      const result = await ingesting;
      if (result.signal === 'SIGKILL') ingestsKilled++;
      server = await KeplerServer.start(dataDir);
    }
    // What an operator does after a crash: ingest the same files again, to completion.
    await ingest(dataDir, files);
    await server.caughtUp(120_000);
    const after = await snapshot(server);
    await server.stop();
    // serve was killed six times; at least one ingest must have died part-way too, or this proved less than it says.
    expect(ingestsKilled).toBeGreaterThanOrEqual(1);
    expect(after).toEqual(reference);
    assertNothingDoubled(dataDir);
  }, 300_000);

  it('two ingest processes on the same files at once end as one would', async () => {
    const dataDir = join(tempDir('kepler-twice-'), 'data');
    const server = await KeplerServer.start(dataDir);
    try {
      const [a, b] = await Promise.all([ingest(dataDir, files), ingest(dataDir, [...files].reverse())]);
      const accepted = [...a, ...b].reduce((n, s) => n + s.accepted, 0);
      const single = FEED.reduce((n, f) => n + f.lines.length, 0) - FEED.reduce((n, f) => n + f.lines.filter((l, i) => f.lines.indexOf(l) !== i).length, 0);
      expect(accepted).toBe(single);
      await server.caughtUp(120_000);
      expect(await snapshot(server)).toEqual(reference);
    } finally {
      await server.stop();
    }
    assertNothingDoubled(dataDir);
  }, 300_000);
});
