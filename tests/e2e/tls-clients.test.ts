// TLS from Kepler to its broker and its MongoDB read store, end to end against real servers
// that require it: a private RabbitMQ node listening for AMQP over TLS and for the management
// API over HTTPS, and FerretDB listening for TLS, both asking for a client certificate signed
// by a CA the test makes (mutual TLS). `serve` consumes the feed and keeps its read models over
// TLS; `kepler publish`, `kepler slot` and the topology reconciler reach the broker the same
// way, from the config file's `amqp.tls` and `readStore.tls`. A client with another CA's
// certificate, or none, or one that does not trust the servers' CA, is turned away.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFeed, MIXED_RATES, writeFeed } from '../../bench/feed-generator.js';
import { MongoReadStore } from '../../readstore/mongodb/index.js';
import { makeCertificates, type TestCertificates } from '../support/certificates.js';
import { tempDir } from '../support/feed.js';
import { startFerretDb } from '../support/ferretdb.js';
import { KeplerServer, referenceSnapshot, runCli, snapshot } from '../support/kepler.js';
import { PrivateRabbit } from '../support/private-rabbit.js';
import { tryStartServer } from '../support/servers.js';

const dir = tempDir();
const openssl = await tryStartServer('openssl', async () => execFileSync('openssl', ['version'], { stdio: 'pipe' }).toString());
const certificates: TestCertificates | null = openssl ? makeCertificates(dir) : null;
const rabbit = certificates && (await tryStartServer('a private RabbitMQ node with TLS listeners (rabbitmq-server)', () => PrivateRabbit.start({ tls: certificates })));
const ferret = certificates && (await tryStartServer('FerretDB with a TLS listener', () => startFerretDb({ tls: certificates })));
afterAll(async () => {
  await rabbit?.stop();
  await ferret?.stop();
});

/** Trailers are a property of files: over AMQP there is none to check. */
function withoutTrailerChecks(state: Awaited<ReturnType<typeof snapshot>>) {
  const { TRAILER_MISMATCH: _trailers, ...counts } = state.counts;
  return { ...state, counts, exceptions: state.exceptions.filter((e) => (e as { code?: string }).code !== 'TRAILER_MISMATCH') };
}

interface ClientFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

/** A config file naming the TLS listeners, with these client files for the broker and the read store. */
function configFile(name: string, amqpTls: ClientFiles, readStoreTls: ClientFiles = amqpTls): string {
  const path = join(dir, `${name}.json`);
  const config = {
    amqp: { url: rabbit!.tlsUrls!.amqp, managementUrl: rabbit!.tlsUrls!.management, prefix: 'tls', slot: 'blue', tls: amqpTls },
    readStore: { url: ferret!.uri, database: 'kepler_tls', tls: readStoreTls },
  };
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

describe.skipIf(!rabbit || !ferret)('TLS to the broker and the MongoDB read store (mutual TLS, real servers)', () => {
  let trusted: ClientFiles;
  let config: string;
  // The management API's HTTPS is reached through fetch, which trusts what Node trusts: the CA is
  // added the way the README tells operators to, NODE_EXTRA_CA_CERTS.
  let env: NodeJS.ProcessEnv;

  beforeAll(() => {
    trusted = { ca: certificates!.ca, cert: certificates!.clientCert, key: certificates!.clientKey };
    config = configFile('trusted', trusted);
    env = { NODE_EXTRA_CA_CERTS: certificates!.ca };
  });

  it('names the TLS listeners it was given', () => {
    expect(rabbit!.tlsUrls!.amqp).toMatch(/^amqps:\/\//);
    expect(rabbit!.tlsUrls!.management).toMatch(/^https:\/\//);
    expect(ferret!.uri).toMatch(/tls=true/);
  });

  it('serve consumes the feed and keeps its read models over TLS; publish, slot and status reach the broker over TLS', async () => {
    const feed = generateFeed({ seed: 23, trades: 60, filesPerSource: 1, rates: MIXED_RATES, badLines: { badIsin: 1, unknownType: 1 } });
    const files = await writeFeed(feed, join(dir, 'feed'));
    const expected = withoutTrailerChecks(await referenceSnapshot(join(dir, 'reference'), files));

    const dataDir = join(dir, 'data');
    // A whole slot and the topology reconciler, which reads the broker over HTTPS and declares over amqps.
    const server = await KeplerServer.start(dataDir, { env, args: ['--config', config, '--roles', 'ingestion,processors,projections,command-api,query-api,publisher,topology'] });
    try {
      const live = await runCli(['slot', '--config', config, '--data-dir', dataDir, 'live', 'blue'], { env });
      expect(live.code, live.stderr).toBe(0);
      const published = await runCli(['publish', '--config', config, '--json', ...files], { env });
      expect(published.code, published.stderr).toBe(0);
      const counts = published.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { published: number }).published);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(feed.totals.detailLines);

      const deadline = Date.now() + 120_000;
      let actual = withoutTrailerChecks(await snapshot(server));
      // Compared regardless of key order: MongoDB keeps a document's keys as they were written.
      while (!isDeepStrictEqual(actual, expected) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        await server.caughtUp();
        actual = withoutTrailerChecks(await snapshot(server));
      }
      expect(actual).toEqual(expected);

      // The queue figures come from the management API over HTTPS; the feed's connection is amqps.
      const status = await server.json<{ messaging: { feed: { connected: boolean }; topology: { checks: number; lastError: string | null } }; queues: { live?: string; error?: string } }>('/status');
      expect(status.messaging.feed.connected).toBe(true);
      expect(status.queues).toMatchObject({ live: 'blue' });
      // The topology reconciler in serve reads the broker through the same HTTPS, and found it as wanted.
      expect(status.messaging.topology.checks).toBeGreaterThan(0);
      expect(status.messaging.topology.lastError).toBeNull();
      const drift = await runCli(['topology', '--config', config, '--data-dir', dataDir, 'drift', '--exit-code'], { env });
      expect(drift.code, drift.stdout + drift.stderr).toBe(0);

      const slots = await runCli(['slot', '--config', config, '--data-dir', dataDir, 'status', '--json'], { env });
      expect(slots.code, slots.stderr).toBe(0);
      expect(JSON.parse(slots.stdout)).toMatchObject({ live: 'blue' });

      // Every connection the broker holds for this node came in over TLS (there is a plain listener too).
      const connections = JSON.parse(await rabbit!.ctl('list_connections', 'name', 'ssl', '--formatter', 'json')) as Array<{ name: string; ssl: boolean }>;
      expect(connections.length).toBeGreaterThan(0);
      expect(connections.filter((c) => !c.ssl)).toEqual([]);
    } finally {
      await server.stop();
    }
  }, 240_000);

  it('the broker turns away a client certificate another CA signed, and a client without one; nothing is published', async () => {
    const [file] = await writeFeed(generateFeed({ seed: 5, trades: 3, filesPerSource: 1 }), join(dir, 'refused'));
    const stranger = configFile('stranger', { ca: certificates!.ca, cert: certificates!.strangerCert, key: certificates!.strangerKey });
    const anonymous = configFile('anonymous', { ca: certificates!.ca });
    const before = await feedDepths();
    for (const refused of [stranger, anonymous]) {
      const published = await runCli(['publish', '--config', refused, '--json', file!], { env });
      expect(published.code, published.stdout).not.toBe(0);
      expect(published.stdout).toBe('');
      // One line that names the broker (not its password) and what to check, not a stack.
      expect(published.stderr.trim()).toMatch(/^kepler publish: cannot open a connection to the broker at amqps:\/\/guest:\*\*\*@localhost:\d+.*: .+ \(the broker refused this client: amqp\.tls\.cert and amqp\.tls\.key must be/);
      expect(published.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(await feedDepths()).toEqual(before);
  }, 60_000);

  it('a client that does not trust the servers\u2019 CA refuses them', async () => {
    const [file] = await writeFeed(generateFeed({ seed: 6, trades: 3, filesPerSource: 1 }), join(dir, 'untrusted'));
    const untrusting = configFile('untrusting', { cert: certificates!.clientCert, key: certificates!.clientKey });
    const published = await runCli(['publish', '--config', untrusting, '--json', file!], { env: { NODE_EXTRA_CA_CERTS: '' } });
    expect(published.code).not.toBe(0);
    expect(published.stderr.trim()).toMatch(/^kepler publish: cannot open a connection to the broker at .*(self[- ]signed certificate|unable to verify|unable to get local issuer).* \(this client does not trust the broker's certificate: amqp\.tls\.ca must name/i);

    const files = { ca: readFileSync(certificates!.ca), cert: readFileSync(certificates!.clientCert), key: readFileSync(certificates!.clientKey) };
    await expect(MongoReadStore.connect(ferret!.uri, 'kepler_tls', { client: { tls: true, cert: files.cert, key: files.key, serverSelectionTimeoutMS: 3_000 } })).rejects.toThrow(/certificate|verify/i);
    // The read store with the trusted files connects: the refusals above are the certificates', not the server's.
    const store = await MongoReadStore.connect(ferret!.uri, 'kepler_tls', { client: { tls: true, ...files, serverSelectionTimeoutMS: 3_000 } });
    await store.close();
  }, 60_000);

  it('FerretDB turns away a read store with another CA\u2019s client certificate', async () => {
    const client = { tls: true, ca: readFileSync(certificates!.ca), cert: readFileSync(certificates!.strangerCert), key: readFileSync(certificates!.strangerKey), serverSelectionTimeoutMS: 3_000 };
    await expect(MongoReadStore.connect(ferret!.uri, 'kepler_tls', { client })).rejects.toThrow();
  }, 30_000);
});

/** Messages waiting in both slots' feed queues, counted by the broker itself. */
async function feedDepths(): Promise<string> {
  return (await rabbit!.ctl('list_queues', 'name', 'messages', '--formatter', 'json')).trim();
}

describe('TLS files the configuration names', () => {
  it('a file that cannot be read is told in one line naming the setting and the file, and nothing is sent', async () => {
    const path = join(dir, 'missing-ca.json');
    writeFileSync(path, JSON.stringify({ amqp: { url: 'amqps://guest:guest@localhost:1', tls: { ca: join(dir, 'no-such-ca.pem') } } }));
    const [file] = await writeFeed(generateFeed({ seed: 7, trades: 2, filesPerSource: 1 }), join(dir, 'missing'));
    const published = await runCli(['publish', '--config', path, file!]);
    expect(published.code).toBe(1);
    expect(published.stdout).toBe('');
    expect(published.stderr.trim()).toBe(`kepler publish: amqp.tls.ca: cannot read ${join(dir, 'no-such-ca.pem')} (ENOENT)`);
  });
});
