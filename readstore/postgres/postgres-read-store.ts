// The read-model store port on PostgreSQL: one table per collection, documents
// as jsonb, indexes on the fields queries filter on. write() is one transaction,
// so a projection's documents and its checkpoint commit together, as on SQLite.
//
// Connection settings, error mapping and the migration runner are the event
// store adapter's (eventstore/postgres): one way to reach PostgreSQL.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { creatingDatabase, isTransient, migrate, pendingMigrations, poolConfig, redactUrl, toStoreError, type Migration, type PostgresOptions } from '../../eventstore/postgres/index.js';
import type { Document, DocumentWrite, FindQuery, ReadStore, Where } from '../port.js';
import { latestWritePerId } from '../writes.js';

export interface PostgresReadStoreOptions extends PostgresOptions {
  /** Apply pending migrations when opening. Default true. */
  migrate?: boolean;
}

const MIGRATIONS_TABLE = 'kepler_rm_schema_migrations';
export const READ_STORE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'read-model checkpoints and settings',
    sql: `
      CREATE TABLE kepler_rm_checkpoints (name text PRIMARY KEY, position bigint NOT NULL);
      CREATE TABLE kepler_rm_settings (key text PRIMARY KEY, value text NOT NULL);
    `,
  },
];

const UNDEFINED_TABLE = '42P01';
/** The advisory-lock space in which creators of one collection queue (the event store's is 1_801_807_218). */
const COLLECTION_LOCK_SPACE = 1_801_807_219;
const DEADLOCK = '40P01';

export class PostgresReadStore implements ReadStore {
  private readonly pool: pg.Pool;

  static async connect(url: string, options: PostgresReadStoreOptions = {}): Promise<PostgresReadStore> {
    const { config } = poolConfig(url, { applicationName: 'kepler-read-models', ...options });
    const allowed = options.migrate ?? true;
    const open = async () => {
      const store = new PostgresReadStore(new pg.Pool(config), redactUrl(url));
      try {
        if (allowed) await migrate(store.pool, READ_STORE_MIGRATIONS, MIGRATIONS_TABLE);
        else if ((await pendingMigrations(store.pool, READ_STORE_MIGRATIONS, MIGRATIONS_TABLE)).length > 0) {
          throw new Error(`the read store at ${store.where} lacks schema migrations: run \`kepler migrate\``);
        }
        return store;
      } catch (error) {
        await store.close();
        throw error;
      }
    };
    try {
      return await (allowed ? creatingDatabase(config, open) : open());
    } catch (error) {
      throw toStoreError(error, 'answer', redactUrl(url));
    }
  }

  private constructor(
    pool: pg.Pool,
    private readonly where: string,
  ) {
    this.pool = pool;
    this.pool.on('error', () => undefined);
  }

  /** Applies pending migrations to the store at `url` and says which (what `kepler migrate` runs). */
  static async migrate(url: string, options: PostgresOptions = {}) {
    const { config } = poolConfig(url, { applicationName: 'kepler-read-models', ...options, poolSize: 1 });
    const pool = new pg.Pool(config);
    pool.on('error', () => undefined);
    try {
      return await creatingDatabase(config, () => migrate(pool, READ_STORE_MIGRATIONS, MIGRATIONS_TABLE));
    } catch (error) {
      throw toStoreError(error, 'answer', redactUrl(url));
    } finally {
      await pool.end();
    }
  }

  async ensureCollection(collection: string, indexedFields: readonly string[]): Promise<void> {
    const table = tableOf(collection);
    // Partitions of one projection start together and each ensures the tables it writes. IF NOT EXISTS
    // does not hold between concurrent transactions: the later one fails on the catalog (the table's
    // row type, an index's name) with one of several codes. Creators of one collection queue instead.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.transaction(async (client) => {
          await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [COLLECTION_LOCK_SPACE, collection]);
          await client.query(`CREATE TABLE IF NOT EXISTS ${table} (
            id text COLLATE "C" PRIMARY KEY, doc jsonb NOT NULL, position bigint NOT NULL, deleted boolean NOT NULL DEFAULT false
          )`);
          for (const field of new Set(indexedFields)) {
            await client.query(`CREATE INDEX IF NOT EXISTS ${indexName(collection, field)} ON ${table} ((doc -> ${literal(fieldName(field))}), id)`);
          }
        });
        return;
      } catch (error) {
        // Idempotent, as the other small writes are: a transient failure is worth one more try.
        if (attempt >= 2 || !isTransient(error)) throw toStoreError(error, 'create a collection', this.where);
      }
    }
  }

  async dropCollection(collection: string): Promise<void> {
    await this.query('drop a collection', `DROP TABLE IF EXISTS ${tableOf(collection)}`);
  }

  async get(collection: string, id: string): Promise<Document | null> {
    return (await this.getMany(collection, [id])).get(id) ?? null;
  }

  async getMany(collection: string, ids: readonly string[]): Promise<Map<string, Document>> {
    const found = new Map<string, Document>();
    if (ids.length === 0) return found;
    const rows = await this.rowsOf<{ id: string; doc: Document }>(collection, `SELECT id, doc FROM ${tableOf(collection)} WHERE id = ANY ($1::text[]) AND NOT deleted`, [[...new Set(ids)]]);
    for (const row of rows) found.set(row.id, row.doc);
    return found;
  }

  async find(collection: string, query: FindQuery): Promise<Array<{ id: string; doc: Document }>> {
    if (query.limit !== undefined && query.limit <= 0) return [];
    const { clause, params } = whereClause(query.where);
    let sql = `SELECT id, doc FROM ${tableOf(collection)} WHERE NOT deleted${clause}`;
    if (query.afterId !== undefined) {
      params.push(query.afterId);
      sql += ` AND id > $${params.length}`;
    }
    sql += ' ORDER BY id';
    if (query.limit !== undefined) {
      params.push(Math.floor(query.limit));
      sql += ` LIMIT $${params.length}`;
    }
    return this.rowsOf(collection, sql, params);
  }

  async countBy(collection: string, field: string, where?: Where): Promise<Record<string, number>> {
    const { clause, params } = whereClause(where);
    const rows = await this.rowsOf<{ value: unknown; n: string }>(
      collection,
      `SELECT doc -> ${literal(fieldName(field))} AS value, count(*) AS n FROM ${tableOf(collection)} WHERE NOT deleted${clause} GROUP BY 1`,
      params,
    );
    const counts: Record<string, number> = {};
    for (const row of rows) counts[String(row.value)] = (counts[String(row.value)] ?? 0) + Number(row.n);
    return counts;
  }

  async write(writes: readonly DocumentWrite[], checkpoints: ReadonlyArray<{ name: string; position: number }> = []): Promise<void> {
    // Encoded before the transaction starts: a document that cannot be stored stops the write before anything is written.
    const byCollection = latestWritePerId(writes);
    const statements = [...byCollection.keys()].sort().map((collection) => {
      const rows = [...byCollection.get(collection)!.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      return {
        collection,
        params: [rows.map((w) => w.id), rows.map((w) => (w.kind === 'put' ? JSON.stringify(w.doc) : '{}')), rows.map((w) => w.position), rows.map((w) => w.kind === 'delete')],
      };
    });
    if (statements.length === 0 && checkpoints.length === 0) return;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.transaction(async (client) => {
          for (const { collection, params } of statements) {
            const table = tableOf(collection);
            // Rows in id order, so concurrent writers lock them in the same order. A tombstone keeps
            // its position, so an older write replayed later cannot bring the document back.
            await client.query(
              `INSERT INTO ${table} AS t (id, doc, position, deleted)
               SELECT * FROM unnest($1::text[], $2::jsonb[], $3::bigint[], $4::boolean[]) ORDER BY 1
               ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, position = excluded.position, deleted = excluded.deleted
               WHERE t.position < excluded.position`,
              params,
            ).catch((error: unknown) => {
              if ((error as { code?: string }).code === UNDEFINED_TABLE) throw new Error(`read store: collection ${collection} does not exist`);
              throw error;
            });
          }
          if (checkpoints.length > 0) {
            await client.query(
              `INSERT INTO kepler_rm_checkpoints (name, position) SELECT * FROM unnest($1::text[], $2::bigint[])
               ON CONFLICT (name) DO UPDATE SET position = excluded.position`,
              [checkpoints.map((c) => c.name), checkpoints.map((c) => c.position)],
            );
          }
        });
        return;
      } catch (error) {
        if ((error as { code?: string }).code !== DEADLOCK || attempt >= 3) throw toStoreError(error, 'write read models', this.where);
      }
    }
  }

  async readCheckpoint(name: string): Promise<number | null> {
    const { rows } = await this.query<{ position: string }>('read a checkpoint', 'SELECT position FROM kepler_rm_checkpoints WHERE name = $1', [name]);
    return rows[0] ? Number(rows[0].position) : null;
  }

  async deleteCheckpoint(name: string): Promise<void> {
    await this.query('delete a checkpoint', 'DELETE FROM kepler_rm_checkpoints WHERE name = $1', [name]);
  }

  async getSetting(key: string): Promise<string | null> {
    const { rows } = await this.query<{ value: string }>('read a setting', 'SELECT value FROM kepler_rm_settings WHERE key = $1', [key]);
    return rows[0]?.value ?? null;
  }

  async setSetting(key: string, value: string): Promise<void> {
    await this.query('store a setting', 'INSERT INTO kepler_rm_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async transaction(work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await work(client);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** Rows of a query on a collection; a collection that does not exist has none. */
  private async rowsOf<R extends pg.QueryResultRow>(collection: string, sql: string, params: unknown[]): Promise<R[]> {
    try {
      return (await this.query<R>(`read ${collection}`, sql, params)).rows;
    } catch (error) {
      if ((error as { code?: string }).code === UNDEFINED_TABLE) return [];
      throw error;
    }
  }

  private async query<R extends pg.QueryResultRow>(doing: string, sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.pool.query<R>(sql, params);
      } catch (error) {
        // Reads and these small writes are idempotent: a transient failure is worth one more try.
        if (attempt >= 2 || !isTransient(error)) throw toStoreError(error, doing, this.where);
      }
    }
  }

}

const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

function tableOf(collection: string): string {
  if (!NAME.test(collection) || collection.length > 60) throw new Error(`invalid collection name: ${collection}`);
  return `"rm_${collection}"`;
}

/** Index names are cut at 63 bytes by PostgreSQL: a digest keeps long ones apart. */
function indexName(collection: string, field: string): string {
  const digest = createHash('sha1').update(`${collection}\u0000${field}`).digest('hex').slice(0, 12);
  return `"rm_${collection.slice(0, 30)}_${field.slice(0, 12)}_${digest}"`;
}

function fieldName(field: string): string {
  if (!NAME.test(field)) throw new Error(`invalid field name: ${field}`);
  return field;
}

function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** Equality as JSON values compare: 10 matches 10, "10" does not; null matches an explicit null. */
function whereClause(where: Where | undefined): { clause: string; params: unknown[] } {
  const params: unknown[] = [];
  let clause = '';
  for (const [field, value] of Object.entries(where ?? {})) {
    const path = `doc -> ${literal(fieldName(field))}`;
    if (Array.isArray(value)) {
      params.push(value.map((v) => JSON.stringify(v)));
      clause += ` AND ${path} = ANY ($${params.length}::jsonb[])`;
    } else {
      params.push(JSON.stringify(value));
      clause += ` AND ${path} = $${params.length}::jsonb`;
    }
  }
  return { clause, params };
}
