// The production layout's read models: FerretDB on its PostgreSQL backend. The
// issue's failure, kept as a test: a generated feed must reach caughtUp, and a
// serve killed mid-ingest must not leave FerretDB unable to answer the next one.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startFerretDb } from '../support/ferretdb.js';
import { tempDir, writeFeedFile } from '../support/feed.js';
import { ingest, KeplerServer, runCli } from '../support/kepler.js';
import { createTestDatabase } from '../support/postgres.js';
import { busyFeed } from '../support/scenarios.js';
import { tryStartServer } from '../support/servers.js';

const stack = await tryStartServer('FerretDB on PostgreSQL', async () => {
  const database = await createTestDatabase('ferretdb');
  try {
    // FerretDB's own pool, as the production layout sizes it (see the README).
    const ferret = await startFerretDb({ postgresqlUrl: `${database.url}?pool_max_conns=20` });
    return { database, ferret };
  } catch (error) {
    await database.drop();
    throw error;
  }
});
afterAll(async () => {
  await stack?.ferret.stop();
  await stack?.database.drop();
});

describe.skipIf(!stack)('read models on FerretDB with its PostgreSQL backend', () => {
  it('300 generated trades reach caughtUp; after serve is killed mid-ingest the next serve starts and catches up', async () => {
    const dir = tempDir();
    const files = busyFeed(300, 2).map((spec) => writeFeedFile(dir, spec));
    const dataDir = join(dir, 'data');
    const env = { KEPLER_MONGODB_URL: stack!.ferret.uri, KEPLER_MONGODB_DATABASE: 'kepler_layout' };
    let server = await KeplerServer.start(dataDir, { env });
    const ingesting = runCli(['ingest', '--data-dir', dataDir, '--json', ...files], { env });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await server.kill();
    expect((await ingesting).code).toBe(0);
    server = await KeplerServer.start(dataDir, { env });
    try {
      await ingest(dataDir, files, env);
      await server.caughtUp(120_000);
      const trades = await server.all<{ tradeRef: string }>('/trades');
      expect(trades).toHaveLength(300);
    } finally {
      await server.stop();
    }
  }, 240_000);
});
