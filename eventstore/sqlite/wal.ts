import type Database from 'better-sqlite3';

/** How long opening a database keeps trying to switch it to write-ahead logging. */
const WAL_SWITCH_DEADLINE_MS = 30_000;
const WAL_SWITCH_PAUSE_MS = 20;

/**
 * Switches a database to write-ahead logging. Several processes opening one new
 * file at once (a slot's roles starting together) each hold a shared lock and
 * ask for an exclusive one to switch: SQLite then answers one of them "database
 * is locked" at once, without waiting for the busy timeout, since waiting could
 * deadlock. Trying again after the others' switch is all it takes: by then the
 * file is in WAL mode and the pragma only reads it.
 */
export function useWriteAheadLog(db: Database.Database): void {
  const deadline = Date.now() + WAL_SWITCH_DEADLINE_MS;
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if (!String((error as { code?: unknown }).code).startsWith('SQLITE_BUSY') || Date.now() >= deadline) throw error;
      // Opening is synchronous (better-sqlite3), so the pause is too.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, WAL_SWITCH_PAUSE_MS);
    }
  }
}
