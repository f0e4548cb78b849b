// The EventStoreDB adapter of the EventStore port (port.ts), over the gRPC
// client @eventstore/db-client (v6). How positions, names and events map is in
// mapping.ts; filters in filters.ts; subscriptions in subscription.ts.
import { ANY, BACKWARDS, END, EventStoreDBClient, FORWARDS, StreamNotFoundError, WrongExpectedVersionError, jsonEvent } from '@eventstore/db-client';
import type { Position } from '@eventstore/db-client';
import type {
  AppendOutcome,
  Checkpoint,
  AppendableEvent,
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
import { StreamGuardUnsupportedError, WrongExpectedRevisionError } from '../port.js';
import { sleep } from '../backoff.js';
import { backoffDelay, isTransientError, runPerKeyInOrder, type BackoffOptions } from './errors.js';
import { planFilter } from './filters.js';
import {
  CHECKPOINT_EVENT_TYPE,
  assertPosition,
  checkpointStreamName,
  fromEsdbCurrentRevision,
  isHiddenEvent,
  positionToNumber,
  revisionMatches,
  toEsdbEvent,
  toEsdbExpectedRevision,
  toEsdbStreamName,
  toExactPosition,
  toReadPosition,
  toRecordedEvent,
  type EsdbRecord,
} from './mapping.js';
import { EsdbSubscription } from './subscription.js';

export interface EsdbEventStoreOptions {
  /** Appends in flight at once in appendMany. Default 16. */
  appendConcurrency?: number;
  /** Attempts for reads (and checkpoint writes) on transient errors. Default 3. */
  readAttempts?: number;
  /** Subscription reconnection backoff. Defaults: 100 ms doubling to 10 s, with jitter. */
  reconnect?: Partial<BackoffOptions>;
  /** Called on each transient subscription error before it reconnects. */
  onSubscriptionError?: (error: unknown, attempt: number) => void;
  /** Check the server answers before connect() resolves. Default true. */
  verifyConnection?: boolean;
}

const DEFAULT_READ_ALL_COUNT = 1000;
const DEFAULT_BATCH_SIZE = 1000;

/**
 * The EventStore port on EventStoreDB (20.10+; event positions on stream reads
 * need 22.6+, caught-up notifications 23.10+).
 *
 * Differences from the SQLite adapter, inherent to EventStoreDB:
 *  - appendMany is not atomic across streams: appends run independently (up to
 *    `appendConcurrency` in flight, in order per stream) and the checkpoint is
 *    written afterwards, only if all of them succeeded;
 *  - an append cannot be conditional on another stream (appendGuarded): EventStoreDB checks an
 *    expected revision only on the stream appended to, and has no transaction across streams.
 *    Reading the guard stream just before appending would leave the very window the guard is
 *    there to close, so appendGuarded refuses, before sending anything (see StreamGuardUnsupportedError);
 *  - appends are not retried on transport errors (the caller decides; event-id
 *    dedupe in EventStoreDB is best effort and Kepler does not rely on it);
 *    reads and checkpoint writes are retried `readAttempts` times.
 */
export class EsdbEventStore implements EventStore {
  private readonly appendConcurrency: number;
  private readonly readAttempts: number;
  private readonly backoff: BackoffOptions;
  private readonly checkpointStreamsReady = new Map<string, Promise<void>>();
  private readonly subscriptions = new Set<EsdbSubscription>();
  private closed = false;

  /** Connects with an EventStoreDB connection string, e.g. `esdb://localhost:2113?tls=false`. */
  static async connect(connectionString: string, options: EsdbEventStoreOptions = {}): Promise<EsdbEventStore> {
    const store = new EsdbEventStore(EventStoreDBClient.connectionString(connectionString), options);
    if (options.verifyConnection ?? true) {
      try {
        await store.headPosition();
      } catch (error) {
        await store.close();
        throw error;
      }
    }
    return store;
  }

  private constructor(
    /** The underlying client, for operations outside the port. */
    readonly client: EventStoreDBClient,
    readonly options: EsdbEventStoreOptions,
  ) {
    this.appendConcurrency = Math.max(1, options.appendConcurrency ?? 16);
    this.readAttempts = Math.max(1, options.readAttempts ?? 3);
    this.backoff = {
      initialDelayMs: options.reconnect?.initialDelayMs ?? 100,
      maxDelayMs: options.reconnect?.maxDelayMs ?? 10_000,
    };
  }

  // --- appends -------------------------------------------------------------

  async append(stream: string, events: readonly AppendableEvent[], expectedRevision: ExpectedRevision) {
    this.assertOpen();
    const outcome = await this.appendOne({ stream, events, expectedRevision });
    if (!outcome.ok) throw new WrongExpectedRevisionError(stream, expectedRevision, outcome.actualRevision);
    return outcome;
  }

  /** Refused, never approximated: see the class comment. */
  async appendGuarded(_stream: string, _events: readonly AppendableEvent[], _expectedRevision: ExpectedRevision, guard: StreamGuard): Promise<AppendOutcome & { ok: true }> {
    this.assertOpen();
    throw new StreamGuardUnsupportedError('EventStoreDB', guard);
  }

  async appendMany(appends: readonly StreamAppend[], options: { checkpoint?: Checkpoint } = {}): Promise<AppendOutcome[]> {
    this.assertOpen();
    const outcomes = await runPerKeyInOrder(appends, (a) => a.stream, this.appendConcurrency, (a) => this.appendOne(a));
    if (options.checkpoint && outcomes.every((o) => o.ok)) await this.writeCheckpoint(options.checkpoint);
    return outcomes;
  }

  private async appendOne(append: StreamAppend): Promise<AppendOutcome> {
    const name = toEsdbStreamName(append.stream);
    const expected = toEsdbExpectedRevision(append.expectedRevision);
    if (append.events.length === 0) return this.appendNothing(name, append.expectedRevision);
    const events = append.events.map(toEsdbEvent);
    try {
      const result = await this.client.appendToStream(name, events, { expectedRevision: expected });
      if (!result.success) {
        // Only with throwOnAppendFailure=false in the connection string; the client's
        // revision is unreliable then (batch append), so ask the stream.
        return { ok: false, actualRevision: await this.currentRevision(name) };
      }
      // The append's position is the commit position of its last event.
      const position = result.position ? positionToNumber(result.position) : await this.lastPositionOf(name);
      return { ok: true, nextRevision: Number(result.nextExpectedRevision), position };
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) {
        return { ok: false, actualRevision: fromEsdbCurrentRevision(error.actualVersion) };
      }
      throw error;
    }
  }

  /** An empty append writes nothing: check the expectation like the SQLite adapter does. */
  private async appendNothing(name: string, expected: ExpectedRevision): Promise<AppendOutcome> {
    const current = await this.currentRevision(name);
    if (!revisionMatches(expected, current)) return { ok: false, actualRevision: current };
    return { ok: true, nextRevision: current === 'no_stream' ? -1 : current, position: await this.headPosition() };
  }

  // --- reads ---------------------------------------------------------------

  async readStream(stream: string, options: { fromRevision?: number; maxCount?: number } = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const name = toEsdbStreamName(stream);
    const fromRevision = options.fromRevision ?? 0;
    if (!Number.isSafeInteger(fromRevision) || fromRevision < 0) {
      throw new RangeError(`fromRevision must be a non-negative integer, got ${fromRevision}`);
    }
    if (options.maxCount !== undefined && !Number.isSafeInteger(options.maxCount)) {
      throw new RangeError(`maxCount must be an integer, got ${options.maxCount}`);
    }
    if (options.maxCount !== undefined && options.maxCount <= 0) return [];
    return this.withRetries(async () => {
      const events: RecordedEvent[] = [];
      try {
        const read = this.client.readStream(name, {
          fromRevision: BigInt(fromRevision),
          direction: FORWARDS,
          ...(options.maxCount !== undefined ? { maxCount: options.maxCount } : {}),
        });
        for await (const resolved of read) {
          const record = resolved.event;
          if (!record) continue;
          events.push(toRecordedEvent(record, record.position ? positionToNumber(record.position) : 0));
        }
      } catch (error) {
        if (error instanceof StreamNotFoundError) return [];
        throw error;
      }
      return events;
    });
  }

  async readAll(after: GlobalPosition, options: { maxCount?: number; filter?: EventFilter } = {}): Promise<ReadAllResult> {
    this.assertOpen();
    const from = toReadPosition(after);
    const maxCount = options.maxCount ?? DEFAULT_READ_ALL_COUNT;
    if (!Number.isSafeInteger(maxCount)) throw new RangeError(`maxCount must be an integer, got ${maxCount}`);
    if (maxCount <= 0) return { events: [], scannedTo: after, endOfStore: false };
    const plan = planFilter(options.filter);
    // The read is inclusive of `after`: ask for one more and drop what is not after it.
    const requested = maxCount + 1;
    return this.withRetries(async () => {
      const events: RecordedEvent[] = [];
      let received = 0;
      let scanned = 0;
      let scannedTo = after;
      for await (const resolved of this.client.readAll({ fromPosition: from, maxCount: requested, direction: FORWARDS })) {
        received += 1;
        const record = resolved.event;
        if (!record || scanned >= maxCount) continue;
        const position = positionToNumber(record.position);
        if (position <= after) continue;
        scanned += 1;
        scannedTo = position;
        if (isHiddenEvent(record.streamId, record.type)) continue;
        const event = toRecordedEvent(record, position);
        if (plan.matches(event.stream, event.type)) events.push(event);
      }
      return { events, scannedTo, endOfStore: received < requested };
    });
  }

  async headPosition(): Promise<GlobalPosition> {
    this.assertOpen();
    return this.withRetries(async () => {
      for await (const resolved of this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 })) {
        if (resolved.event) return positionToNumber(resolved.event.position);
      }
      return 0;
    });
  }

  /** The position of the last event strictly before `position` (any event, hidden ones included), or null. */
  async lastEventBefore(position: GlobalPosition): Promise<Position | null> {
    if (position === 0) return null;
    const from = toExactPosition(position);
    return this.withRetries(async () => {
      // Backwards reads of $all are exclusive: they return events before `from`.
      for await (const resolved of this.client.readAll({ direction: BACKWARDS, fromPosition: from, maxCount: 1 })) {
        const found = resolved.event?.position;
        if (found && found.commit < from.commit) return found;
      }
      return null;
    });
  }

  private async currentRevision(name: string): Promise<number | 'no_stream'> {
    const last = await this.lastRecordOf(name);
    return last ? Number(last.revision) : 'no_stream';
  }

  private async lastPositionOf(name: string): Promise<GlobalPosition> {
    const last = await this.lastRecordOf(name);
    return last?.position ? positionToNumber(last.position) : this.headPosition();
  }

  private async lastRecordOf(name: string): Promise<EsdbRecord | null> {
    return this.withRetries(async () => {
      try {
        for await (const resolved of this.client.readStream(name, { direction: BACKWARDS, fromRevision: END, maxCount: 1 })) {
          if (resolved.event) return resolved.event;
        }
        return null;
      } catch (error) {
        if (error instanceof StreamNotFoundError) return null;
        throw error;
      }
    });
  }

  // --- subscriptions -------------------------------------------------------

  subscribe(after: GlobalPosition, options: { filter?: EventFilter; batchSize?: number } = {}): Subscription {
    this.assertOpen();
    assertPosition(after, 'after');
    const subscription = new EsdbSubscription(this, after, {
      plan: planFilter(options.filter),
      batchSize: Math.max(1, options.batchSize ?? DEFAULT_BATCH_SIZE),
      backoff: this.backoff,
      onError: this.options.onSubscriptionError,
      onClose: (s) => this.subscriptions.delete(s),
    });
    this.subscriptions.add(subscription);
    return subscription;
  }

  // --- checkpoints ---------------------------------------------------------

  async readCheckpoint(name: string): Promise<GlobalPosition | null> {
    this.assertOpen();
    const last = await this.lastRecordOf(checkpointStreamName(name));
    if (!last) return null;
    const position = (last.data as { position?: unknown } | null)?.position;
    if (typeof position !== 'number' || !Number.isSafeInteger(position) || position < 0) {
      throw new Error(`checkpoint ${name}: unreadable event ${last.id} in ${last.streamId}`);
    }
    return position;
  }

  async writeCheckpoint(checkpoint: Checkpoint): Promise<void> {
    this.assertOpen();
    assertPosition(checkpoint.position, 'checkpoint position');
    const stream = checkpointStreamName(checkpoint.name);
    await this.ensureCheckpointStream(stream);
    const event = jsonEvent({
      type: CHECKPOINT_EVENT_TYPE,
      data: { name: checkpoint.name, position: checkpoint.position },
    });
    // Writing the same checkpoint twice is harmless, so transport errors are retried.
    await this.withRetries(() => this.client.appendToStream(stream, event, { expectedRevision: ANY }));
  }

  /** Sets `maxCount: 1` on a checkpoint stream, once per stream and process (idempotent across processes). */
  private ensureCheckpointStream(stream: string): Promise<void> {
    let ready = this.checkpointStreamsReady.get(stream);
    if (!ready) {
      ready = this.withRetries(async () => {
        const { metadata } = await this.client.getStreamMetadata(stream);
        if (metadata?.maxCount !== 1) await this.client.setStreamMetadata(stream, { ...metadata, maxCount: 1 });
      });
      ready.catch(() => this.checkpointStreamsReady.delete(stream));
      this.checkpointStreamsReady.set(stream, ready);
    }
    return ready;
  }

  // --- lifecycle -----------------------------------------------------------

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.subscriptions].map((s) => s.close()));
    await this.client.dispose();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('EsdbEventStore is closed');
  }

  /** Runs a read (or an idempotent write) again on transient errors. */
  private async withRetries<T>(operation: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await operation();
      } catch (error) {
        if (attempt >= this.readAttempts || this.closed || !isTransientError(error)) throw error;
        await sleep(backoffDelay(attempt, this.backoff));
      }
    }
  }
}

