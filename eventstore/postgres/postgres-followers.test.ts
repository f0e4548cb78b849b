// What PostgreSQL event stores are known to get wrong: a follower that skips an
// event committed out of position order, and followers that lose or repeat
// events when connections die. Against the machine's server, on a database of its own.
import { createServer } from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../tests/support/postgres.js';
import { closedPort, tryStartServer } from '../../tests/support/servers.js';
import { encodeEvent, StoreUnavailableError, type EventData, type RecordedEvent, type Subscription } from '../port.js';
import { appendParameters } from './mapping.js';
import { PostgresEventStore } from './index.js';

const database = await tryStartServer('PostgreSQL', () => createTestDatabase('es_followers'));
afterAll(async () => {
  await database?.drop();
});

const event = (n: number, writer: number): EventData => ({ id: `w${writer}-${n}`, type: 'Written', data: { writer, n }, metadata: { correlationId: `W${writer}` } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads a subscription until `done` says so, checking every position arrives once, in order, with no gap. */
async function follow(subscription: Subscription, from: number, done: (seen: RecordedEvent[]) => boolean): Promise<RecordedEvent[]> {
  const seen: RecordedEvent[] = [];
  for await (const batch of subscription) {
    for (const e of batch.events) {
      const expected = (seen.at(-1)?.position ?? from) + 1;
      if (e.position !== expected) throw new Error(`follower got position ${e.position} after ${expected - 1}`);
      seen.push(e);
    }
    if (done(seen)) break;
  }
  await subscription.close();
  return seen;
}

describe.skipIf(!database)('PostgreSQL event store: followers', () => {
  it('a follower never skips an event whose transaction commits after a later position is visible (the control with a plain sequence does)', async () => {
    const db = database!;
    // The control: positions from a sequence, committed out of order. A reader that
    // takes "everything after my checkpoint" moves past position 1 and never sees it.
    await db.query('CREATE TABLE naive_events (position bigserial PRIMARY KEY, payload text NOT NULL)');
    const slow = new pg.Client({ connectionString: db.url });
    const fast = new pg.Client({ connectionString: db.url });
    await Promise.all([slow.connect(), fast.connect()]);
    try {
      await slow.query('BEGIN');
      await slow.query("INSERT INTO naive_events (payload) VALUES ('slow')");
      await fast.query("INSERT INTO naive_events (payload) VALUES ('fast')");
      const firstRead = (await db.query<{ position: string }>('SELECT position FROM naive_events WHERE position > 0 ORDER BY position')).rows;
      const checkpoint = Number(firstRead.at(-1)!.position);
      await slow.query('COMMIT');
      const secondRead = (await db.query('SELECT position FROM naive_events WHERE position > $1', [checkpoint])).rows;
      expect(firstRead.map((r) => Number(r.position))).toEqual([2]);
      expect(secondRead).toEqual([]); // position 1 was skipped for good

      // The same interleaving through kepler_append: the second writer waits for the first to commit.
      const store = await PostgresEventStore.connect(db.url, { poolSize: 2 });
      const before = await store.headPosition();
      await slow.query('BEGIN');
      await slow.query('SELECT * FROM kepler_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)', appendParameters([{ appends: [{ stream: 'order-slow', expectedRevision: 'no_stream', events: [encodeEvent(event(1, 1))] }], checkpoint: undefined }]));
      const fastAppend = store.append('order-fast', [event(1, 2)], 'no_stream');
      await sleep(200);
      const whileSlowIsOpen = await store.readAll(before);
      expect(whileSlowIsOpen.events).toEqual([]);
      await slow.query('COMMIT');
      await fastAppend;
      const after = await store.readAll(before);
      expect(after.events.map((e) => e.stream)).toEqual(['order-slow', 'order-fast']);
      await store.close();
    } finally {
      await Promise.all([slow.end(), fast.end()]);
    }
  });

  it('many concurrent writers with random delays inside their transactions: a live follower sees every event once, in position order', async () => {
    const db = database!;
    const store = await PostgresEventStore.connect(db.url, { poolSize: 2, pollIntervalMs: 50 });
    const start = await store.headPosition();
    const writers = 12;
    const transactions = 15;
    const total = writers * transactions * 2;
    const following = follow(store.subscribe(start, { batchSize: 7 }), start, (seen) => seen.length >= total);
    // A second follower that polls readAll with small pages, as a catch-up reader would.
    const polling = (async () => {
      const seen: number[] = [];
      let position = start;
      while (seen.length < total) {
        const page = await store.readAll(position, { maxCount: 5 });
        seen.push(...page.events.map((e) => e.position));
        position = page.scannedTo;
        if (page.endOfStore) await sleep(5);
      }
      return seen;
    })();

    let seed = 17;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        const client = new pg.Client({ connectionString: db.url });
        await client.connect();
        try {
          for (let t = 0; t < transactions; t++) {
            await client.query('BEGIN');
            await client.query('SELECT pg_sleep($1)', [random() * 0.01]);
            const events = [event(2 * t, w), event(2 * t + 1, w)].map(encodeEvent);
            await client.query('SELECT * FROM kepler_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)', appendParameters([{ appends: [{ stream: `writer${w}-${t}`, expectedRevision: 'no_stream', events }], checkpoint: undefined }]));
            await client.query('SELECT pg_sleep($1)', [random() * 0.01]);
            await client.query(random() < 0.1 ? 'ROLLBACK' : 'COMMIT');
          }
        } finally {
          await client.end();
        }
      }),
    );
    const committed = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM kepler_events WHERE position > $1', [start])).rows[0]!.n);
    // Rolled-back transactions hand out no positions: the store stays dense. Top up to `total` with the store's own appends.
    for (let n = committed; n < total; n++) await store.append(`topup-${n}`, [event(n, 99)], 'no_stream');
    const seen = await following;
    expect(seen).toHaveLength(total);
    expect(new Set(seen.map((e) => e.id)).size).toBe(total);
    const polled = await polling;
    expect(polled).toEqual(seen.map((e) => e.position));
    await store.close();
  }, 120_000);

  it('a live subscription survives pg_terminate_backend of its connections: nothing skipped, nothing doubled', async () => {
    const db = database!;
    const errors: string[] = [];
    const store = await PostgresEventStore.connect(db.url, {
      poolSize: 3,
      applicationName: 'kepler-follower',
      pollIntervalMs: 2_000,
      reconnect: { initialDelayMs: 10, maxDelayMs: 100 },
      onConnectionError: (_error, _attempt, what) => errors.push(what),
    });
    const writer = await PostgresEventStore.connect(db.url, { poolSize: 1 });
    const start = await store.headPosition();
    const total = 300;
    const following = follow(store.subscribe(start, { batchSize: 10 }), start, (seen) => seen.length >= total);
    // Wait for the listener, so that killing it is part of the test.
    while (!store.notifier.isListening) await sleep(10);
    for (let n = 0; n < total; n++) {
      await writer.append(`kill-${n}`, [event(n, 7)], 'no_stream');
      if (n % 50 === 25) {
        const killed = await db.query<{ n: string }>(
          "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'kepler-follower'",
        );
        expect(Number(killed.rows[0]!.n)).toBeGreaterThan(0);
      }
    }
    const seen = await following;
    expect(seen.map((e) => e.stream)).toEqual(Array.from({ length: total }, (_, n) => `kill-${n}`));
    expect(errors).toContain('listener');
    await Promise.all([store.close(), writer.close()]);
  }, 60_000);
});

describe('PostgreSQL event store: a server that is not there', () => {
  async function port(listen: (socket: import('node:net').Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
    const server = createServer(listen);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    return { port, close: () => new Promise((resolve) => server.close(() => resolve())) };
  }

  it('a refused connection is a StoreUnavailableError naming the server, at once', async () => {
    const closed = await closedPort();
    const error = await PostgresEventStore.connect(`postgres://kepler:secret@127.0.0.1:${closed}/kepler`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toContain(`127.0.0.1:${closed}`);
    expect((error as Error).message).not.toContain('secret');
  });

  it('a server that accepts and never answers is a StoreUnavailableError after the connect timeout, not a hang', async () => {
    const sockets: import('node:net').Socket[] = [];
    const silent = await port((socket) => sockets.push(socket));
    const started = Date.now();
    const error = await PostgresEventStore.connect(`postgres://postgres@127.0.0.1:${silent.port}/kepler?connect_timeout=1`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(Date.now() - started).toBeLessThan(10_000);
    for (const socket of sockets) socket.destroy();
    await silent.close();
  });
});
