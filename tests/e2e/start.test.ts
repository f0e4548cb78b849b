// `npm start`: a newcomer sees the sample feed at once, and a second start does not load it again.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir, trd, writeFeedFile } from '../support/feed.js';
import { KeplerServer, runCli } from '../support/kepler.js';

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

describe('where the data directory comes from', () => {
  it('--data-dir, else KEPLER_DATA_DIR, else the config file, else ./data', async () => {
    const dir = tempDir();
    const file = writeFeedFile(dir, { name: 'CORE_WHERE.cx1', source: 'CORE', lines: [trd(1, 'WHERE-1')] });
    const configFile = join(dir, 'kepler.json');
    writeFileSync(configFile, JSON.stringify({ dataDir: join(dir, 'from-config') }));
    const cwd = { cwd: dir };

    expect((await runCli(['ingest', '--config', configFile, file], { env: { KEPLER_DATA_DIR: join(dir, 'from-env') }, ...cwd })).code).toBe(0);
    expect(existsSync(join(dir, 'from-env', 'events.db'))).toBe(true);
    expect((await runCli(['ingest', '--config', configFile, file], cwd)).code).toBe(0);
    expect(existsSync(join(dir, 'from-config', 'events.db'))).toBe(true);
    expect((await runCli(['ingest', '--data-dir', join(dir, 'from-flag'), '--config', configFile, file], { env: { KEPLER_DATA_DIR: join(dir, 'from-env-2') }, ...cwd })).code).toBe(0);
    expect(existsSync(join(dir, 'from-flag', 'events.db'))).toBe(true);
    expect(existsSync(join(dir, 'from-env-2'))).toBe(false);
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });
});
