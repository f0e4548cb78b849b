// The EventStore port on PostgreSQL. Writes go through kepler_append (schema.ts),
// one call and one transaction per group of appends; reads are plain queries
// on the position and (stream, revision) indexes.
import pg from 'pg';
import { backoffDelay, sleep, type BackoffOptions } from '../backoff.js';
import type {
  AppendableEvent,
  AppendOutcome,
  Checkpoint,
  EventFilter,
  EventStore,
  ExpectedRevision,
  GlobalPosition,
  ReadAllResult,
  RecordedEvent,
  StreamAppend,
  StreamGuard,
  Subscription,
} from '../port.js';
import { guardedAppendOutcome, type GuardRefusal } from '../guarded-append.js';
import { WrongExpectedRevisionError } from '../port.js';
import { eventsByStream, GatheredStreamReads } from '../stream-reads.js';
import { creatingDatabase, isTransient, poolConfig, redactUrl, toStoreError, type PostgresOptions, type ResolvedPostgresOptions } from './connection.js';
import { sqlColumns, sqlFilter } from './filters.js';
import { appendParameters, EVENT_COLUMNS, toExpected, toNumber, toOutcome, toRecordedEvent, type EventRow, type OutcomeRow, type Write } from './mapping.js';
import { Notifier } from './notifications.js';
import { EVENT_STORE_MIGRATIONS, migrate, pendingMigrations, type MigrationReport } from './schema.js';
import { PostgresSubscription } from './subscription.js';

export interface PostgresEventStoreOptions extends PostgresOptions {
  /** Apply pending migrations when opening (`kepler migrate` does it otherwise). Default true. */
  migrate?: boolean;
  /** Longest a live subscription waits without a notification before it looks anyway. Default 1 s. */
  pollIntervalMs?: number;
  /** Attempts for reads on transient errors. Default 3. */
  readAttempts?: number;
  /** Backoff of reads, subscriptions and the LISTEN connection. Default 100 ms doubling to 5 s. */
  reconnect?: Partial<BackoffOptions>;
  /** Hears every transient error a subscription or the listener retries after. */
  onConnectionError?: (error: unknown, attempt: number, what: 'subscription' | 'listener') => void;
}

const DEFAULT_BATCH = 1000;

type PendingWrite = Write & { guard: StreamGuard | undefined; resolve: (outcomes: AppendOutcome[]) => void; reject: (error: unknown) => void };
const STREAMS_PER_READ = 1000;

/**
 * Positions are dense and handed out in commit order: kepler_append serialises
 * writers with a transaction-scoped advisory lock held until commit, so what a
 * reader sees is always a prefix of the store. Appends arriving in the same turn
 * of the event loop share one call (group commit), as on SQLite.
 */
export class PostgresEventStore implements EventStore {
  private readonly pool: pg.Pool;
  readonly notifier: Notifier;
  private readonly where: string;
  private readonly backoff: BackoffOptions;
  private readonly readAttempts: number;
  private readonly subscriptions = new Set<PostgresSubscription>();
  private pendingWrites: PendingWrite[] = [];
  /** Guarded writes among the pending ones: while none, a group is every pending write, as it always was. */
  private guardedPending = 0;
  private writing = false;
  /**
   * Whole streams asked for in the same turn of the event loop are read with one query: a processor
   * loading the streams of a batch pays one round trip, not one per stream.
   */
  private readonly streamReads = new GatheredStreamReads({ readMany: (streams) => this.queryStreams(streams), chunkSize: STREAMS_PER_READ, schedule: setImmediate });
  private closed = false;

  /** Connects, checks the schema (creating the database and migrating it when allowed) and returns the store. */
  static async connect(url: string, options: PostgresEventStoreOptions = {}): Promise<PostgresEventStore> {
    const { config, resolved } = poolConfig(url, options);
    const open = async () => {
      const store = new PostgresEventStore(config, resolved, redactUrl(url), options);
      try {
        await store.prepareSchema(options.migrate ?? true);
        return store;
      } catch (error) {
        await store.close();
        throw error;
      }
    };
    try {
      return await ((options.migrate ?? true) ? creatingDatabase(config, open) : open());
    } catch (error) {
      throw toStoreError(error, 'answer', redactUrl(url));
    }
  }

  private constructor(
    config: pg.PoolConfig,
    readonly settings: ResolvedPostgresOptions,
    where: string,
    private readonly options: PostgresEventStoreOptions,
  ) {
    this.where = where;
    this.pool = new pg.Pool(config);
    // An idle connection the server ended (a restart, pg_terminate_backend) is dropped
    // from the pool and replaced on demand; unhandled, pg would throw it at the process.
    this.pool.on('error', () => undefined);
    this.backoff = { initialDelayMs: options.reconnect?.initialDelayMs ?? 100, maxDelayMs: options.reconnect?.maxDelayMs ?? 5_000 };
    this.readAttempts = Math.max(1, options.readAttempts ?? 3);
    const { max: _max, idleTimeoutMillis: _idle, ...listenerConfig } = config;
    this.notifier = new Notifier(listenerConfig, {
      pollIntervalMs: options.pollIntervalMs ?? 1_000,
      fallbackPollIntervalMs: Math.min(options.pollIntervalMs ?? 1_000, 100),
      reconnect: this.backoff,
      onListenerError: (error, attempt) => options.onConnectionError?.(error, attempt, 'listener'),
    });
  }

  /** Where the store is, without credentials. */
  get location(): string {
    return this.where;
  }

  private async prepareSchema(allowMigration: boolean): Promise<void> {
    if (allowMigration) {
      await migrate(this.pool);
      return;
    }
    const pending = await pendingMigrations(this.pool);
    if (pending.length > 0) {
      throw new Error(`the event store at ${this.where} lacks schema migrations ${pending.map((m) => m.version).join(', ')}: run \`kepler migrate\``);
    }
  }

  /** Applies pending migrations (what `kepler migrate` runs). */
  async migrate(): Promise<MigrationReport> {
    return migrate(this.pool, EVENT_STORE_MIGRATIONS);
  }

  /** Applies pending migrations to the store at `url` and says which; nothing else is opened. */
  static async migrate(url: string, options: PostgresOptions = {}): Promise<MigrationReport> {
    const { config } = poolConfig(url, { ...options, poolSize: 1 });
    const pool = new pg.Pool(config);
    pool.on('error', () => undefined);
    try {
      return await creatingDatabase(config, () => migrate(pool, EVENT_STORE_MIGRATIONS));
    } catch (error) {
      throw toStoreError(error, 'answer', redactUrl(url));
    } finally {
      await pool.end();
    }
  }

  // --- appends -------------------------------------------------------------

  async append(stream: string, events: readonly AppendableEvent[], expectedRevision: ExpectedRevision) {
    const [outcome] = await this.appendMany([{ stream, events, expectedRevision }]);
    if (!outcome!.ok) throw new WrongExpectedRevisionError(stream, expectedRevision, outcome!.actualRevision);
    return outcome!;
  }

  /**
   * A call of its own (kepler_append_guarded), in turn with the group commit's: one call in flight
   * per process still. Guarded appends are rare (a maker's cancellation), so they are not grouped.
   */
  async appendGuarded(stream: string, events: readonly AppendableEvent[], expectedRevision: ExpectedRevision, guard: StreamGuard) {
    const [outcome] = await this.write([{ stream, events, expectedRevision }], undefined, guard);
    return guardedAppendOutcome(outcome!, stream, expectedRevision, guard);
  }

  appendMany(appends: readonly StreamAppend[], options: { checkpoint?: Checkpoint } = {}): Promise<AppendOutcome[]> {
    return this.write(appends, options.checkpoint, undefined);
  }

  private write(appends: readonly StreamAppend[], checkpoint: Checkpoint | undefined, guard: StreamGuard | undefined): Promise<AppendOutcome[]> {
    if (this.closed) return Promise.reject(new Error('event store closed'));
    return new Promise((resolve, reject) => {
      this.pendingWrites.push({ appends, checkpoint, guard, resolve, reject });
      if (guard !== undefined) this.guardedPending++;
      if (this.pendingWrites.length === 1 && !this.writing) setImmediate(() => void this.commitPendingWrites());
    });
  }

  /**
   * One call in flight per process: what arrives meanwhile waits and goes in the
   * next call, so under load the groups grow instead of queueing on the lock.
   * A guarded write is a call of its own, in its turn: the writes before it go
   * in one call, it in the next, the writes after it in the one after.
   */
  private async commitPendingWrites(): Promise<void> {
    if (this.writing || this.pendingWrites.length === 0) return;
    this.writing = true;
    try {
      const firstGuarded = this.guardedPending === 0 ? -1 : this.pendingWrites.findIndex((write) => write.guard !== undefined);
      if (firstGuarded === 0) {
        this.guardedPending--;
        await this.commitGuarded(this.pendingWrites.shift()!);
      } else await this.commit(this.pendingWrites.splice(0, firstGuarded < 0 ? this.pendingWrites.length : firstGuarded));
    } finally {
      this.writing = false;
      if (this.pendingWrites.length > 0) setImmediate(() => void this.commitPendingWrites());
    }
  }

  /** kepler_append_guarded for one write: its outcomes, or the guard's refusal (see schema.ts, migration 3). */
  private async commitGuarded(write: PendingWrite): Promise<void> {
    const guard = write.guard!;
    let rows: Array<OutcomeRow & { guard_revision: string }>;
    try {
      const result = await this.pool.query<OutcomeRow & { guard_revision: string }>(
        'SELECT ok, revision, last_position, guard_revision FROM kepler_append_guarded($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)',
        [guard.stream, toExpected(guard.revision), ...appendParameters([write])],
      );
      rows = result.rows;
    } catch (error) {
      write.reject(toStoreError(error, 'append', this.where));
      return;
    }
    if (rows.length === 1 && rows[0]!.revision === null) {
      const held = toNumber(rows[0]!.guard_revision, 'revision');
      const refused: GuardRefusal = { ok: false, actualRevision: held < 0 ? 'no_stream' : held, guardRefused: true };
      write.resolve([refused]);
      return;
    }
    const outcomes = rows.map(toOutcome);
    const head = Math.max(0, ...outcomes.map((o) => (o.ok ? o.position : 0)));
    if (head > 0) this.notifier.advance(head);
    write.resolve(outcomes);
  }

  private async commit(writes: PendingWrite[]): Promise<void> {
    let rows: OutcomeRow[];
    try {
      const result = await this.pool.query<OutcomeRow>(
        'SELECT ok, revision, last_position FROM kepler_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)',
        appendParameters(writes),
      );
      rows = result.rows;
    } catch (error) {
      // Not retried here: whether a lost call committed is unknown, and the caller decides again on fresh state.
      const failure = toStoreError(error, 'append', this.where);
      for (const write of writes) write.reject(failure);
      return;
    }
    const outcomes = rows.map(toOutcome);
    const head = Math.max(0, ...outcomes.map((o) => (o.ok ? o.position : 0)));
    if (head > 0) this.notifier.advance(head);
    let next = 0;
    for (const write of writes) {
      write.resolve(outcomes.slice(next, next + write.appends.length));
      next += write.appends.length;
    }
  }

  // --- reads -----------------------------------------------------------------

  async readStream(stream: string, options: { fromRevision?: number; maxCount?: number } = {}): Promise<RecordedEvent[]> {
    if (options.fromRevision === undefined && options.maxCount === undefined) return this.streamReads.read(stream);
    const from = options.fromRevision ?? 0;
    if (options.maxCount !== undefined && options.maxCount <= 0) return [];
    const limit = options.maxCount === undefined ? '' : ' LIMIT $3';
    const params: unknown[] = options.maxCount === undefined ? [stream, from] : [stream, from, options.maxCount];
    const { rows } = await this.read('read a stream', () =>
      this.pool.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM kepler_events WHERE stream = $1 AND revision >= $2 ORDER BY revision${limit}`, params),
    );
    return rows.map(toRecordedEvent);
  }

  /** Whole streams, STREAMS_PER_READ to a query, one promise for all (the port's readStreams). */
  async readStreams(streams: readonly string[]): Promise<Map<string, RecordedEvent[]>> {
    const distinct = [...new Set(streams)];
    const byStream = new Map<string, RecordedEvent[]>();
    for (let i = 0; i < distinct.length; i += STREAMS_PER_READ) {
      for (const [stream, events] of await this.queryStreams(distinct.slice(i, i + STREAMS_PER_READ))) byStream.set(stream, events);
    }
    return byStream;
  }

  /** Whole streams, one query for all (see streamReads). */
  private async queryStreams(streams: string[]): Promise<Map<string, RecordedEvent[]>> {
    const { rows } = await this.read('read streams', () =>
      this.pool.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM kepler_events WHERE stream = ANY ($1::text[]) ORDER BY stream, revision`, [streams]),
    );
    return eventsByStream(rows, (row) => row.stream, toRecordedEvent);
  }

  async readAll(after: GlobalPosition, options: { maxCount?: number; filter?: EventFilter } = {}): Promise<ReadAllResult> {
    const maxCount = options.maxCount ?? DEFAULT_BATCH;
    if (maxCount <= 0) return { events: [], scannedTo: after, endOfStore: false };
    const filter = sqlFilter(options.filter, 3);
    const columns = sqlColumns(options.filter, 3 + filter.params.length);
    // One statement, one snapshot: "no more rows" and the head are seen at the same moment.
    const { rows } = await this.read('read events', () =>
      this.pool.query<Partial<EventRow> & { head: string }>(
        `SELECT h.head, e.* FROM (SELECT coalesce(max(position), 0) AS head FROM kepler_events) h
         LEFT JOIN LATERAL (
           SELECT ${columns.clause} FROM kepler_events WHERE position > $1${filter.clause} ORDER BY position LIMIT $2
         ) e ON true`,
        [after, maxCount, ...filter.params, ...columns.params],
      ),
    );
    const events = rows.filter((row) => row.position !== null && row.position !== undefined).map((row) => toRecordedEvent(row as EventRow));
    const head = toNumber(rows[0]!.head, 'head');
    if (events.length === maxCount) return { events, scannedTo: events.at(-1)!.position, endOfStore: false };
    return { events, scannedTo: Math.max(after, head), endOfStore: true };
  }

  async headPosition(): Promise<GlobalPosition> {
    const { rows } = await this.read('read the head', () => this.pool.query<{ head: string }>('SELECT coalesce(max(position), 0) AS head FROM kepler_events'));
    return toNumber(rows[0]!.head, 'head');
  }

  subscribe(after: GlobalPosition, options: { filter?: EventFilter; batchSize?: number } = {}): Subscription {
    if (this.closed) throw new Error('event store closed');
    this.notifier.start();
    const subscription = new PostgresSubscription(this, after, {
      filter: options.filter,
      batchSize: Math.max(1, options.batchSize ?? DEFAULT_BATCH),
      reconnect: this.backoff,
      onError: (error, attempt) => this.options.onConnectionError?.(error, attempt, 'subscription'),
      onClose: (s) => this.subscriptions.delete(s),
    });
    this.subscriptions.add(subscription);
    return subscription;
  }

  // --- checkpoints -------------------------------------------------------------

  async readCheckpoint(name: string): Promise<GlobalPosition | null> {
    const { rows } = await this.read('read a checkpoint', () => this.pool.query<{ position: string }>('SELECT position FROM kepler_checkpoints WHERE name = $1', [name]));
    return rows[0] ? toNumber(rows[0].position, 'checkpoint') : null;
  }

  async writeCheckpoint(checkpoint: Checkpoint): Promise<void> {
    // Through the write queue, so it shares a call with whatever else is being written.
    await this.appendMany([], { checkpoint });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.subscriptions].map((s) => s.close()));
    await this.notifier.stop();
    await this.pool.end();
  }

  /** A read, tried again on transient errors: reading twice is harmless. */
  private async read<T>(doing: string, query: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await query();
      } catch (error) {
        if (attempt >= this.readAttempts || this.closed || !isTransient(error)) throw toStoreError(error, doing, this.where);
        await sleep(backoffDelay(attempt, this.backoff));
      }
    }
  }
}
