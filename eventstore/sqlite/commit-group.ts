// One group commit's transaction: the expected-revision checks, the inserts and the checkpoint of
// every append of the group, on whichever connection writes (the store's own, or its writer
// thread's). In one place, so that both paths commit exactly the same way.
import type Database from 'better-sqlite3';
import type { AppendableEvent, AppendOutcome, Checkpoint, ExpectedRevision } from '../port.js';
import { encodeEvent } from '../port.js';
import { INSERT_EVENT, INSERT_EVENT_UTF8 } from './event-database.js';

/** What one caller of appendMany asked to write. */
export interface GroupWrite {
  appends: readonly { stream: string; expectedRevision: ExpectedRevision; events: readonly AppendableEvent[] }[];
  checkpoint: Checkpoint | undefined;
}

/** Every caller's outcomes, in order; every event this group appended is in (after, last]. */
export interface GroupCommitted {
  results: AppendOutcome[][];
  after: number;
  last: number;
}

/** The transaction, prepared once on `db`; call `.immediate(writes)` to take the write lock at BEGIN. */
export type CommitGroup = Database.Transaction<(writes: readonly GroupWrite[]) => GroupCommitted>;

type InsertRow = [number, string, number, string, string, string, string, number];
type InsertRowUtf8 = [number, string, number, string, string, Uint8Array, Uint8Array, number];

export function prepareCommitGroup(db: Database.Database): CommitGroup {
  const selectHead = db.prepare<[], { head: number | null }>('SELECT max(position) AS head FROM events');
  const selectRevision = db.prepare<[string], { revision: number | null }>('SELECT max(revision) AS revision FROM events WHERE stream = ?');
  const insertEvent = db.prepare<InsertRow>(INSERT_EVENT);
  const insertIfNew = db.prepare<InsertRow>(INSERT_EVENT.replace('INSERT', 'INSERT OR IGNORE'));
  // The two inserts again, for events whose JSON came as UTF-8 bytes (see EncodedJson).
  const insertEventUtf8 = db.prepare<InsertRowUtf8>(INSERT_EVENT_UTF8);
  const insertIfNewUtf8 = db.prepare<InsertRowUtf8>(INSERT_EVENT_UTF8.replace('INSERT', 'INSERT OR IGNORE'));
  const upsertCheckpoint = db.prepare<[string, number]>(
    'INSERT INTO checkpoints (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position',
  );

  function appendInTransaction(write: GroupWrite): AppendOutcome[] {
    const { appends, checkpoint } = write;
    let position = selectHead.get()!.head ?? 0;
    const recordedAt = Date.now();
    // Plain loops: at one append per line of an ingest, this runs a million times a run.
    const outcomes: AppendOutcome[] = new Array(appends.length);
    for (let a = 0; a < appends.length; a++) {
      const { stream, events, expectedRevision } = appends[a]!;
      let revision: number;
      let next = 0;
      if (expectedRevision === 'no_stream' && events.length > 0) {
        // The common case when ingesting: let the unique (stream, revision) index answer
        // "is this stream new?" as part of the insert instead of asking first.
        const first = events[0]!;
        const { encoded } = encodeEvent(first);
        const inserted =
          'data' in encoded
            ? insertIfNew.run(position + 1, stream, 0, first.id, first.type, encoded.data, encoded.metadata, recordedAt)
            : insertIfNewUtf8.run(position + 1, stream, 0, first.id, first.type, encoded.dataUtf8, encoded.metadataUtf8, recordedAt);
        if (inserted.changes === 0) {
          outcomes[a] = { ok: false, actualRevision: selectRevision.get(stream)!.revision ?? 'no_stream' };
          continue;
        }
        position += 1;
        revision = 0;
        next = 1;
      } else {
        const current = selectRevision.get(stream)!.revision;
        if (!revisionMatches(expectedRevision, current)) {
          outcomes[a] = { ok: false, actualRevision: current ?? 'no_stream' };
          continue;
        }
        revision = current ?? -1;
      }
      for (; next < events.length; next++) {
        const event = events[next]!;
        revision += 1;
        position += 1;
        const { encoded } = encodeEvent(event);
        if ('data' in encoded) insertEvent.run(position, stream, revision, event.id, event.type, encoded.data, encoded.metadata, recordedAt);
        else insertEventUtf8.run(position, stream, revision, event.id, event.type, encoded.dataUtf8, encoded.metadataUtf8, recordedAt);
      }
      outcomes[a] = { ok: true, nextRevision: revision, position };
    }
    if (checkpoint && outcomes.every((o) => o.ok)) upsertCheckpoint.run(checkpoint.name, checkpoint.position);
    return outcomes;
  }

  // Made once: better-sqlite3's db.transaction() builds four wrapper functions at every call,
  // and a commit of every group of commands called it (measured: 0.5 % of the API thread).
  return db.transaction((writes: readonly GroupWrite[]) => {
    const after = selectHead.get()!.head ?? 0;
    let last = after;
    const results = writes.map(appendInTransaction);
    for (const outcomes of results) for (const outcome of outcomes) if (outcome.ok) last = Math.max(last, outcome.position);
    return { results, after, last };
  });
}

function revisionMatches(expected: ExpectedRevision, current: number | null): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return current === null;
  return current === expected;
}
