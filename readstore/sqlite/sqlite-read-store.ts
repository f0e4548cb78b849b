import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { useWriteAheadLog } from '../../eventstore/index.js';
import type { Document, DocumentWrite, FindQuery, ReadStore, Where } from '../port.js';

interface Statements {
  collection: string;
  /** The collection's indexed fields, each kept in a column of its own (`f_<field>`), in column order. */
  fields: readonly string[];
  put: Database.Statement<SqlValue[]>;
  /**
   * By the fields that change (bit i: fields[i]): as put, but a row that exists has only those fields'
   * columns set, and is changed only if the others already hold the document's values (else nothing:
   * `changes` 0, and put follows). Each prepared when first wanted. See putDocument.
   */
  putChanging: Map<number, Database.Statement<SqlValue[]>>;
  remove: Database.Statement<[string, number]>;
  /** The document's JSON text (plucked: no row object per read). */
  get: Database.Statement<[string], string>;
}

/**
 * The embedded read store: one table per collection, documents as JSON. Each
 * field queries filter on is also kept in a column of its own, written from
 * JavaScript with the document and indexed: an index on `json_extract(doc, ...)`
 * parsed the document's JSON once per index for the new row and again for the
 * row it replaced, about half of every upsert's time (profiled, catch-up of
 * 100,000 trades). Writes and checkpoints commit in one transaction, so a
 * projection's checkpoint never runs ahead of its documents.
 *
 * The reads of one event-loop turn share one read transaction (a snapshot): in
 * WAL mode each transaction of its own takes and drops SQLite's shared lock and
 * checks the file's size, three system calls, which a busy query API otherwise
 * pays on every lookup. Every read goes through the snapshot, documents and
 * checkpoints alike, so a checkpoint read shows the documents committed with it;
 * a write on this connection ends it first; `renewSnapshot` ends it for a
 * caller that learned of a commit some other way.
 */
export class SqliteReadStore implements ReadStore {
  private readonly statements = new Map<string, Statements>();
  private readonly beginRead: Database.Statement<[]>;
  private readonly endRead: Database.Statement<[]>;
  /** Prepared once: the query API reads these every few milliseconds (generations, read-your-writes polls). */
  private readonly checkpointOf: Database.Statement<[string], number>;
  private readonly settingOf: Database.Statement<[string], string>;
  private snapshotOpen = false;
  /** `PRAGMA schema_version` when the cached statements were last checked against it (every statement cached since was prepared on that schema or a later one). */
  private schemaVersion = -1;
  private readonly schemaVersionOf: Database.Statement<[], number>;
  private readonly saveCheckpoint: Database.Statement<[string, number]>;
  /**
   * Made once, with its checkpoint statement: better-sqlite3's db.transaction() builds four wrapper
   * functions at every call, and the projections write once per runner per batch.
   */
  private readonly writeTransaction: Database.Transaction<(writes: readonly DocumentWrite[], checkpoints: ReadonlyArray<{ name: string; position: number }>) => void>;

  /**
   * `mmapBytes`: how much of the file to read through a memory map (default 1 GiB); `pageCacheKiB`:
   * SQLite's page cache (default 64 MiB). See the event store's options of the same names.
   */
  static open(path: string, options: { mmapBytes?: number; pageCacheKiB?: number } = {}): SqliteReadStore {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    return new SqliteReadStore(new Database(path), options.mmapBytes ?? 1 << 30, options.pageCacheKiB ?? 65_536);
  }

  private constructor(
    private readonly db: Database.Database,
    mmapBytes: number,
    pageCacheKiB: number,
  ) {
    useWriteAheadLog(db);
    // Read models can be rebuilt from the event store, so a power cut may cost the last commits, never consistency.
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 30000');
    // Memory-mapped reads and a larger page cache: index lookups stop costing a syscall per page.
    db.pragma(`mmap_size = ${mmapBytes}`);
    db.pragma(`cache_size = -${pageCacheKiB}`);
    db.exec(`
      CREATE TABLE IF NOT EXISTS checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    `);
    // Deferred: the snapshot is taken by the first read in it, not by BEGIN.
    this.beginRead = db.prepare('BEGIN DEFERRED');
    this.endRead = db.prepare('COMMIT');
    this.checkpointOf = db.prepare<[string], number>('SELECT position FROM checkpoints WHERE name = ?').pluck();
    this.settingOf = db.prepare<[string], string>('SELECT value FROM settings WHERE key = ?').pluck();
    this.saveCheckpoint = db.prepare('INSERT INTO checkpoints (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position');
    this.schemaVersionOf = db.prepare<[], number>('PRAGMA schema_version').pluck();
    this.writeTransaction = db.transaction((writes: readonly DocumentWrite[], checkpoints: ReadonlyArray<{ name: string; position: number }>) => {
      // A put names the columns its statement was prepared with; if another connection added one since
      // (ensureCollection with a new field), a stale statement would leave it empty. Checked once per
      // transaction, under the write lock, so no change can come between the check and the writes.
      this.checkSchemaVersion();
      for (const write of writes) {
        const statements = this.prepared(write.collection);
        if (!statements) throw new Error(`read store: collection ${write.collection} does not exist`);
        if (write.kind === 'put') this.putDocument(statements, write, putParameters(statements.fields, write.id, write.doc, write.position));
        else statements.remove.run(write.id, write.position);
      }
      for (const checkpoint of checkpoints) this.saveCheckpoint.run(checkpoint.name, checkpoint.position);
    });
  }

  /** Ends the shared read snapshot: the next read sees every commit made before this call. */
  renewSnapshot(): void {
    if (!this.snapshotOpen) return;
    this.snapshotOpen = false;
    this.endRead.run();
  }

  /** Opens the turn's snapshot if none is open; it ends when the event loop next checks immediates. */
  private snapshot(): void {
    if (this.snapshotOpen) return;
    this.beginRead.run();
    this.snapshotOpen = true;
    setImmediate(this.endTurn);
  }

  private readonly endTurn = (): void => this.renewSnapshot();

  async ensureCollection(collection: string, indexedFields: readonly string[]): Promise<void> {
    this.renewSnapshot();
    const table = tableOf(collection);
    const fields = indexedFields.map(fieldName);
    // The field columns have no declared type (no affinity): they hold what json_extract would return.
    this.db.exec(`CREATE TABLE IF NOT EXISTS ${table} (
      id TEXT PRIMARY KEY, doc TEXT NOT NULL, position INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0${fields.map((f) => `, ${column(f)}`).join('')}
    ) WITHOUT ROWID`);
    if (fields.some((f) => !this.columnsOf(table).has(column(f)))) this.addColumns(table, fields);
    for (const field of fields) {
      // The expression index of a store made before the fields had columns: the column's index replaces it.
      this.db.exec(`DROP INDEX IF EXISTS ${table}_${field}`);
      this.db.exec(`CREATE INDEX IF NOT EXISTS ${table}_${column(field)} ON ${table} (${column(field)}, id)`);
    }
    this.statements.delete(collection);
  }

  /**
   * The columns of a table made before these fields were indexed, or before indexed fields had
   * columns at all (stores written by earlier versions), added and filled from the documents: the
   * read model stays as it was, without a rebuild. One transaction under the write lock, the columns
   * looked at again inside it, so connections ensuring the same collection at once add each only once.
   */
  private addColumns(table: string, fields: readonly string[]): void {
    this.db.transaction(() => {
      const existing = this.columnsOf(table);
      for (const field of fields) {
        if (existing.has(column(field))) continue;
        this.db.exec(`ALTER TABLE ${table} ADD COLUMN ${column(field)}`);
        this.db.exec(`UPDATE ${table} SET ${column(field)} = ${extract(field)}`);
      }
    }).immediate();
  }

  private columnsOf(table: string): Set<string> {
    return new Set((this.db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name));
  }

  async dropCollection(collection: string): Promise<void> {
    this.renewSnapshot();
    this.db.exec(`DROP TABLE IF EXISTS ${tableOf(collection)}`);
    this.statements.delete(collection);
  }

  async get(collection: string, id: string): Promise<Document | null> {
    const doc = this.read(collection)?.get.get(id);
    return doc === undefined ? null : (JSON.parse(doc) as Document);
  }

  async getJson(collection: string, id: string): Promise<string | null> {
    return this.getJsonNow(collection, id);
  }

  getJsonNow(collection: string, id: string): string | null {
    return this.read(collection)?.get.get(id) ?? null;
  }

  async getMany(collection: string, ids: readonly string[]): Promise<Map<string, Document>> {
    const found = new Map<string, Document>();
    const statements = this.read(collection);
    if (!statements) return found;
    for (const id of ids) {
      const doc = statements.get.get(id);
      if (doc !== undefined) found.set(id, JSON.parse(doc) as Document);
    }
    return found;
  }

  async find(collection: string, query: FindQuery): Promise<Array<{ id: string; doc: Document }>> {
    const statements = this.readFields(collection);
    if (!statements) return [];
    const { clause, params } = whereClause(query.where, statements.fields);
    const after = query.afterId !== undefined ? ' AND id > ?' : '';
    if (query.afterId !== undefined) params.push(query.afterId);
    params.push(query.limit ?? -1);
    const rows = this.db
      .prepare(`SELECT id, doc FROM ${tableOf(collection)} WHERE deleted = 0${clause}${after} ORDER BY id LIMIT ?`)
      .all(...params) as Array<{ id: string; doc: string }>;
    return rows.map((row) => ({ id: row.id, doc: JSON.parse(row.doc) as Document }));
  }

  async countBy(collection: string, field: string, where?: Where): Promise<Record<string, number>> {
    const statements = this.readFields(collection);
    if (!statements) return {};
    const { clause, params } = whereClause(where, statements.fields);
    const rows = this.db
      .prepare(`SELECT ${valueOf(field, statements.fields)} AS value, count(*) AS n FROM ${tableOf(collection)} WHERE deleted = 0${clause} GROUP BY value`)
      .all(...params) as Array<{ value: string | number | null; n: number }>;
    return Object.fromEntries(rows.map((row) => [String(row.value), row.n]));
  }

  async write(writes: readonly DocumentWrite[], checkpoints: ReadonlyArray<{ name: string; position: number }> = []): Promise<void> {
    this.renewSnapshot();
    this.writeTransaction.immediate(writes, checkpoints);
  }

  async readCheckpoint(name: string): Promise<number | null> {
    this.snapshot();
    return this.checkpointOf.get(name) ?? null;
  }

  async deleteCheckpoint(name: string): Promise<void> {
    this.renewSnapshot();
    this.db.prepare('DELETE FROM checkpoints WHERE name = ?').run(name);
  }

  async getSetting(key: string): Promise<string | null> {
    this.snapshot();
    return this.settingOf.get(key) ?? null;
  }

  async setSetting(key: string, value: string): Promise<void> {
    this.renewSnapshot();
    this.db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  async close(): Promise<void> {
    this.renewSnapshot();
    this.db.close();
  }

  /** A collection's statements for a read, in the turn's snapshot; null if it does not exist. */
  private read(collection: string): Statements | null {
    this.snapshot();
    return this.prepared(collection);
  }

  /**
   * As read, for a query that filters on fields: with its columns as they are now. A connection that
   * prepared before another migrated the table (a query API opened on a store from an earlier
   * version) would otherwise go on filtering through json_extract, which no index serves any more.
   * One statement more for a query that prepares its own anyway; get and getMany do not need it.
   */
  private readFields(collection: string): Statements | null {
    this.snapshot();
    this.checkSchemaVersion();
    return this.prepared(collection);
  }

  /** Forgets every prepared statement if the schema changed since they were prepared. */
  private checkSchemaVersion(): void {
    const version = this.schemaVersionOf.get()!;
    if (version === this.schemaVersion) return;
    this.statements.clear();
    this.schemaVersion = version;
  }

  /**
   * Writes a document, setting only the indexed columns whose values change. SQLite rewrites an index's
   * entry for every column an UPDATE sets, whether or not its value moved: the upsert that sets them all
   * deleted and inserted three index entries at every rewrite of a trade, whose status, account and
   * ISIN mostly stay as they were (a trade's document is written about four times in a catch-up, its
   * status changing once or twice). Which change is judged from what the writer says it read
   * (`before`), or, when it says nothing, taken to be none; never trusted: the statement sets the
   * document, its position and the changed columns only if the other columns already hold the
   * document's values (IS: equal, NULLs included). A row whose columns differ, or one already at this
   * position or later, is left to the upsert that sets everything (which, for the latter, changes
   * nothing). A new row is inserted by either.
   */
  private putDocument(statements: Statements, write: Extract<DocumentWrite, { kind: 'put' }>, parameters: SqlValue[]): void {
    const { fields } = statements;
    if (fields.length > 0 && fields.length <= MASKED_FIELDS && write.before !== null) {
      let changed = 0;
      if (write.before !== undefined) {
        for (let i = 0; i < fields.length; i++) if (sqlValueOf(write.before[fields[i]!]) !== parameters[FIELDS_FROM + i]) changed |= 1 << i;
      }
      if (changed !== (1 << fields.length) - 1 && this.putChanging(statements, changed).run(...parameters).changes > 0) return;
    }
    statements.put.run(...parameters);
  }

  private putChanging(statements: Statements, changed: number): Database.Statement<SqlValue[]> {
    let statement = statements.putChanging.get(changed);
    if (!statement) {
      const table = tableOf(statements.collection);
      const columns = statements.fields.map(column);
      const set = columns.filter((_, i) => (changed & (1 << i)) !== 0).map((c) => `, ${c} = excluded.${c}`).join('');
      const kept = columns.filter((_, i) => (changed & (1 << i)) === 0).map((c) => ` AND ${table}.${c} IS excluded.${c}`).join('');
      statement = this.db.prepare<SqlValue[]>(
        `INSERT INTO ${table} (id, doc, position, deleted${columns.map((c) => `, ${c}`).join('')}) VALUES (?, ?, ?, 0${columns.map(() => ', ?').join('')})
         ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, position = excluded.position, deleted = 0${set}
         WHERE excluded.position > ${table}.position${kept}`,
      );
      statements.putChanging.set(changed, statement);
    }
    return statement;
  }

  private prepared(collection: string): Statements | null {
    const cached = this.statements.get(collection);
    if (cached) return cached;
    const table = tableOf(collection);
    const found = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table);
    if (!found) return null;
    const fields = [...this.columnsOf(table)].filter((c) => c.startsWith('f_')).map((c) => c.slice(2));
    const columns = fields.map(column);
    const statements: Statements = {
      collection,
      fields,
      // A tombstone (deleted = 1) keeps its position, so an older write replayed later cannot resurrect it.
      put: this.db.prepare<SqlValue[]>(
        `INSERT INTO ${table} (id, doc, position, deleted${columns.map((c) => `, ${c}`).join('')}) VALUES (?, ?, ?, 0${columns.map(() => ', ?').join('')})
         ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, position = excluded.position, deleted = 0${columns.map((c) => `, ${c} = excluded.${c}`).join('')}
         WHERE excluded.position > ${table}.position`,
      ),
      putChanging: new Map(),
      remove: this.db.prepare(
        `INSERT INTO ${table} (id, doc, position, deleted) VALUES (?, '{}', ?, 1)
         ON CONFLICT (id) DO UPDATE SET doc = '{}', position = excluded.position, deleted = 1${columns.map((c) => `, ${c} = NULL`).join('')}
         WHERE excluded.position > ${table}.position`,
      ),
      get: this.db.prepare<[string], string>(`SELECT doc FROM ${table} WHERE id = ? AND deleted = 0`).pluck(),
    };
    this.statements.set(collection, statements);
    return statements;
  }
}

function tableOf(collection: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(collection)) throw new Error(`invalid collection name: ${collection}`);
  return `rm_${collection}`;
}

function fieldName(field: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(field)) throw new Error(`invalid field name: ${field}`);
  return field;
}

function extract(field: string): string {
  return `json_extract(doc, '$.${fieldName(field)}')`;
}

/** The column that keeps an indexed field. */
function column(field: string): string {
  return `f_${fieldName(field)}`;
}

/** A field's value in SQL: its column if it is indexed (the index serves the query), else read from the document. */
function valueOf(field: string, indexed: readonly string[]): string {
  return indexed.includes(field) ? column(field) : extract(field);
}

type SqlValue = string | number | bigint | null;

/**
 * Collections with more indexed fields than this are written by the upsert that sets them all: a
 * statement is prepared per set of changed fields, so at most 2^6 = 64 of them a collection (the
 * projections index 4 at most).
 */
const MASKED_FIELDS = 6;

/** Where a put's parameters hold the indexed fields' values. */
const FIELDS_FROM = 3;

/** A put's parameters: id, JSON, position, then each indexed field's value (from FIELDS_FROM). */
function putParameters(fields: readonly string[], id: string, doc: Document, position: number): SqlValue[] {
  const parameters: SqlValue[] = [id, JSON.stringify(doc), position];
  for (const field of fields) parameters.push(sqlValueOf(doc[field]));
  return parameters;
}

/**
 * What `json_extract(doc, '$.field')` returns for a value once the document is stored as JSON, so
 * the column compares, sorts and counts as the expression did: integers as SQLite integers (a
 * JavaScript number binds as a double), booleans as 1 and 0, objects and lists as their JSON text, what
 * JSON has no number for (NaN, infinities) and what it leaves out (undefined, functions) as NULL.
 */
export function sqlValueOf(value: unknown): SqlValue {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      if (!Number.isFinite(value)) return null;
      return Number.isSafeInteger(value) ? BigInt(value) : value;
    case 'boolean':
      return value ? 1n : 0n;
    case 'object': {
      if (value === null) return null;
      // As the document's JSON has it: a Date (any toJSON) becomes the string it serialises to.
      const stored: unknown = JSON.parse(JSON.stringify(value));
      return typeof stored === 'object' && stored !== null ? JSON.stringify(stored) : sqlValueOf(stored);
    }
    default:
      return null;
  }
}

function whereClause(where: Where | undefined, indexed: readonly string[]): { clause: string; params: Array<string | number | null> } {
  const params: Array<string | number | null> = [];
  let clause = '';
  for (const [field, value] of Object.entries(where ?? {})) {
    const sql = valueOf(field, indexed);
    if (value === null) {
      clause += ` AND ${sql} IS NULL`;
    } else if (Array.isArray(value)) {
      if (value.length === 0) {
        clause += ' AND 0';
        continue;
      }
      clause += ` AND ${sql} IN (${value.map(() => '?').join(', ')})`;
      params.push(...value);
    } else {
      clause += ` AND ${sql} = ?`;
      params.push(typeof value === 'boolean' ? (value ? 1 : 0) : (value as string | number));
    }
  }
  return { clause, params };
}
