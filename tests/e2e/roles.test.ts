// One role per process, several processes of one role sharing the work: the same result as one process,
// on the embedded stores and with the event store on PostgreSQL.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, writeFeedFile } from '../support/feed.js';
import { ingest, KeplerServer, referenceSnapshot, snapshot } from '../support/kepler.js';
import { postgresAvailable, postgresEvents, SQLITE, type Stores } from '../support/layouts.js';
import { busyFeed } from '../support/scenarios.js';

const LAYOUTS = [SQLITE, postgresEvents(await postgresAvailable())];
const dir = tempDir();
let files: string[];
let expected: Awaited<ReturnType<typeof snapshot>>;

beforeAll(async () => {
  files = busyFeed(1500, 2).map((spec) => writeFeedFile(dir, spec));
  expected = await referenceSnapshot(join(dir, 'single'), files);
}, 180_000);

for (const layout of LAYOUTS) describe.skipIf(!layout.enabled)(`kepler serve --roles --partition, ${layout.name}`, () => {
  let stores: Stores | null = null;
  afterAll(async () => {
    await stores?.teardown();
  });

  it('processors in two partitioned processes, projections in two more, queries in a fifth: same state as one process', async () => {
    stores = await layout.setup();
    const { env } = stores;
    const dataDir = join(dir, `split-${layout.name.replaceAll(' ', '-')}`);
    // Every process started is stopped, also when another one fails to start (none is left running).
    const started: KeplerServer[] = [];
    const startAll = async (argss: string[][]): Promise<KeplerServer[]> => {
      const outcomes = await Promise.allSettled(argss.map((args) => KeplerServer.start(dataDir, { env, args })));
      for (const outcome of outcomes) if (outcome.status === 'fulfilled') started.push(outcome.value);
      const failed = outcomes.find((outcome) => outcome.status === 'rejected');
      if (failed) throw failed.reason;
      return outcomes.map((outcome) => (outcome as PromiseFulfilledResult<KeplerServer>).value);
    };
    try {
      const servers = await startAll([
        ['--roles', 'processors', '--partition', '0/2'],
        ['--roles', 'processors', '--partition', '1/2'],
        ['--roles', 'projections', '--partition', '0/2'],
        ['--roles', 'projections', '--partition', '1/2'],
      ]);
      const [api] = await startAll([['--roles', 'query-api,command-api', '--partition', '0/2']]);
      await ingest(dataDir, files, env);
      await api!.caughtUp(120_000);
      const status = await api!.json<{ subscriptions: Array<{ name: string }> }>('/status');
      expect(status.subscriptions.map((s) => s.name)).toEqual(expect.arrayContaining(['trade-processor#0of2', 'trade-processor#1of2', 'booking-manager#1of2']));
      expect(await snapshot(api!)).toEqual(expected);
      // A process without the query role answers /status but not the queries.
      expect((await servers[0]!.get('/trades')).status).toBe(404);
      expect((await servers[0]!.get('/status')).status).toBe(200);
    } finally {
      await Promise.all(started.map((s) => s.stop()));
    }
  }, 240_000);
});
