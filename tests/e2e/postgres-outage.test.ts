// PostgreSQL goes away under a running serve, then comes back: /status says which store does not
// answer, nothing stops, and afterwards everything written before, during and after is processed once.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir, trd, writeFeedFile } from '../support/feed.js';
import { ingest, KeplerServer, snapshot } from '../support/kepler.js';
import { createTestDatabase, databaseUrl } from '../support/postgres.js';
import { tryStartServer } from '../support/servers.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const database = await tryStartServer('PostgreSQL', () => createTestDatabase('outage'));
afterAll(async () => {
  await database?.drop();
});

describe.skipIf(!database)('serve while its PostgreSQL is unreachable', () => {
  it('answers /status 503 naming the store, keeps running, and catches up once it is back', async () => {
    const server = new URL(database!.url);
    const proxy = await TcpProxy.start({ host: server.hostname, port: Number(server.port || 5432) });
    const dir = tempDir();
    const dataDir = join(dir, 'data');
    const viaProxy = `${databaseUrl(database!.name, `postgres://postgres@127.0.0.1:${proxy.port}/x`)}?pool_size=3&connect_timeout=2`;
    const env = { KEPLER_EVENTSTORE_URL: viaProxy };
    const before = writeFeedFile(dir, { name: 'CORE_A.cx1', source: 'CORE', lines: [trd(1, 'OUT-1'), trd(2, 'OUT-2')] });
    const after = writeFeedFile(dir, { name: 'CORE_B.cx1', source: 'CORE', lines: [trd(3, 'OUT-3')] });
    const kepler = await KeplerServer.start(dataDir, { env });
    try {
      await ingest(dataDir, [before], { KEPLER_EVENTSTORE_URL: database!.url });
      await kepler.caughtUp();

      await proxy.cut();
      const down = await kepler.get<{ type: string; detail: string }>('/status');
      expect(down.status).toBe(503);
      expect(down.body.type).toBe('/problems/store-unavailable');
      expect(down.body.detail).toContain(`PostgreSQL at postgres://postgres@127.0.0.1:${proxy.port}/${database!.name}`);
      // Written straight to the server while serve cannot reach it.
      await ingest(dataDir, [after], { KEPLER_EVENTSTORE_URL: database!.url });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(kepler.process.exitCode).toBeNull();

      await proxy.resume();
      await kepler.caughtUp(60_000);
      const state = await snapshot(kepler);
      expect(state.trades.map((t) => [t.tradeRef, t.status])).toEqual([
        ['OUT-1', 'PENDING'],
        ['OUT-2', 'PENDING'],
        ['OUT-3', 'PENDING'],
      ]);
      const { rows } = await database!.query<{ n: string }>("SELECT count(*) AS n FROM kepler_events WHERE stream LIKE 'trade-%'");
      expect(Number(rows[0]!.n)).toBe(3);
    } finally {
      await kepler.stop();
      await proxy.close();
    }
  }, 120_000);
});
