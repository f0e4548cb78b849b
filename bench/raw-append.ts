// The event store's limit on this machine: the events a run produced, appended
// raw (already encoded, no checks, no JSON) in batches, with the store's own
// SQLite build, schema (unique (stream, revision) index included), pragmas,
// durability (synchronous = FULL, an fsync per batch) and background WAL
// checkpoints. Only the transactions are timed.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { INSERT_EVENT, openEventDatabase, type EventRow } from '../eventstore/sqlite/index.js';
import type { Measurement } from './kit.js';

/** One event as a store holds it, already encoded; its position and time are the raw append's own. */
export type RawEvent = Omit<EventRow, 'position' | 'recorded_at'>;

/** A raw append of a run's events, in the order the run appended them. */
export interface AppendBaseline extends Measurement {
  events: number;
  seconds: number;
  /** Mean bytes of an event's stream, id, type, data and metadata. */
  meanEventBytes: number;
}

/**
 * A raw insert into another event store (PostgreSQL's, for one), measured the same way: the given
 * pages, one transaction each, only the transactions timed. Each adapter's section compares against its own.
 */
export type RawAppend = (pages: Iterable<RawEvent[]>, scratchDir: string) => Promise<AppendBaseline>;

/** The events of a SQLite event store, `pageSize` at a time, in position order. */
export function* eventsOfSqliteStore(path: string, pageSize: number): Generator<RawEvent[]> {
  const db = new Database(path, { readonly: true });
  try {
    const page = db.prepare<[number, number], RawEvent & { position: number }>(
      'SELECT position, stream, revision, id, type, data, metadata FROM events WHERE position > ? ORDER BY position LIMIT ?',
    );
    for (let after = 0; ; ) {
      const rows = page.all(after, pageSize);
      if (rows.length === 0) return;
      after = rows.at(-1)!.position;
      yield rows;
    }
  } finally {
    db.close();
  }
}

export const rawSqliteAppend: RawAppend = async (pages, scratchDir) => {
  const dir = join(scratchDir, `raw-append-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const { db, checkpointer } = openEventDatabase(join(dir, 'events.db'), { backgroundCheckpoints: true });
  try {
    if (!checkpointer) throw new Error('raw append: the background checkpointer did not start (run the compiled bench)');
    const insert = db.prepare<[number, string, number, string, string, string, string, number]>(INSERT_EVENT);
    let position = 0;
    let bytes = 0;
    let nanoseconds = 0n;
    const append = db.transaction((rows: RawEvent[], recordedAt: number) => {
      for (const row of rows) insert.run(++position, row.stream, row.revision, row.id, row.type, row.data, row.metadata, recordedAt);
    });
    for (const rows of pages) {
      for (const row of rows) bytes += row.stream.length + row.id.length + row.type.length + row.data.length + row.metadata.length;
      const started = process.hrtime.bigint();
      append.immediate(rows, Date.now());
      nanoseconds += process.hrtime.bigint() - started;
    }
    const seconds = Number(nanoseconds) / 1e9;
    return { rate: position / seconds, unit: 'events', events: position, seconds, meanEventBytes: bytes / Math.max(1, position), detail: `${position.toLocaleString('en')} events in ${seconds.toFixed(2)} s` };
  } finally {
    await checkpointer?.stop();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
};
