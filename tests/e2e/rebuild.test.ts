// Replay and rebuild: read models rebuilt without downtime while queries and ingestion go on;
// processors replayed from position 0 re-issue nothing; history and point-in-time state.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { amd, alc, cnf, tempDir, trd, writeFeedFile } from '../support/feed.js';
import { CLI, ingest, KeplerServer, runCli, referenceSnapshot, snapshot } from '../support/kepler.js';
import { busyFeed } from '../support/scenarios.js';

describe('kepler rebuild', () => {
  it('rebuilds every read model while queries and ingestion keep running; the result equals a fresh build', async () => {
    const dir = tempDir();
    const files = busyFeed(3000, 4).map((spec) => writeFeedFile(dir, spec));
    const [early, late] = [files.filter((_, i) => i % 4 < 2), files.filter((_, i) => i % 4 >= 2)];

    const expected = await referenceSnapshot(join(dir, 'reference'), files);

    const dataDir = join(dir, 'data');
    const server = await KeplerServer.start(dataDir);
    try {
      await ingest(dataDir, early);
      await server.caughtUp(120_000);
      const tradesBefore = (await server.all('/trades')).length;

      let querying = true;
      const failures: string[] = [];
      let queries = 0;
      const queryLoop = (async () => {
        while (querying) {
          const page = await server.get<{ items: unknown[] }>('/trades?limit=1000');
          const one = await server.get(`/trades/T0000001`);
          queries += 2;
          if (page.status !== 200 || one.status !== 200) failures.push(`status ${page.status}/${one.status}`);
          // A half-built model would show fewer trades than were already there.
          else if (page.body.items.length < Math.min(1000, tradesBefore)) failures.push(`only ${page.body.items.length} trades`);
        }
      })();

      // A small in-memory set makes the rebuild write its documents many times over, as a large history would.
      const rebuilding = runCli(['rebuild', '--data-dir', dataDir], { env: { KEPLER_REBUILD_DOCUMENTS: '250' } });
      const [rebuild] = await Promise.all([rebuilding, ingest(dataDir, late)]);
      expect(rebuild.code, rebuild.stderr).toBe(0);
      expect(rebuild.stdout).toMatch(/trades: rebuilt generation 2/);
      expect(rebuild.stdout).toMatch(/positions: rebuilt generation 2/);
      expect(rebuild.stdout).toMatch(/exceptions: rebuilt generation 2/);
      expect(rebuild.stdout).toMatch(/feed: rebuilt generation 2/);

      await server.caughtUp(120_000);
      await new Promise((r) => setTimeout(r, 600));
      querying = false;
      await queryLoop;
      expect(failures).toEqual([]);
      expect(queries).toBeGreaterThan(10);
      expect(await snapshot(server)).toEqual(expected);

      // serve moved on to the new generation and dropped the old one.
      const status = await server.json<{ subscriptions: Array<{ name: string }> }>('/status');
      expect(status.subscriptions.map((s) => s.name)).toContain('projection:trades');
      const db = new Database(join(dataDir, 'read.db'), { readonly: true });
      const tables = () => (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'rm_%'").all() as Array<{ name: string }>).map((t) => t.name).sort();
      const deadline = Date.now() + 15_000;
      // The kept counts (projections/counts.ts) go with their generation.
      const g2 = ['rm_approvals_g2', 'rm_exceptions_g2', 'rm_exceptions_g2_counts', 'rm_feed_g2', 'rm_positions_g2', 'rm_trades_g2', 'rm_trades_g2_counts'];
      while (tables().length > g2.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(tables()).toEqual(g2);
      db.close();
    } finally {
      await server.stop();
    }
  }, 300_000);

  it('refuses an unknown read model', async () => {
    const result = await runCli(['rebuild', '--data-dir', join(tempDir(), 'data'), 'nonsense']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('nonsense');
  });
});

describe('processors replayed from position 0', () => {
  it('re-issue nothing: no booking happens twice because of a replay', async () => {
    const dir = tempDir();
    const dataDir = join(dir, 'data');
    const files = busyFeed(500, 1).map((spec) => writeFeedFile(dir, spec));
    let server = await KeplerServer.start(dataDir);
    await ingest(dataDir, files);
    await server.caughtUp(60_000);
    const before = await snapshot(server);
    const head = (await server.json<{ head: number }>('/status')).head;
    await server.stop();

    const db = new Database(join(dataDir, 'events.db'));
    db.prepare('UPDATE checkpoints SET position = 0').run();
    expect((db.prepare('SELECT count(*) AS n FROM checkpoints WHERE position = 0').get() as { n: number }).n).toBe(2);
    db.close();

    server = await KeplerServer.start(dataDir);
    try {
      await server.caughtUp(60_000);
      expect((await server.json<{ head: number }>('/status')).head).toBe(head);
      expect(await snapshot(server)).toEqual(before);
    } finally {
      await server.stop();
    }
  }, 120_000);
});

describe('kepler history and kepler state', () => {
  it('shows every event of a trade across its streams, and the trade as it stood at a position or time', async () => {
    const dir = tempDir();
    const dataDir = join(dir, 'data');
    const server = await KeplerServer.start(dataDir);
    try {
      const core1 = writeFeedFile(dir, { name: 'CORE_H1.cx1', source: 'CORE', lines: [trd(1, 'H/1', { quantity: 100 })] });
      const alloc = writeFeedFile(dir, { name: 'ALLOC_H1.cx1', source: 'ALLOC', lines: [alc(1, 'H/1', 'A', 'FUND', 100)] });
      const custody = writeFeedFile(dir, { name: 'CUSTODY_H1.cx1', source: 'CUSTODY', lines: [cnf(1, 'H/1', 100, '189.25')] });
      const core2 = writeFeedFile(dir, { name: 'CORE_H2.cx1', source: 'CORE', lines: [amd(2, 'H/1', 2, { quantity: 120 })] });
      await ingest(dataDir, [core1, alloc, custody]);
      await server.caughtUp();
      const bookedAt = (await server.json<{ head: number }>('/status')).head;
      await new Promise((r) => setTimeout(r, 1100));
      const beforeAmendment = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 1100));
      await ingest(dataDir, [core2]);
      await server.caughtUp();

      const history = await runCli(['history', '--data-dir', dataDir, '--json', 'H/1']);
      expect(history.code).toBe(0);
      const events = history.stdout.trim().split('\n').map((l) => JSON.parse(l) as { position: number; stream: string; type: string; file: string | null; line: number | null });
      expect(events.map((e) => e.position)).toEqual([...events.map((e) => e.position)].sort((a, b) => a - b));
      expect(new Set(events.map((e) => e.stream.split('-')[0]))).toEqual(new Set(['core', 'alloc', 'custody', 'trade', 'booking']));
      expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['NewTradeReceived', 'AllocationReceived', 'ConfirmationReceived', 'VersionApplied', 'TradeBooked', 'BookingReversed', 'AmendmentReceived']));
      expect(events.find((e) => e.type === 'AmendmentReceived')).toMatchObject({ file: 'CORE_H2.cx1', line: 2 });

      const human = await runCli(['history', '--data-dir', dataDir, 'H/1']);
      expect(human.stdout).toContain('CORE_H1.cx1:2');

      const atPosition = await runCli(['state', '--data-dir', dataDir, 'H/1', '--at', String(bookedAt)]);
      expect(JSON.parse(atPosition.stdout)).toMatchObject({ version: 1, status: 'BOOKED', quantity: 100 });
      const atTime = await runCli(['state', '--data-dir', dataDir, 'H/1', '--at', beforeAmendment]);
      expect(JSON.parse(atTime.stdout)).toMatchObject({ version: 1, status: 'BOOKED' });
      const now = await runCli(['state', '--data-dir', dataDir, 'H/1']);
      expect(JSON.parse(now.stdout)).toMatchObject({ version: 2, status: 'PENDING', quantity: 120 });
      for (const at of ['yesterday-ish', '78.5', '2026-11-31T00:00:00Z', '2026-11-27T25:00:00Z']) {
        expect((await runCli(['state', '--data-dir', dataDir, 'H/1', '--at', at])).code, at).toBe(2);
      }
      // A reader that stops early (`| head -1`) ends the command quietly: here it stops before the first line.
      const reader = spawn(process.execPath, [CLI, 'history', '--data-dir', dataDir, '--json', 'H/1'], { stdio: ['ignore', 'pipe', 'pipe'] });
      reader.stdout.destroy();
      let stderr = '';
      reader.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exitCode = await new Promise<number | null>((resolve) => reader.on('close', resolve));
      expect(stderr).toBe('');
      expect(exitCode).toBe(0);
      expect((await runCli(['history', '--data-dir', dataDir, 'NOPE'])).code).toBe(1);
    } finally {
      await server.stop();
    }
  }, 120_000);
});
