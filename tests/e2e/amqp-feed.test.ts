// The CX1 feed over RabbitMQ, through `serve`, `kepler slot live` and `kepler publish`,
// ends in the same trades, positions and exceptions as the same files ingested as files.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateFeed, MIXED_RATES, writeFeed } from '../../bench/feed-generator.js';
import { deleteTopology, openConnection, topologyNames } from '../../messaging/index.js';
import { tempDir } from '../support/feed.js';
import { KeplerServer, referenceSnapshot, runCli, snapshot } from '../support/kepler.js';
import { rabbitMq, uniquePrefix } from '../messaging/rabbit.js';

const url = await rabbitMq();
const prefix = uniquePrefix('e2e');

afterAll(async () => {
  if (!url) return;
  const connection = await openConnection(url, 'kepler-e2e-cleanup');
  await deleteTopology(await connection.createChannel(), topologyNames(prefix));
  await connection.close();
});

/** Trailers are a property of files: over AMQP there is none to check. */
function withoutTrailerChecks(state: Awaited<ReturnType<typeof snapshot>>) {
  const { TRAILER_MISMATCH: _trailers, ...counts } = state.counts;
  return { ...state, counts, exceptions: state.exceptions.filter((e) => (e as { code?: string }).code !== 'TRAILER_MISMATCH') };
}

describe.skipIf(!url)('CX1 over RabbitMQ end to end', () => {
  it('publishing the files line by line ends as ingesting them does', async () => {
    const feed = generateFeed({ seed: 11, trades: 400, filesPerSource: 2, rates: MIXED_RATES, badLines: { badIsin: 2, unknownType: 1, sourceMismatch: 1 } });
    const dir = tempDir();
    const files = await writeFeed(feed, dir);

    const expected = withoutTrailerChecks(await referenceSnapshot(join(dir, 'files'), files));

    const env = { KEPLER_AMQP_URL: url!, KEPLER_AMQP_PREFIX: prefix, KEPLER_SLOT: 'blue' };
    const dataDir = join(dir, 'amqp');
    const server = await KeplerServer.start(dataDir, { env });
    try {
      const live = await runCli(['slot', '--data-dir', dataDir, 'live', 'blue'], { env });
      expect(live.code, live.stderr).toBe(0);
      const published = await runCli(['publish', '--json', ...files], { env });
      expect(published.code, published.stderr).toBe(0);
      expect(published.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { published: number }).published).reduce((a, b) => a + b, 0)).toBe(feed.totals.detailLines);

      const deadline = Date.now() + 120_000;
      let actual = withoutTrailerChecks(await snapshot(server));
      while (JSON.stringify(actual) !== JSON.stringify(expected) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        await server.caughtUp();
        actual = withoutTrailerChecks(await snapshot(server));
      }
      expect(actual).toEqual(expected);
      const status = await server.json<{ messaging: { feed: { connected: boolean } } }>('/status');
      expect(status.messaging.feed.connected).toBe(true);
    } finally {
      await server.stop();
    }
  }, 240_000);
});
