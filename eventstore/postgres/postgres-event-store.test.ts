// The PostgreSQL adapter against the machine's server, on a database of its own:
// the shared contract, unchanged, then what only PostgreSQL can get wrong.
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, databaseUrl } from '../../tests/support/postgres.js';
import { tryStartServer } from '../../tests/support/servers.js';
import { eventStoreContract } from '../contract.js';
import { UNREAD_METADATA } from '../port.js';
import { EVENT_STORE_MIGRATIONS, migrate, poolConfig, PostgresEventStore } from './index.js';

const database = await tryStartServer('PostgreSQL', () => createTestDatabase('es_contract'));
afterAll(async () => {
  await database?.drop();
});

if (database) eventStoreContract('PostgreSQL', () => PostgresEventStore.connect(database.url, { poolSize: 4 }), { readStreams: true });

describe.skipIf(!database)('PostgreSQL event store: events read without their data or metadata', () => {
  it('leaves on the server the data and metadata of the types a filter reads withoutData and withoutMetadata, with and without other conditions', async () => {
    const store = await PostgresEventStore.connect(database!.url, { poolSize: 1 });
    try {
      const before = await store.headPosition();
      const run = Math.random().toString(36).slice(2, 8);
      const event = (id: string, type: string) => ({ id: `${run}-${id}`, type, data: { n: id }, metadata: { correlationId: id, traceparent: `tp-${id}` } });
      await store.append(`without${run}-1`, [event('a', 'Counted'), event('b', 'Read'), event('c', "It's")], 'no_stream');
      const hints = { withoutData: ['Counted'], withoutMetadata: ['Counted', "It's"] };
      for (const filter of [hints, { eventTypes: ['Counted', 'Read', "It's"], ...hints }, { streamPrefixes: [`without${run}-`], ...hints }]) {
        const { events } = await store.readAll(before, { filter });
        expect(events.map((e) => [e.type, e.data, e.metadata]), JSON.stringify(filter)).toEqual([
          ['Counted', null, UNREAD_METADATA],
          ['Read', { n: 'b' }, { correlationId: 'b', traceparent: 'tp-b' }],
          ["It's", { n: 'c' }, UNREAD_METADATA],
        ]);
        expect(events[0]!.metadata).toBe(UNREAD_METADATA);
      }
      // Without them, the same events whole.
      expect((await store.readAll(before, { filter: { eventTypes: ['Counted'] } })).events.map((e) => [e.data, e.metadata])).toEqual([[{ n: 'a' }, { correlationId: 'a', traceparent: 'tp-a' }]]);
    } finally {
      await store.close();
    }
  });
});

describe.skipIf(!database)('PostgreSQL event store: TLS and schema', () => {
  it("sslmode=require encrypts the connection (the server says so); verify-full checks the server's certificate", async () => {
    const { config } = poolConfig(`${database!.url}?sslmode=require`);
    const pool = new pg.Pool(config);
    try {
      const { rows } = await pool.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      expect(rows[0]!.ssl).toBe(true);
    } finally {
      await pool.end();
    }
    const store = await PostgresEventStore.connect(`${database!.url}?sslmode=require`, { poolSize: 1 });
    await store.append('tls-1', [{ id: 'tls', type: 'Encrypted', data: {}, metadata: { correlationId: 'tls' } }], 'no_stream');
    await store.close();
    // The machine's server has a self-signed certificate: a client that checks it must refuse.
    const refused = await PostgresEventStore.connect(`${database!.url}?sslmode=verify-full`, { poolSize: 1 }).catch((e: unknown) => e);
    expect(String((refused as Error).message)).toMatch(/certificate/i);
  });

  it('refuses to start on a schema it would have to migrate when migration at start is off, and says what to run', async () => {
    const fresh = await createTestDatabase('es_schema');
    try {
      const error = await PostgresEventStore.connect(fresh.url, { migrate: false }).catch((e: unknown) => e);
      expect((error as Error).message).toMatch(/lacks schema migrations 1, 2, 3: run `kepler migrate`/);
      const store = await PostgresEventStore.connect(fresh.url);
      expect((await store.migrate()).applied).toEqual([]);
      await store.close();
      const again = await PostgresEventStore.connect(fresh.url, { migrate: false });
      expect(await again.headPosition()).toBe(0);
      await again.close();
      const { rows } = await fresh.query<{ version: number }>('SELECT version FROM kepler_schema_migrations ORDER BY version');
      expect(rows).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }]);
    } finally {
      await fresh.drop();
    }
  });

  it('a store at version 2, with events, is brought to 3, after which an append can be guarded by another stream', async () => {
    const old = await createTestDatabase('es_v2');
    try {
      const pool = new pg.Pool(poolConfig(old.url).config);
      try {
        expect((await migrate(pool, EVENT_STORE_MIGRATIONS.filter((m) => m.version <= 2))).current).toBe(2);
        // What a process of the version before wrote: the function it calls is the one it called.
        await pool.query('SELECT * FROM kepler_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)', [
          ['booking-V2'], [-1], [1], [1], [1], [1], ['v2-booked'], ['TradeBooked'], ['{}'], ['{"correlationId":"V2"}'], [], [], [],
        ]);
      } finally {
        await pool.end();
      }
      const store = await PostgresEventStore.connect(old.url, { poolSize: 1 });
      try {
        const event = { id: 'v3-cancel', type: 'TradeCancelled', data: {}, metadata: { correlationId: 'V2' } };
        await expect(store.appendGuarded('trade-V2', [event], 'no_stream', { stream: 'booking-V2', revision: 'no_stream' })).rejects.toMatchObject({ stream: 'booking-V2', actual: 0 });
        expect((await store.appendGuarded('trade-V2', [event], 'no_stream', { stream: 'booking-V2', revision: 0 })).position).toBe(2);
      } finally {
        await store.close();
      }
    } finally {
      await old.drop();
    }
  });

  it('a store at version 1 is brought to 2, after which one checkpoint name from several writes of a group is stored', async () => {
    const old = await createTestDatabase('es_v1');
    try {
      const pool = new pg.Pool(poolConfig(old.url).config);
      try {
        expect((await migrate(pool, EVENT_STORE_MIGRATIONS.filter((m) => m.version === 1))).current).toBe(1);
      } finally {
        await pool.end();
      }
      const store = await PostgresEventStore.connect(old.url, { poolSize: 1 });
      try {
        const writes = [21, 22].map((position, n) =>
          store.appendMany([{ stream: `v1-${n}`, expectedRevision: 'no_stream', events: [{ id: `v1-${n}`, type: 'A', data: {}, metadata: { correlationId: 'v1' } }] }], { checkpoint: { name: 'v1', position } }),
        );
        expect((await Promise.all(writes)).flat().map((o) => o.ok)).toEqual([true, true]);
        expect(await store.readCheckpoint('v1')).toBe(22);
      } finally {
        await store.close();
      }
    } finally {
      await old.drop();
    }
  });
});

describe.skipIf(!database)('PostgreSQL event store: a database that does not exist yet', () => {
  it('is created by a process allowed to migrate, and is a clear error for one that is not', async () => {
    const name = `es_missing_test_${Date.now().toString(36)}`;
    const url = databaseUrl(name);
    const refused = await PostgresEventStore.connect(url, { migrate: false }).catch((e: unknown) => e);
    expect((refused as Error).message).toContain(`database "${name}" does not exist`);
    const opened = await Promise.allSettled([PostgresEventStore.connect(url, { poolSize: 1 }), PostgresEventStore.connect(url, { poolSize: 1 })]);
    try {
      const [a, b] = opened.map((o) => (o.status === 'fulfilled' ? o.value : Promise.reject(o.reason)));
      await (await a!).append('created-1', [{ id: 'c', type: 'Created', data: {}, metadata: { correlationId: 'c' } }], 'no_stream');
      expect(await (await b!).headPosition()).toBe(1);
    } finally {
      await Promise.all(opened.map((o) => (o.status === 'fulfilled' ? o.value.close() : undefined)));
      await database!.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  });
});

describe.skipIf(!database)('PostgreSQL event store: writes that share one call', () => {
  const event = (type: string) => ({ id: `${type}-${Math.random()}`, type, data: {}, metadata: { correlationId: 'group' } });

  it("each caller's checkpoint depends on its own appends only, and a stream appended twice in one call sees the first append", async () => {
    const store = await PostgresEventStore.connect(database!.url, { poolSize: 2 });
    try {
      await store.append('group-taken', [event('First')], 'no_stream');
      // Issued in the same turn of the event loop: they go to the server in one kepler_append call.
      const [refused, accepted, first, second] = await Promise.all([
        store.appendMany([{ stream: 'group-taken', expectedRevision: 'no_stream', events: [event('Again')] }], { checkpoint: { name: 'group-a', position: 1 } }),
        store.appendMany([{ stream: 'group-new', expectedRevision: 'no_stream', events: [event('New')] }], { checkpoint: { name: 'group-b', position: 2 } }),
        store.append('group-twice', [event('One'), event('Two')], 'no_stream'),
        store.append('group-twice', [event('Three')], 1),
      ]);
      expect(refused).toEqual([{ ok: false, actualRevision: 0 }]);
      expect(accepted[0]!.ok).toBe(true);
      expect(await store.readCheckpoint('group-a')).toBeNull();
      expect(await store.readCheckpoint('group-b')).toBe(2);
      expect(second.nextRevision).toBe(2);
      expect(second.position).toBe(first.position + 1);
      expect((await store.readStream('group-twice')).map((e) => [e.type, e.revision])).toEqual([
        ['One', 0],
        ['Two', 1],
        ['Three', 2],
      ]);
    } finally {
      await store.close();
    }
  });
});
