// The event store port: what Kepler needs from an event store, and nothing more.
// Adapters: SQLite (embedded default), PostgreSQL and EventStoreDB. All pass contract.ts.

/** A position in the store-wide order of events. 0 means "before the first event". */
export type GlobalPosition = number;

/**
 * Who caused an event: the principal of the request that appended it, or the
 * operator of a CLI run. Events derived from it by the processors carry it on.
 */
export interface Actor {
  /** The token's `sub`: a person, or a machine client under client credentials. */
  subject: string;
  /** The OAuth client the principal came through (`client_id`/`azp`). */
  clientId?: string;
  /** A display name, when the token has one. */
  name?: string;
}

/**
 * Several events of an append may carry one metadata object (a processor's decision of several events
 * does): a store may encode it once for all of them, so nobody changes it once it is handed to an append.
 */
export interface EventMetadata {
  /** The trade reference (or another business key) the event belongs to. */
  correlationId: string;
  /** The id of the event (or command) that caused this one. */
  causationId?: string;
  source?: string;
  sourceSequence?: number;
  file?: string;
  line?: number;
  /** W3C trace context, so that a consumer can continue the trace. */
  traceparent?: string;
  /** The blue/green slot whose process appended the event (a decision, or a feed line taken from its queue). */
  slot?: string;
  /** Who did it; absent for what a feed sent and when authentication is off. */
  actor?: Actor;
}

export interface EventData {
  /** A UUID. Deterministic ids are encouraged, but idempotency never relies on them. */
  id: string;
  type: string;
  data: unknown;
  metadata: EventMetadata;
}

/**
 * An event whose data and metadata are already JSON text. After the write itself,
 * encoding is the costliest part of an append; a producer on another thread (the
 * file parser) encodes there and hands the writing thread text.
 */
export interface EncodedEventData {
  id: string;
  type: string;
  encoded: EncodedJson;
}

/**
 * The JSON text of an event's data and metadata: as strings, or as their UTF-8 bytes.
 * Bytes are what a parser on another thread hands over without a copy (its buffers are
 * moved, not cloned), and what SQLite stores without converting: a string costs the
 * writing thread a copy out of the message, a UTF-8 conversion at the insert and the
 * garbage collection of both (measured: about a quarter of the writer's work per line).
 */
export type EncodedJson = { data: string; metadata: string } | { dataUtf8: Uint8Array; metadataUtf8: Uint8Array };

const utf8 = new TextDecoder();

/** The JSON text of an encoded event as strings, decoding it if it came as bytes. */
export function encodedText(encoded: EncodedJson): { data: string; metadata: string } {
  return 'data' in encoded ? encoded : { data: utf8.decode(encoded.dataUtf8), metadata: utf8.decode(encoded.metadataUtf8) };
}

/** What an append takes: an event as values, or one already encoded. */
export type AppendableEvent = EventData | EncodedEventData;

export function encodeEvent(event: AppendableEvent): EncodedEventData {
  if (isEncoded(event)) return event;
  return {
    id: event.id,
    type: event.type,
    encoded: { data: JSON.stringify(event.data === undefined ? null : event.data), metadata: JSON.stringify(event.metadata) },
  };
}

export function isEncoded(event: AppendableEvent): event is EncodedEventData {
  return 'encoded' in event;
}

/** The values of an event, decoding it if it came encoded. */
export function decodeEvent(event: AppendableEvent): EventData {
  if (!isEncoded(event)) return event;
  const { data, metadata } = encodedText(event.encoded);
  return { id: event.id, type: event.type, data: JSON.parse(data) as unknown, metadata: JSON.parse(metadata) as EventMetadata };
}

export interface RecordedEvent extends EventData {
  stream: string;
  /** 0-based position of the event within its stream. */
  revision: number;
  position: GlobalPosition;
  /**
   * When its commit was recorded. Read it, never change it: a store may hand one Date to every event
   * of a commit (SQLite does, rather than construct one an event).
   */
  recordedAt: Date;
}

/** What the writer believes about the stream. */
export type ExpectedRevision = 'any' | 'no_stream' | number;

export interface StreamAppend {
  stream: string;
  expectedRevision: ExpectedRevision;
  events: readonly AppendableEvent[];
}

export type AppendOutcome =
  | { ok: true; nextRevision: number; position: GlobalPosition }
  | { ok: false; actualRevision: number | 'no_stream' };

/**
 * Events that each open a stream of their own, already encoded: what bulk intake writes
 * (a feed's lines, each on its own stream). In columns, so that a writer need not build an
 * append per event. Offered by the stores that write it cheaper than appendMany (SQLite).
 */
export interface NewStreamEvents {
  count: number;
  /** Event i's stream, id and type at 3i, 3i + 1 and 3i + 2. */
  keys: readonly string[];
  /** The events' data then metadata JSON as UTF-8, back to back in event order, over one buffer or more. */
  utf8: ReadonlyArray<{ bytes: Uint8Array; events: number }>;
  /** Per event, the UTF-8 bytes of its data JSON and of its metadata JSON. */
  dataBytes: readonly number[];
  metadataBytes: readonly number[];
}

/** A store that appends NewStreamEvents as one durable write. */
export interface NewStreamsAppender {
  /**
   * Appends each event at revision 0 of its stream, unless the stream already exists (or
   * an earlier event of the batch opened it): the answer lists those events' indexes, in
   * order. As appendMany with `no_stream` expected for each, all in one transaction, durable
   * when it resolves.
   */
  appendNewStreams(events: NewStreamEvents): Promise<number[]>;
}

export function appendsNewStreams<S extends object>(store: S): store is S & NewStreamsAppender {
  return typeof (store as Partial<NewStreamsAppender>).appendNewStreams === 'function';
}

export interface Checkpoint {
  name: string;
  position: GlobalPosition;
}

export interface EventFilter {
  /** Only events whose type is one of these. */
  eventTypes?: readonly string[];
  /** Only events whose stream starts with one of these prefixes (categories end in '-'). */
  streamPrefixes?: readonly string[];
  /**
   * Types whose `data` the follower never reads (it takes what it needs from the rest of the event): a
   * store may hand such events with `data` null rather than decode it. Not a filter: which events come
   * is the same with or without it, and a store that ignores it hands the data as usual.
   */
  withoutData?: readonly string[];
  /**
   * Types whose `metadata` the follower never reads: a store may hand such events with UNREAD_METADATA
   * in its place rather than decode it (the feed projection counts the received records from their
   * stream, and their metadata was JSON-parsed for nothing). A hint as withoutData is: which events
   * come is the same, and a store that ignores it hands the metadata as usual. A follower that reads
   * any of it (a trace context, the correlation id to log) must not name the type here. SQLite and
   * PostgreSQL leave both parts in the database for the types named; EventStoreDB hands them whole.
   */
  withoutMetadata?: readonly string[];
}

/**
 * The metadata of an event read withoutMetadata (EventFilter.withoutMetadata): none of it, as an object a
 * reader may still look into without failing (every optional field absent, the correlation id empty),
 * the one object for every such event. Frozen, since events are shared between followers.
 */
export const UNREAD_METADATA: EventMetadata = Object.freeze({ correlationId: '' });

/**
 * The filter as every adapter's readAll applies it, on an event already read: its type is one of
 * the types and its stream starts with one of the prefixes (an absent list lets everything through,
 * an empty one nothing). For a reader that reads once for several filters (projections/fan-out.ts);
 * the contract holds each adapter to it.
 */
export function passesFilter(filter: EventFilter | undefined, event: { type: string; stream: string }): boolean {
  if (filter === undefined) return true;
  const { eventTypes, streamPrefixes } = filter;
  if (eventTypes !== undefined && !eventTypes.includes(event.type)) return false;
  return streamPrefixes === undefined || streamPrefixes.some((prefix) => event.stream.startsWith(prefix));
}

export interface ReadAllResult {
  events: RecordedEvent[];
  /** Everything up to here has been looked at (filtered events included). */
  scannedTo: GlobalPosition;
  /** True when nothing beyond scannedTo existed at the time of the read. */
  endOfStore: boolean;
}

export interface SubscriptionBatch {
  events: RecordedEvent[];
  /** Store this as the checkpoint once the batch is processed. */
  scannedTo: GlobalPosition;
  caughtUp: boolean;
}

export interface Subscription extends AsyncIterable<SubscriptionBatch> {
  close(): Promise<void>;
}

export class WrongExpectedRevisionError extends Error {
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    readonly actual: number | 'no_stream',
  ) {
    super(`stream ${stream}: expected revision ${expected}, actual ${actual}`);
    this.name = 'WrongExpectedRevisionError';
  }
}

/**
 * A condition on a stream other than the one appended to: it must still be at `revision`
 * (its last event's revision, or 'no_stream' while it has none) when the append commits.
 * This is how a decision read from two streams is kept honest when it writes to one: the
 * command that cancels a trade it found not booked appends to the trade's stream, provided
 * the booking stream it read has not moved since (see EventStore.appendGuarded).
 */
export interface StreamGuard {
  stream: string;
  revision: number | 'no_stream';
}

/**
 * The store cannot hold a condition on another stream atomically with an append (EventStoreDB
 * has no multi-stream transaction). Nothing was written; the caller must not take the append
 * for guarded, and decides what a decision it cannot guard deserves (the command service asks
 * for a second principal). Thrown before anything is sent, so it costs nothing to find out.
 */
export class StreamGuardUnsupportedError extends Error {
  constructor(
    readonly store: string,
    readonly guard: StreamGuard,
  ) {
    super(`${store} cannot make an append conditional on another stream (${guard.stream}): it has no transaction across streams`);
    this.name = 'StreamGuardUnsupportedError';
  }
}

/**
 * Another writer held the store longer than this one would wait. Nothing was
 * written, so the same write can be tried again later.
 */
export class StoreBusyError extends Error {
  constructor(options: { cause: unknown }) {
    super('the event store stayed locked by another writer', options);
    this.name = 'StoreBusyError';
  }
}

/**
 * The store did not answer in time, or the connection to it was lost. A read, or
 * a write that is safe to repeat, can be tried again; for an append the outcome
 * is unknown, so the caller decides again on fresh state (as on a conflict).
 */
export class StoreUnavailableError extends Error {
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

export interface EventStore {
  /** Appends atomically to one stream; throws WrongExpectedRevisionError on a revision mismatch. */
  append(stream: string, events: readonly AppendableEvent[], expectedRevision: ExpectedRevision): Promise<AppendOutcome & { ok: true }>;

  /**
   * append, provided `guard.stream` is still at `guard.revision`: the condition is checked in
   * the append's own write transaction, under the same serialisation as every other append, so
   * no append to the guard stream can land between the check and the commit. The guard is
   * checked first: a guard stream that moved throws WrongExpectedRevisionError naming the guard
   * stream (with its expected and actual revision), and nothing is written; then the append's
   * own expected revision, as append checks it. A store that cannot check it atomically throws
   * StreamGuardUnsupportedError and writes nothing: it never appends unguarded.
   */
  appendGuarded(stream: string, events: readonly AppendableEvent[], expectedRevision: ExpectedRevision, guard: StreamGuard): Promise<AppendOutcome & { ok: true }>;

  /**
   * Appends to many streams, each append independent of the others: a revision
   * mismatch on one is reported in its outcome and does not stop the rest.
   * The checkpoint, when given, is stored only if every append succeeded
   * (atomically with them where the store allows it).
   */
  appendMany(appends: readonly StreamAppend[], options?: { checkpoint?: Checkpoint }): Promise<AppendOutcome[]>;

  /** Events of one stream in revision order, from fromRevision (inclusive). Empty for a missing stream. */
  readStream(stream: string, options?: { fromRevision?: number; maxCount?: number }): Promise<RecordedEvent[]>;

  /**
   * Whole streams at once: each stream's events as readStream(stream) gives them, under its name; a
   * stream with none is absent. For a caller that wants many streams together (a processor loading the
   * streams of a batch it has not cached): one promise for all, where readStream costs a promise, its
   * resolution and a reaction a stream. A store that has no cheaper way leaves it out.
   */
  readStreams?(streams: readonly string[]): Promise<Map<string, RecordedEvent[]>>;

  /** Events with position > after, in global order. */
  readAll(after: GlobalPosition, options?: { maxCount?: number; filter?: EventFilter }): Promise<ReadAllResult>;

  /** The position of the last event in the store (0 when empty). */
  headPosition(): Promise<GlobalPosition>;

  /** Catch-up then live subscription to all events after `after`, in batches. */
  subscribe(after: GlobalPosition, options?: { filter?: EventFilter; batchSize?: number }): Subscription;

  /** Durable checkpoints of the processors that write to this store. */
  readCheckpoint(name: string): Promise<GlobalPosition | null>;
  writeCheckpoint(checkpoint: Checkpoint): Promise<void>;

  /**
   * True while a group commit is queued to run on this thread at the end of the current event-loop
   * turn (setImmediate), blocking it for the commit and its fsync: a store whose commits do not
   * block the thread leaves this out. Work deferred to the turn's end would wait for that commit.
   */
  commitQueued?(): boolean;

  close(): Promise<void>;
}
