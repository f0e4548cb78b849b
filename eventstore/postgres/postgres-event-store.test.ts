// The PostgreSQL adapter against the machine's server, on a database of its own:
// the shared contract, unchanged, then what only PostgreSQL can get wrong.
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../tests/support/postgres.js';
import { tryStartServer } from '../../tests/support/servers.js';
import { eventStoreContract } from '../contract.js';
import { poolConfig, PostgresEventStore } from './index.js';

const database = await tryStartServer('PostgreSQL', () => createTestDatabase('es_contract'));
afterAll(async () => {
  await database?.drop();
});

if (database) eventStoreContract('PostgreSQL', () => PostgresEventStore.connect(database.url, { poolSize: 4 }));

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
      expect((error as Error).message).toMatch(/lacks schema migrations 1: run `kepler migrate`/);
      const store = await PostgresEventStore.connect(fresh.url);
      expect((await store.migrate()).applied).toEqual([]);
      await store.close();
      const again = await PostgresEventStore.connect(fresh.url, { migrate: false });
      expect(await again.headPosition()).toBe(0);
      await again.close();
      const { rows } = await fresh.query<{ version: number }>('SELECT version FROM kepler_schema_migrations');
      expect(rows).toEqual([{ version: 1 }]);
    } finally {
      await fresh.drop();
    }
  });
});
