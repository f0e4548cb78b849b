// A fresh PostgreSQL database per test file on the machine's server (or the one
// KEPLER_TEST_POSTGRES_URL names), dropped at the end: tests share the server
// with other test files and other people's tests, never a database.
import { randomUUID } from 'node:crypto';
import pg from 'pg';

export const POSTGRES_ADMIN_URL = process.env.KEPLER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  name: string;
  /** URL of the new database. */
  url: string;
  /** Runs SQL on it as the admin user (for inspecting and for hostile acts such as pg_terminate_backend). */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  drop(): Promise<void>;
}

export function databaseUrl(name: string, base = POSTGRES_ADMIN_URL): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function createTestDatabase(label = 'kepler'): Promise<TestDatabase> {
  const name = `${label}_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = databaseUrl(name);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  let dropped: Promise<void> | null = null;
  return {
    name,
    url,
    query: (sql, params) => pool.query(sql, params),
    drop: () =>
      (dropped ??= (async () => {
        await pool.end();
        await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      })()),
  };
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
