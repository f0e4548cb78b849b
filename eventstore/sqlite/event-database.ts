// How the embedded event store's SQLite file is opened: its schema, its
// durability and its checkpoints. In one place, so that the raw-append baseline
// of `npm run bench` writes with exactly what the store writes with.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { useWriteAheadLog } from './wal.js';
import { BackgroundCheckpointer, type BackgroundCheckpointOptions } from './background-checkpointer.js';

export interface SqliteEventStoreOptions {
  /** How often to look for events appended by other processes while idle. */
  pollIntervalMs?: number;
  /** Checkpoint the WAL from a worker thread instead of inside commits (see BackgroundCheckpointer). */
  backgroundCheckpoints?: boolean | BackgroundCheckpointOptions;
  /** How long a write waits for another process's write lock before failing with StoreBusyError. */
  busyTimeoutMs?: number;
  /**
   * How much of the file to read through a memory map (default 1 GiB). A process that follows the
   * whole store (serve) passes 0: every page it has read stays in its resident memory while mapped,
   * and reading through SQLite's page cache cost it no measurable CPU.
   */
  mmapBytes?: number;
  /** SQLite's page cache of this connection, in KiB (default 64 MiB). */
  pageCacheKiB?: number;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (
    position    INTEGER PRIMARY KEY,
    stream      TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    id          TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    data        TEXT    NOT NULL,
    metadata    TEXT    NOT NULL,
    recorded_at INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX IF NOT EXISTS events_by_stream ON events (stream, revision);
  CREATE TABLE IF NOT EXISTS checkpoints (
    name     TEXT PRIMARY KEY,
    position INTEGER NOT NULL
  ) WITHOUT ROWID;
`;

/** A row of the events table. */
export interface EventRow {
  position: number;
  stream: string;
  revision: number;
  id: string;
  type: string;
  data: string;
  metadata: string;
  recorded_at: number;
}

export const INSERT_EVENT = 'INSERT INTO events (position, stream, revision, id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)';

/**
 * The same insert, data and metadata bound as their UTF-8 bytes (a blob to better-sqlite3)
 * and stored as the TEXT they are: SQLite's CAST of a blob to TEXT takes its bytes as they
 * are, in the database's encoding (UTF-8), so the row is what binding the strings gives.
 */
export const INSERT_EVENT_UTF8 = 'INSERT INTO events (position, stream, revision, id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, CAST(? AS TEXT), CAST(? AS TEXT), ?)';

const SQLITE_DEFAULT_AUTOCHECKPOINT = 1000;
const DEFAULT_MMAP_BYTES = 1 << 30;

export interface EventDatabase {
  db: Database.Database;
  /** Null when SQLite checkpoints inside commits (not asked for, in memory, or run from the sources). */
  checkpointer: BackgroundCheckpointer | null;
}

export function openEventDatabase(path: string, options: SqliteEventStoreOptions = {}): EventDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  useWriteAheadLog(db);
  // FULL: an append acknowledged to a caller survives a power cut, not only a crash.
  db.pragma('synchronous = FULL');
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 30_000}`);
  // Memory-mapped reads and a larger page cache: index lookups stop costing a syscall per page.
  db.pragma(`mmap_size = ${options.mmapBytes ?? DEFAULT_MMAP_BYTES}`);
  db.pragma(`cache_size = -${options.pageCacheKiB ?? 65_536}`);
  db.exec(SCHEMA);
  let checkpointer: BackgroundCheckpointer | null = null;
  if (options.backgroundCheckpoints && path !== ':memory:') {
    const settings = options.backgroundCheckpoints === true ? {} : options.backgroundCheckpoints;
    checkpointer = BackgroundCheckpointer.start(path, settings, (reason) => {
      process.emitWarning(`background checkpoints of ${path} stopped (${reason}); SQLite checkpoints in commits again`);
      if (db.open) db.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT}`);
    });
    if (checkpointer) db.pragma('wal_autocheckpoint = 0');
  }
  return { db, checkpointer };
}
