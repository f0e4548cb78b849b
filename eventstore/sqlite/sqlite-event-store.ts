import { EventEmitter } from 'node:events';
import type Database from 'better-sqlite3';
import type {
  AppendableEvent,
  AppendOutcome,
  Checkpoint,
  EncodedJson,
  EventFilter,
  EventMetadata,
  EventStore,
  ExpectedRevision,
  GlobalPosition,
  NewStreamEvents,
  NewStreamsAppender,
  ReadAllResult,
  RecordedEvent,
  StreamAppend,
  StreamGuard,
  Subscription,
  SubscriptionBatch,
} from '../port.js';
import { guardedAppendOutcome, type GuardRefusal } from '../guarded-append.js';
import { jsonCopy, NOT_COPIED } from '../json-copy.js';
import { isEncoded, passesFilter, StoreBusyError, UNREAD_METADATA, WrongExpectedRevisionError } from '../port.js';
import type { BackgroundCheckpointer } from './background-checkpointer.js';
import { eventsByStream, GatheredStreamReads } from '../stream-reads.js';
import { ChangeWatch } from './change-watch.js';
import { INSERT_EVENT, INSERT_EVENT_UTF8, openEventDatabase, type EventDatabase, type SqliteEventStoreOptions } from './event-database.js';

/**
 * The embedded event store: one SQLite file in WAL mode. Positions are the
 * rowids of an append-only table; writers are serialised by SQLite's write lock
 * (BEGIN IMMEDIATE), so positions become visible in order and several processes
 * can share one file.
 */
export class SqliteEventStore implements EventStore, NewStreamsAppender {
  private readonly db: Database.Database;
  private readonly appended = new EventEmitter();
  /** The followers at the head, polled together for other processes' commits (see ChangeWatch). */
  private readonly changes: ChangeWatch;
  private closed = false;
  /** A commit of events whose followers on this connection have not been woken yet (see wakeFollowers). */
  private followersBehind = false;
  private readonly checkpointer: BackgroundCheckpointer | null;
  private pendingWrites: PendingWrite[] = [];
  /**
   * The last group this connection committed: every event in (after, last] is one of its appends.
   * A follower that had read up to `after` learns from it, without asking SQLite, whether anything
   * there passes its filter (usually nothing: the processors append what no processor follows).
   */
  private lastCommit: { after: number; last: number; writes: readonly PendingWrite[] } | null = null;
  /**
   * The rows of this connection's last OWN_COMMITS_KEPT commits, each starting where the one before it
   * ended (newest last): a follower on this connection reads what it just wrote from here, not through
   * a statement (see readAllSync). Not only the last: when the booking manager's append commits apart
   * from the commands' (at low rates), it reads one commit behind its own.
   */
  private ownRows: OwnRows[] = [];
  /**
   * The filters of the subscriptions open on this connection: a kept row that one of them passes also
   * keeps its event's values, copied when it was written (see OwnRow), so that the follower does not
   * parse back the JSON just made of them.
   */
  private readonly followed = new Set<EventFilter>();

  /**
   * The metadata object last encoded in the commit under way, and its text: the events of one decision
   * share one (see EventMetadata), and its JSON is made once for all of them. Cleared at every commit's
   * start, so that an object changed between two commits is encoded afresh.
   */
  private encodedMetadata: { object: EventMetadata | null; text: string } = { object: null, text: '' };

  private readonly selectRevision: Database.Statement<[string], { revision: number | null }>;
  private readonly insertEvent: Database.Statement<[number, string, number, string, string, string, string, number]>;
  private readonly insertIfNew: Database.Statement<[number, string, number, string, string, string, string, number]>;
  /** The two inserts again, for events whose JSON came as UTF-8 bytes (see EncodedJson). */
  private readonly insertEventUtf8: Database.Statement<[number, string, number, string, string, Uint8Array, Uint8Array, number]>;
  private readonly insertIfNewUtf8: Database.Statement<[number, string, number, string, string, Uint8Array, Uint8Array, number]>;
  private readonly selectStream: Database.Statement<[string, number], RawEventRow>;
  private readonly selectStreamLimited: Database.Statement<[string, number, number], RawEventRow>;
  /**
   * Whole streams, up to STREAMS_PER_READ at a time (see streamReads): a statement for each count of streams,
   * made when first needed. One statement padded with NULLs to STREAMS_PER_READ paid for every NULL (bound,
   * then put in the IN list's ephemeral index): about 220,000 instructions for 16 missing streams against
   * 119,000 with exactly 16 (callgrind), and a booking manager's batch reads about as many as a commit has commands.
   */
  private readonly selectStreamsOf = new Map<number, Database.Statement<string[], RawEventRow>>();
  /**
   * Whole streams asked for in the same turn are read together, when its microtasks have run: a
   * processor loading the unseen streams of a batch (nearly all of them new, so empty) paid about 6 µs
   * a stream for the call, one read transaction each, and 0.4 µs a stream this way (measured, 20,000
   * missing streams). Nothing of this connection can commit in between: its commits run in a later
   * turn (setImmediate).
   */
  private readonly streamReads = new GatheredStreamReads({ readMany: (streams) => this.readStreamChunk(streams, new Map()), chunkSize: STREAMS_PER_READ, schedule: queueMicrotask });
  private readonly selectAfter: Database.Statement<[number, number, number], RawEventRow>;
  /** Per filter, a statement that leaves unwanted rows inside SQLite (see statementFor). */
  private readonly selectAfterByFilter = new Map<string, Database.Statement<unknown[], RawEventRow>>();
  private readonly selectHead: Database.Statement<[], { head: number | null }>;
  private readonly selectCheckpoint: Database.Statement<[string], { position: number }>;
  private readonly upsertCheckpoint: Database.Statement<[string, number]>;
  private readonly selectDataVersion: Database.Statement<[], { data_version: number }>;
  /**
   * Made once: better-sqlite3's db.transaction() builds four wrapper functions at every call,
   * and a commit of every group of commands called it (measured: 0.5 % of the API thread).
   */
  private readonly commitGroup: Database.Transaction<(writes: readonly PendingWrite[]) => CommittedGroup>;
  /** appendNewStreams' transaction and statements (see there). */
  private readonly commitNewStreams: Database.Transaction<(events: NewStreamEvents) => number[]>;
  private readonly insertNewStreams: Database.Statement<unknown[]>;
  private readonly insertNewStream: Database.Statement<unknown[]>;
  private readonly deleteAfter: Database.Statement<[number]>;

  static open(path: string, options: SqliteEventStoreOptions = {}): SqliteEventStore {
    return new SqliteEventStore(openEventDatabase(path, options), options);
  }

  private constructor({ db, checkpointer }: EventDatabase, options: SqliteEventStoreOptions) {
    this.db = db;
    this.checkpointer = checkpointer;
    this.appended.setMaxListeners(0);
    this.selectRevision = db.prepare('SELECT max(revision) AS revision FROM events WHERE stream = ?');
    this.insertEvent = db.prepare(INSERT_EVENT);
    this.insertIfNew = db.prepare(`${INSERT_EVENT} ${IF_NEW_STREAM}`);
    this.insertEventUtf8 = db.prepare(INSERT_EVENT_UTF8);
    this.insertIfNewUtf8 = db.prepare(`${INSERT_EVENT_UTF8} ${IF_NEW_STREAM}`);
    // A bound LIMIT triples the cost of a stream lookup (measured: 14 µs against 4.5 µs for a missing
    // stream), and processors load a stream for every trade they have not cached: only a read that
    // asks for a maximum count pays for it.
    this.selectStream = selectEvents(db, 'WHERE stream = ? AND revision >= ? ORDER BY revision');
    this.selectStreamLimited = selectEvents(db, 'WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?');
    this.selectAfter = selectEvents(db, 'WHERE position > ? AND position <= ? ORDER BY position LIMIT ?');
    this.selectHead = db.prepare('SELECT max(position) AS head FROM events');
    this.selectCheckpoint = db.prepare('SELECT position FROM checkpoints WHERE name = ?');
    this.upsertCheckpoint = db.prepare(
      'INSERT INTO checkpoints (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position',
    );
    this.selectDataVersion = db.prepare('PRAGMA data_version');
    this.changes = new ChangeWatch({ dataVersion: () => this.selectDataVersion.get()!.data_version, head: () => this.selectHead.get()!.head ?? 0 }, options.pollIntervalMs ?? 10);
    this.commitGroup = db.transaction((writes: readonly PendingWrite[]) => {
      // The head is read once a commit: under the write lock nothing but this transaction moves it,
      // so each write goes on from where the one before it ended (it was read again for every write).
      const after = this.selectHead.get()!.head ?? 0;
      const recordedAt = Date.now();
      this.encodedMetadata.object = null;
      let last = after;
      const results: AppendOutcome[][] = new Array(writes.length);
      // A catch-up's commit (thousands of events) is read back through statements: its rows are not collected.
      const rows: OwnRow[] | null = fewerEventsThan(writes, OWN_ROWS_MAX + 1) ? [] : null;
      for (let w = 0; w < writes.length; w++) {
        const write = writes[w]!;
        // Inside the write lock, after the writes before it in the group: no append can come between this check and the commit.
        const refused = write.guard === undefined ? null : this.guardRefusal(write.guard);
        if (refused !== null) {
          results[w] = [refused];
          continue;
        }
        const { outcomes, head } = this.appendInTransaction(write.appends, write.checkpoint, last, recordedAt, rows);
        results[w] = outcomes;
        last = head;
      }
      // Every row in (after, last] is one of this group's, in order, unless one came as UTF-8 bytes (not kept).
      return { results, after, last, rows: rows !== null && rows.length === last - after ? rows : null };
    });
    this.insertNewStreams = db.prepare(`${INSERT_NEW_STREAM} ${new Array(NEW_STREAMS_PER_INSERT).fill(NEW_STREAM_ROW).join(', ')} ${IF_NEW_STREAM}`);
    this.insertNewStream = db.prepare(`${INSERT_NEW_STREAM} ${NEW_STREAM_ROW} ${IF_NEW_STREAM}`);
    this.deleteAfter = db.prepare('DELETE FROM events WHERE position > ?');
    this.commitNewStreams = db.transaction((events: NewStreamEvents) => this.newStreamsInTransaction(events));
  }

  async append(stream: string, events: readonly AppendableEvent[], expectedRevision: ExpectedRevision) {
    const [outcome] = await this.appendMany([{ stream, events, expectedRevision }]);
    if (!outcome!.ok) throw new WrongExpectedRevisionError(stream, expectedRevision, outcome!.actualRevision);
    return outcome!;
  }

  /** A write of its own in the group commit, its guard checked in the group's transaction (see commitGroup). */
  async appendGuarded(stream: string, events: readonly AppendableEvent[], expectedRevision: ExpectedRevision, guard: StreamGuard) {
    const [outcome] = await this.write([{ stream, events, expectedRevision }], undefined, guard);
    return guardedAppendOutcome(outcome!, stream, expectedRevision, guard);
  }

  /** Why a guarded write may not go on (its guard stream moved), or null when it may. */
  private guardRefusal(guard: StreamGuard): GuardRefusal | null {
    const held = this.selectRevision.get(guard.stream)!.revision;
    return revisionMatches(guard.revision, held) ? null : { ok: false, actualRevision: held ?? 'no_stream', guardRefused: true };
  }

  /**
   * Appends that arrive in the same turn of the event loop are written in one
   * transaction: one fsync for all of them (group commit), so concurrent commands
   * do not each pay for a disk flush, and every one is durable when it resolves.
   */
  appendMany(appends: readonly StreamAppend[], options: { checkpoint?: Checkpoint } = {}): Promise<AppendOutcome[]> {
    return this.write(appends, options.checkpoint, undefined);
  }

  private write(appends: readonly StreamAppend[], checkpoint: Checkpoint | undefined, guard: StreamGuard | undefined): Promise<AppendOutcome[]> {
    return new Promise((resolve, reject) => {
      this.pendingWrites.push({ appends, checkpoint, guard, resolve, reject });
      if (this.pendingWrites.length === 1) {
        setImmediate(() => this.commitPendingWrites());
        // Queued with the commit, so it runs in the same turn of the loop once the commit's callers
        // have had their microtasks: the followers decide after the answers are written, not before.
        setImmediate(() => this.wakeFollowers());
      }
    });
  }

  commitQueued(): boolean {
    return this.pendingWrites.length > 0;
  }

  private commitPendingWrites(): void {
    const writes = this.pendingWrites;
    this.pendingWrites = [];
    if (this.closed) {
      for (const write of writes) write.reject(new Error('event store closed'));
      return;
    }
    let commit: CommittedGroup;
    try {
      commit = this.commitGroup.immediate(writes);
    } catch (error) {
      this.lastCommit = null;
      this.forgetOwnRows();
      const failure = (error as { code?: string }).code === 'SQLITE_BUSY' ? new StoreBusyError({ cause: error }) : error;
      for (const write of writes) write.reject(failure);
      return;
    }
    const { results, after, last, rows } = commit;
    // A commit of checkpoints alone leaves the last one with events as it was: still exactly (after, last].
    if (last > after) {
      this.lastCommit = { after, last, writes };
      this.keepOwnRows(after, last, rows);
      this.followersBehind = true;
    }
    writes.forEach((write, i) => write.resolve(results[i]!));
  }

  /**
   * The values a follower on this connection will decode from this row, copied now, as they were
   * encoded: what the writer does with its objects after the append cannot reach the follower. Only
   * for a row some subscription here passes (in `serve`, the commands' events the booking manager
   * reacts to; not its own appends, which nothing here follows); null when its values are not plain
   * JSON values (see jsonCopy): then the follower decodes the text.
   */
  private valuesFor(stream: string, event: AppendableEvent): EventValues | null {
    if (this.followed.size === 0 || isEncoded(event)) return null;
    let wanted = false;
    for (const filter of this.followed) {
      if (passesFilter(filter, { type: event.type, stream })) {
        wanted = true;
        break;
      }
    }
    if (!wanted) return null;
    try {
      const data = jsonCopy(event.data === undefined ? null : event.data);
      if (data === NOT_COPIED) return null;
      const metadata = jsonCopy(event.metadata);
      return metadata === NOT_COPIED ? null : { data, metadata: metadata as RecordedEvent['metadata'] };
    } catch {
      // A getter that threw the second time it was read (JSON.stringify read it first): the text is there.
      return null;
    }
  }

  private keepOwnRows(after: number, last: number, rows: readonly OwnRow[] | null): void {
    if (rows === null || this.ownRows.at(-1)?.last !== after) this.forgetOwnRows();
    if (rows === null) return;
    this.ownRows.push({ after, last, rows });
    if (this.ownRows.length > OWN_COMMITS_KEPT) this.ownRows.shift();
  }

  private forgetOwnRows(): void {
    this.ownRows = [];
  }

  /**
   * The followers on this connection (in `serve`, the processors, on the API's thread) hear of a commit
   * only after its callers: woken inside the commit, their read and decisions ran in the microtasks
   * ahead of the commands' answers (measured at 16 connections: the booking manager's batch, 0.5 ms at
   * the median and 14 ms at the 99th percentile of its batches, before a commit's responses went out).
   * Woken in a turn of their own before the next commit, they held the next commit back instead.
   * Here they decide while the clients turn around, and their appends join the next commit.
   */
  private wakeFollowers(): void {
    if (!this.followersBehind) return;
    this.followersBehind = false;
    this.appended.emit('append');
  }

  /**
   * One write's appends at `head`, the store's last position; the outcomes, and the head after them.
   * Each row inserted from JSON text is also pushed on `rows` when given, as a read would give it back.
   */
  private appendInTransaction(
    appends: readonly StreamAppend[],
    checkpoint: Checkpoint | undefined,
    head: number,
    recordedAt: number,
    rows: OwnRow[] | null,
  ): { outcomes: AppendOutcome[]; head: number } {
    let position = head;
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
        const encoded = this.jsonOf(first);
        const inserted =
          'data' in encoded
            ? this.insertIfNew.run(position + 1, stream, 0, first.id, first.type, encoded.data, encoded.metadata, recordedAt)
            : this.insertIfNewUtf8.run(position + 1, stream, 0, first.id, first.type, encoded.dataUtf8, encoded.metadataUtf8, recordedAt);
        if (inserted.changes === 0) {
          outcomes[a] = { ok: false, actualRevision: this.selectRevision.get(stream)!.revision ?? 'no_stream' };
          continue;
        }
        position += 1;
        if (rows !== null && 'data' in encoded) rows.push([position, stream, 0, first.id, first.type, encoded.data, encoded.metadata, recordedAt, this.valuesFor(stream, first)]);
        revision = 0;
        next = 1;
      } else {
        const current = this.selectRevision.get(stream)!.revision;
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
        const encoded = this.jsonOf(event);
        if ('data' in encoded) {
          this.insertEvent.run(position, stream, revision, event.id, event.type, encoded.data, encoded.metadata, recordedAt);
          if (rows !== null) rows.push([position, stream, revision, event.id, event.type, encoded.data, encoded.metadata, recordedAt, this.valuesFor(stream, event)]);
        } else this.insertEventUtf8.run(position, stream, revision, event.id, event.type, encoded.dataUtf8, encoded.metadataUtf8, recordedAt);
      }
      outcomes[a] = { ok: true, nextRevision: revision, position };
    }
    if (checkpoint && outcomes.every((o) => o.ok)) {
      this.upsertCheckpoint.run(checkpoint.name, checkpoint.position);
    }
    return { outcomes, head: position };
  }

  /**
   * An event's JSON as it is inserted: its own when it came encoded; else its data's, and its metadata's
   * made once for a run of events carrying the very same metadata object (a processor's decision of
   * several events). Without encodeEvent's two wrapper objects an event.
   */
  private jsonOf(event: AppendableEvent): EncodedJson {
    if (isEncoded(event)) return event.encoded;
    const data = JSON.stringify(event.data === undefined ? null : event.data);
    const memo = this.encodedMetadata;
    if (event.metadata !== memo.object) {
      // The text first: a metadata that fails to encode leaves no object behind it.
      memo.text = JSON.stringify(event.metadata);
      memo.object = event.metadata;
    }
    return { data, metadata: memo.text };
  }

  /**
   * Bulk intake, apart from the group commit: one transaction of its own, run at once. The
   * events go in NEW_STREAMS_PER_INSERT to a statement, each row taking the next position
   * (the table's rowid) unless its stream is there (IF_NEW_STREAM): against a
   * statement per event, about a tenth fewer instructions per event (the statement's own
   * steps and better-sqlite3's call and answer, paid once for many). A statement that
   * inserted fewer rows than it had (a file ingested again) is undone and its rows inserted
   * one by one, to learn which were refused.
   */
  appendNewStreams(events: NewStreamEvents): Promise<number[]> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error('event store closed'));
      let refused: number[];
      try {
        refused = this.commitNewStreams.immediate(events);
      } catch (error) {
        return reject((error as { code?: string }).code === 'SQLITE_BUSY' ? new StoreBusyError({ cause: error }) : error);
      }
      if (refused.length < events.count) {
        this.followersBehind = true;
        setImmediate(() => this.wakeFollowers());
      }
      resolve(refused);
    });
  }

  private newStreamsInTransaction({ count, keys, utf8, dataBytes, metadataBytes }: NewStreamEvents): number[] {
    if (keys.length < 3 * count || dataBytes.length < count || metadataBytes.length < count) throw new Error(`appendNewStreams: columns shorter than ${count} events`);
    const refused: number[] = [];
    const recordedAt = Date.now();
    let head = this.selectHead.get()!.head ?? 0;
    const full = new Array<unknown>(NEW_STREAM_PARAMETERS * NEW_STREAMS_PER_INSERT);
    const one = new Array<unknown>(NEW_STREAM_PARAMETERS);
    let event = 0;
    // Where the statement being filled begins, and its parameters.
    let first = 0;
    let parameters = count >= NEW_STREAMS_PER_INSERT ? full : one;
    let k = 0;
    for (const { bytes, events: inChunk } of utf8) {
      const { buffer } = bytes;
      let offset = bytes.byteOffset;
      for (const end = event + inChunk; event < end; event++) {
        const data = dataBytes[event]!;
        const metadata = metadataBytes[event]!;
        parameters[k] = keys[3 * event];
        parameters[k + 1] = keys[3 * event + 1];
        parameters[k + 2] = keys[3 * event + 2];
        parameters[k + 3] = new Uint8Array(buffer, offset, data);
        parameters[k + 4] = new Uint8Array(buffer, offset + data, metadata);
        parameters[k + 5] = recordedAt;
        offset += data + metadata;
        k += NEW_STREAM_PARAMETERS;
        if (k < parameters.length) continue;
        if (parameters === full) {
          const { changes } = this.insertNewStreams.run(full);
          if (changes === NEW_STREAMS_PER_INSERT) head += changes;
          else {
            // Some stream was there already: which one is learnt row by row.
            if (changes > 0) this.deleteAfter.run(head);
            for (let row = 0; row < NEW_STREAMS_PER_INSERT; row++) {
              for (let p = 0; p < NEW_STREAM_PARAMETERS; p++) one[p] = full[NEW_STREAM_PARAMETERS * row + p];
              if (this.insertNewStream.run(one).changes === 1) head += 1;
              else refused.push(first + row);
            }
          }
        } else if (this.insertNewStream.run(one).changes === 1) head += 1;
        else refused.push(first);
        first = event + 1;
        k = 0;
        parameters = count - first >= NEW_STREAMS_PER_INSERT ? full : one;
      }
    }
    if (event !== count) throw new Error(`appendNewStreams: JSON for ${event} of ${count} events`);
    return refused;
  }

  async readStream(stream: string, options: { fromRevision?: number; maxCount?: number } = {}): Promise<RecordedEvent[]> {
    if (options.fromRevision === undefined && options.maxCount === undefined) return this.streamReads.read(stream);
    const from = options.fromRevision ?? 0;
    const rows = options.maxCount === undefined ? this.selectStream.all(stream, from) : this.selectStreamLimited.all(stream, from, options.maxCount);
    return rows.map(toRecordedEvent);
  }

  /**
   * Whole streams, STREAMS_PER_READ to a statement, as streamReads gathers them, without a promise a
   * stream: a processor's catch-up loads thousands of streams a batch (the trade processor a new trade's,
   * nearly all empty), and their promises, resolutions and reactions cost more than their statements.
   */
  async readStreams(streams: readonly string[]): Promise<Map<string, RecordedEvent[]>> {
    const distinct = [...new Set(streams)];
    const byStream = new Map<string, RecordedEvent[]>();
    for (let i = 0; i < distinct.length; i += STREAMS_PER_READ) this.readStreamChunk(distinct.slice(i, i + STREAMS_PER_READ), byStream);
    return byStream;
  }

  /** Up to STREAMS_PER_READ distinct whole streams in one statement, added to `byStream` (see streamReads). */
  private readStreamChunk(streams: string[], byStream: Map<string, RecordedEvent[]>): Map<string, RecordedEvent[]> {
    if (streams.length === 1) {
      const events = this.selectStream.all(streams[0]!, 0).map(toRecordedEvent);
      if (events.length > 0) byStream.set(streams[0]!, events);
      return byStream;
    }
    return eventsByStream(this.selectStreamsFor(streams.length).all(...streams), (row) => row[1], toRecordedEvent, byStream);
  }

  private selectStreamsFor(count: number): Database.Statement<string[], RawEventRow> {
    let statement = this.selectStreamsOf.get(count);
    if (statement === undefined) {
      statement = selectEvents<string[]>(this.db, `WHERE stream IN (${new Array(count).fill('?').join(', ')}) ORDER BY stream, revision`);
      this.selectStreamsOf.set(count, statement);
    }
    return statement;
  }

  async readAll(after: GlobalPosition, options: { maxCount?: number; filter?: EventFilter } = {}): Promise<ReadAllResult> {
    return this.readAllSync(after, options.maxCount ?? 1000, options.filter);
  }

  private readAllSync(after: GlobalPosition, maxCount: number, filter?: EventFilter): ReadAllResult {
    // The head first, then the rows up to it: everything at or below a head once seen is committed
    // (positions are taken under the write lock, in order), so a short page has looked at every event
    // up to that head, as one read transaction over both would say, without the BEGIN and COMMIT a
    // transaction costs every follower at every wake-up (measured: an eighth of this function's time,
    // with the wrapper functions better-sqlite3 builds at every db.transaction() call).
    const head = this.selectHead.get()!.head ?? 0;
    if (head <= after) return { events: [], scannedTo: head, endOfStore: true };
    const types = filter?.eventTypes;
    const prefixes = filter?.streamPrefixes;
    const withoutData = filter?.withoutData !== undefined && filter.withoutData.length > 0 ? filter.withoutData : undefined;
    const withoutMetadata = filter?.withoutMetadata !== undefined && filter.withoutMetadata.length > 0 ? filter.withoutMetadata : undefined;
    // Everything after `after` is of this connection's last commits: their rows are at hand, as the statement would give them.
    const page = this.ownRows.length > 0 && this.ownRows.at(-1)!.last === head && this.ownRows[0]!.after <= after ? pageOfOwnRows(this.ownRows, after, maxCount, head, filter) : null;
    if (page !== null) return page;
    const own = this.lastCommit;
    // What this connection's last commit appended right after `after`, none of which passes, is not read again.
    const from = own !== null && own.after === after && own.last <= head && (types || prefixes) && !own.writes.some((write) => write.appends.some((a) => passes(filter!, a))) ? own.last : after;
    if (head <= from) return { events: [], scannedTo: head, endOfStore: true };
    const statement = types || prefixes || withoutData || withoutMetadata ? this.statementFor(types, prefixes, withoutData, withoutMetadata) : this.selectAfter;
    const filterParameters = types || prefixes ? [...(types ?? []), ...prefixParameters(prefixes)] : [];
    // In chunks, each decoded before the next is read (see READ_CHUNK); a page no larger than a chunk in one.
    const events: RecordedEvent[] = [];
    let last = from;
    for (let wanted = Math.min(READ_CHUNK, maxCount); ; wanted = Math.min(READ_CHUNK, maxCount - events.length)) {
      const rows = statement.all(last, head, ...filterParameters, wanted);
      for (let r = 0; r < rows.length; r++) events.push(toRecordedEvent(rows[r]!));
      if (rows.length > 0) last = rows[rows.length - 1]![POSITION];
      if (rows.length < wanted || events.length === maxCount) break;
    }
    const full = events.length === maxCount;
    return {
      events,
      // A full page ends at its last row; a short page means everything up to the head was looked at.
      scannedTo: full ? last : head,
      endOfStore: !full,
    };
  }

  /**
   * Per filter, a statement that leaves unwanted rows inside SQLite: a follower of a few streams
   * (the feed projection follows the feed streams, about a third of the store) no longer turns
   * every row of the store into a JavaScript object only to drop most of them. The data of the types
   * the filter says are read `withoutData` stays inside SQLite too (NULL in its place): the received
   * records, two fifths of what the projections read and half its JSON, are counted by the feed
   * projection from their stream alone, and their text was copied out of SQLite and parsed for nothing.
   * So does the metadata of the types read `withoutMetadata` (the received records' again: 8.9 of the
   * 28 MB of JSON the projections thread parsed at 20,000 trades, for a projection that reads none of it).
   */
  private statementFor(
    types: readonly string[] | undefined,
    prefixes: readonly string[] | undefined,
    withoutData: readonly string[] | undefined,
    withoutMetadata: readonly string[] | undefined,
  ): Database.Statement<unknown[], RawEventRow> {
    const key = [types, prefixes, withoutData, withoutMetadata].map((list) => (list ?? []).join('\u0000')).join('\u0001');
    let statement = this.selectAfterByFilter.get(key);
    if (!statement) {
      const conditions = ['position > ? AND position <= ?'];
      if (types) conditions.push(`type IN (${types.map(() => '?').join(', ')})`);
      // substr and length count the same characters on both sides, whatever the text holds.
      if (prefixes) conditions.push(`(${prefixes.map(() => 'substr(stream, 1, length(?)) = ?').join(' OR ') || 'false'})`);
      // The types as literals: the statement is made once per filter, and its parameters keep their order.
      const data = withoutData ? `CASE WHEN type IN (${withoutData.map(sqlText).join(', ')}) THEN NULL ELSE data END` : 'data';
      const metadata = withoutMetadata ? `CASE WHEN type IN (${withoutMetadata.map(sqlText).join(', ')}) THEN NULL ELSE metadata END` : 'metadata';
      statement = selectEvents(this.db, `WHERE ${conditions.join(' AND ')} ORDER BY position LIMIT ?`, data, metadata);
      this.selectAfterByFilter.set(key, statement);
    }
    return statement;
  }

  async headPosition(): Promise<GlobalPosition> {
    return this.selectHead.get()!.head ?? 0;
  }

  subscribe(after: GlobalPosition, options: { filter?: EventFilter; batchSize?: number } = {}): Subscription {
    const batchSize = options.batchSize ?? 1000;
    let stopped = false;
    let wake: (() => void) | null = null;
    const onAppend = () => wake?.();
    this.appended.on('append', onAppend);
    // A filter object of its own, so that two subscriptions with the same filter are counted apart.
    const followed: EventFilter = { ...options.filter };
    this.followed.add(followed);
    const self = this;

    async function* batches(): AsyncGenerator<SubscriptionBatch> {
      let position = after;
      let announcedCaughtUp = false;
      try {
        while (!stopped && !self.closed) {
          const result = self.readAllSync(position, batchSize, options.filter);
          const moved = result.scannedTo > position;
          position = Math.max(position, result.scannedTo);
          if (moved || (result.endOfStore && !announcedCaughtUp)) {
            announcedCaughtUp = result.endOfStore;
            yield { events: result.events, scannedTo: position, caughtUp: result.endOfStore };
          }
          if (result.endOfStore) await self.waitForChange(position, () => stopped, (fn) => (wake = fn));
        }
      } finally {
        self.appended.off('append', onAppend);
        self.followed.delete(followed);
      }
    }

    const iterator = batches();
    return {
      [Symbol.asyncIterator]: () => iterator,
      close: async () => {
        stopped = true;
        // Also here: a generator closed before its first batch never runs its finally.
        this.followed.delete(followed);
        wake?.();
        await iterator.return(undefined);
      },
    };
  }

  /** Resolves when this process appends, another process commits, or the subscription stops. */
  private waitForChange(position: number, isStopped: () => boolean, setWake: (fn: (() => void) | null) => void): Promise<void> {
    const { changed, wake } = this.changes.wait(position, () => isStopped() || this.closed);
    setWake(wake);
    return changed.then(() => setWake(null));
  }

  async readCheckpoint(name: string): Promise<GlobalPosition | null> {
    return this.selectCheckpoint.get(name)?.position ?? null;
  }

  async writeCheckpoint(checkpoint: Checkpoint): Promise<void> {
    // Through the write queue, so it shares a commit with whatever else is being written.
    await this.appendMany([], { checkpoint });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.appended.emit('append');
    this.changes.releaseAll();
    await this.checkpointer?.stop();
    this.db.close();
  }
}

/**
 * How many whole streams one statement reads. Measured against one statement per stream (20,000
 * streams each): 100 at a time took 0.4 against 6.5 µs a missing stream, 3 against 11 µs a trade
 * stream (one or two events), 10–12 against 19–25 µs a booking stream (about six); 5,000 at a time
 * was slower than one by one for the bookings (one result of 28,000 rows).
 */
const STREAMS_PER_READ = 100;

/**
 * Rows a page of readAll takes from SQLite per statement, each chunk decoded before the next is
 * read. Read whole, a page of 5,000 rows held every row's text (about 700 bytes of JSON) until the
 * last was decoded, and the young generation was often collected in between: the text was copied,
 * to die just after (projections' catch-up of 20,000 trades, `--trace-gc-nvp`: 275 MB survived
 * scavenges and 198 MB promoted read whole; 207–222 MB and 173–177 MB in chunks of 200–1,000). A
 * chunk starts after the last row of the one before and stops at the same head, so the page is
 * the rows one statement would have given.
 */
const READ_CHUNK = 500;

/**
 * An insert at revision 0 skips the row whose stream is there already, and nothing else. OR IGNORE
 * would also skip a row breaking NOT NULL (a value bound as undefined), which the caller would then
 * take for a stream that exists: a line reported as a duplicate and never stored.
 */
const IF_NEW_STREAM = 'ON CONFLICT (stream, revision) DO NOTHING';

/**
 * Rows per multi-row insert of appendNewStreams. Per event, main thread, instructions (callgrind, 50,000
 * events of the bench's feed): a statement per event 24,500; 100 to a statement 22,200.
 */
const NEW_STREAMS_PER_INSERT = 100;
const INSERT_NEW_STREAM = 'INSERT INTO events (stream, revision, id, type, data, metadata, recorded_at) VALUES';
/** A row of it: data and metadata bound as UTF-8 bytes and stored as text, as INSERT_EVENT_UTF8 does. */
const NEW_STREAM_ROW = '(?, 0, ?, ?, CAST(? AS TEXT), CAST(? AS TEXT), ?)';
const NEW_STREAM_PARAMETERS = 6;

/** The rows of one of this connection's commits: every event in (after, last], in order. */
interface OwnRows {
  after: number;
  last: number;
  rows: readonly OwnRow[];
}

/**
 * A kept row: the row a read would give back, and the event's values as its JSON would decode them
 * (jsonCopy), or null. The values are handed to the first follower that takes the row and then
 * dropped: a second reader of the row decodes its text, and no two followers share an object.
 */
type OwnRow = [...row: RawEventRow, values: EventValues | null];

interface EventValues {
  data: unknown;
  metadata: RecordedEvent['metadata'];
}

/**
 * How many of its last commits a connection keeps the rows of, for its followers: enough for one a
 * commit or two behind. Few: rows kept longer outlive V8's young generation and are copied into the
 * old one (measured with a page of 5,000 rows kept: a major collection in every callgrind window,
 * which cost more than the reads saved).
 */
const OWN_COMMITS_KEPT = 3;

/**
 * The most rows of one commit kept for the followers: a group of commands and the processors'
 * reaction to them (tens of rows). A catch-up's commits (a processor's batch of thousands of events)
 * are read back through statements as before: kept, their strings would outlive the young generation.
 */
const OWN_ROWS_MAX = 1000;

/** Whether the group's writes carry fewer than `limit` events, counted only as far as it takes. */
function fewerEventsThan(writes: readonly PendingWrite[], limit: number): boolean {
  let events = 0;
  for (const write of writes) {
    for (const append of write.appends) {
      events += append.events.length;
      if (events >= limit) return false;
    }
  }
  return true;
}

/** What a group's transaction did: each write's outcomes, the head before and after it, and its rows (see lastCommit). */
interface CommittedGroup {
  results: AppendOutcome[][];
  after: number;
  last: number;
  rows: OwnRow[] | null;
}

interface PendingWrite {
  appends: readonly StreamAppend[];
  checkpoint: Checkpoint | undefined;
  /** appendGuarded's condition: the write's one append is refused, whole, when its guard stream moved. */
  guard: StreamGuard | undefined;
  resolve: (outcomes: AppendOutcome[]) => void;
  reject: (error: unknown) => void;
}

function revisionMatches(expected: ExpectedRevision, current: number | null): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return current === null;
  return current === expected;
}

/** Whether any event of an append passes the filter, as the filtered statement would judge it (an append that failed counts too). */
function passes(filter: EventFilter, append: StreamAppend): boolean {
  const { eventTypes, streamPrefixes } = filter;
  if (streamPrefixes && !streamPrefixes.some((prefix) => append.stream.startsWith(prefix))) return false;
  return eventTypes === undefined || append.events.some((event) => eventTypes.includes(event.type));
}

/** Each prefix twice: once for its length, once to compare with. */
function prefixParameters(prefixes: readonly string[] | undefined): string[] {
  return prefixes ? prefixes.flatMap((prefix) => [prefix, prefix]) : [];
}

/**
 * A row as better-sqlite3's raw mode gives it: the columns in this order, in an array. Every follower
 * reads every row it wants through here, and an array costs less to build than an object with eight
 * named properties (measured: readAll of 219,920 events, decoded, took a quarter less CPU).
 */
/** data and metadata NULL where the filter read them without (EventFilter.withoutData, withoutMetadata). */
type RawEventRow = [position: number, stream: string, revision: number, id: string, type: string, data: string | null, metadata: string | null, recordedAt: number];
const POSITION = 0;
/** A UTF-16 surrogate not in a pair: what SQLite cannot store as it is (the JSON columns escape theirs). */
const LONE_SURROGATE = /\p{Surrogate}/u;
const STREAM = 1;
const ID = 3;
const TYPE = 4;
const VALUES = 8;

function selectEvents<P extends unknown[]>(db: Database.Database, rest: string, data = 'data', metadata = 'metadata'): Database.Statement<P, RawEventRow> {
  return db.prepare<P, RawEventRow>(`SELECT position, stream, revision, id, type, ${data}, ${metadata}, recorded_at FROM events ${rest}`).raw() as unknown as Database.Statement<P, RawEventRow>;
}

/** A string as an SQL literal. */
function sqlText(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * The page readAllSync's statement would give over `commits`, every row of the store from the first's
 * start to `head`: those after `after` that pass the filter, up to maxCount, decoded the same way. A row
 * whose stream, id or type is not well-formed UTF-16 makes it null (read from SQLite instead): SQLite
 * stores it converted, so a read would not give back the string that was appended (data and metadata
 * are JSON, whose encoder escapes a lone surrogate).
 */
function pageOfOwnRows(commits: readonly OwnRows[], after: number, maxCount: number, head: number, filter: EventFilter | undefined): ReadAllResult | null {
  const types = filter?.eventTypes;
  const prefixes = filter?.streamPrefixes;
  const withoutData = filter?.withoutData;
  const withoutMetadata = filter?.withoutMetadata;
  const events: RecordedEvent[] = [];
  let last = after;
  for (let c = 0; c < commits.length && events.length < maxCount; c++) {
    const { after: start, last: end, rows } = commits[c]!;
    if (end <= after) continue;
    // Positions are contiguous within a commit: the first row after `after` is found by subtraction.
    for (let r = Math.max(0, after - start); r < rows.length && events.length < maxCount; r++) {
      const row = rows[r]!;
      if (types !== undefined && !types.includes(row[TYPE])) continue;
      if (prefixes !== undefined && !prefixes.some((prefix) => row[STREAM].startsWith(prefix))) continue;
      if (LONE_SURROGATE.test(row[STREAM]) || LONE_SURROGATE.test(row[ID]) || LONE_SURROGATE.test(row[TYPE])) return null;
      const values = row[VALUES];
      const noData = withoutData !== undefined && withoutData.includes(row[TYPE]);
      const noMetadata = withoutMetadata !== undefined && withoutMetadata.includes(row[TYPE]);
      if (values === null) events.push(eventOf(row, noData, noMetadata));
      else {
        row[VALUES] = null;
        events.push(ownEventOf(row, values, noData, noMetadata));
      }
      last = row[POSITION];
    }
  }
  const full = events.length === maxCount;
  return { events, scannedTo: full ? last : head, endOfStore: !full };
}

/** A kept row's event from its copied values: the fields in eventOf's order, the same values. */
function ownEventOf(row: OwnRow, values: EventValues, withoutData: boolean, withoutMetadata: boolean): RecordedEvent {
  return {
    id: row[ID],
    type: row[TYPE],
    data: withoutData ? null : values.data,
    // As read through SQL: the same event whichever way a follower's page came.
    metadata: withoutMetadata ? UNREAD_METADATA : values.metadata,
    stream: row[1],
    revision: row[2],
    position: row[0],
    recordedAt: recordedAtOf(row[7]),
  };
}

/**
 * The Date of the last recorded_at read, handed again to every event read after it with the same
 * value. A commit stamps all its rows with one Date.now() (commitGroup, appendNewStreams), so a page
 * is runs of hundreds or thousands of rows with one value: `new Date(ms)` is a call into V8's C++
 * DateConstructor (about 1,900 instructions an event in a processors' catch-up, callgrind), and each
 * Date was garbage to collect. Events of one commit therefore share one Date, which nobody changes:
 * RecordedEvent.recordedAt is read only (see there).
 */
let lastRecordedMs = Number.NaN;
let lastRecordedAt = new Date(Number.NaN);

function recordedAtOf(ms: number): Date {
  if (ms !== lastRecordedMs) {
    lastRecordedAt = new Date(ms);
    lastRecordedMs = ms;
  }
  return lastRecordedAt;
}

/**
 * A row's event; its data null when the row was read without it (EventFilter.withoutData: NULL there),
 * its metadata UNREAD_METADATA (EventFilter.withoutMetadata: NULL there too; a stored event's metadata
 * is never NULL, the column being NOT NULL).
 */
function toRecordedEvent(row: RawEventRow): RecordedEvent {
  return eventOf(row, false, false);
}

/** `withoutData`, `withoutMetadata`: the follower does not read them (EventFilter), so they are not decoded. */
function eventOf(row: RawEventRow | OwnRow, withoutData: boolean, withoutMetadata: boolean): RecordedEvent {
  const data = row[5];
  const metadata = row[6];
  return {
    id: row[ID],
    type: row[TYPE],
    data: withoutData || data === null ? null : (JSON.parse(data) as unknown),
    metadata: withoutMetadata || metadata === null ? UNREAD_METADATA : (JSON.parse(metadata) as RecordedEvent['metadata']),
    stream: row[1],
    revision: row[2],
    position: row[0],
    recordedAt: recordedAtOf(row[7]),
  };
}
