// The EventStoreDB adapter of the EventStore port (port.ts), over the gRPC
// client @eventstore/db-client (v6). Written against the client's type
// definitions and the server's documented/observed behaviour; see the notes
// next to each mapping.
//
// Global positions
// ----------------
// Kepler positions are JS numbers; this adapter uses the *commit* position of
// an event in the transaction log. Events appended through gRPC (EventStoreDB
// 20.6+) are "committed prepares": every event has commit == prepare == its own
// log position, so the commit position alone identifies one event and orders
// $all. The mapping is exact until the log reaches 2^53 bytes (about 9 PB);
// beyond that positionToNumber throws rather than silently losing precision.
// (Events from the old explicit-transaction TCP API share the commit position
// of their transaction; such logs are not supported.)
//
// Reading "after p" needs care, because the server's two read paths differ:
//  - readAll forwards from {commit: p, prepare: p} is inclusive (returns the
//    event at p), so readAll drops events with position <= p client-side;
//  - subscribeToAll from a position reads one event from it and starts after
//    that event, i.e. it skips "the first event at or after p". That is only
//    right when an event sits exactly at p. A scannedTo that came from a
//    server checkpoint is not always an event position (it can be the start of
//    an epoch record), so subscriptions never start at p itself: they start at
//    the last event strictly before p (one backwards read) and drop events
//    <= p client-side. Nothing is lost, at worst nothing is re-read.
// Positions handed to readAll/subscribe must come from this store (positions
// of events, scannedTo values, checkpoints); 0 means "before the first event"
// (the first record of an EventStoreDB log is an epoch record, never an event).
//
// Hidden events
// -------------
// readAll and subscribe skip events whose type or stream starts with '$'
// (EventStoreDB system events, metadata, projections' links) and the
// checkpoint streams `kepler_checkpoint-*`, while still advancing scannedTo past
// them. headPosition is the last event of the log, hidden events included:
// scannedTo reaches it because hidden events are scanned too.
//
// Stream names
// ------------
// Kepler stream names (`category-id`, e.g. `core-42`, `trade-ABC/1`) are used
// as they are. Names that EventStoreDB would treat specially or that would
// collide with the adapter's own streams are escaped reversibly with a '~'
// prefix: names starting with '$' (system streams), '~' (the escape itself) or
// `kepler_checkpoint-` (checkpoints) are stored as '~' + name. So `$x-1` is
// stored as `~$x-1` (its category in EventStoreDB projections is `~$x`).

import {
  ANY,
  BACKWARDS,
  END,
  FORWARDS,
  NO_STREAM,
  START,
  AccessDeniedError,
  CancelledError,
  DeadlineExceededError,
  EventStoreDBClient,
  InvalidArgumentError,
  MaxAppendSizeExceededError,
  NotFoundError,
  NotLeaderError,
  StreamDeletedError,
  StreamNotFoundError,
  TimeoutError,
  UnavailableError,
  UnknownError,
  UnsupportedError,
  WrongExpectedVersionError,
  eventTypeFilter,
  jsonEvent,
  streamNameFilter,
} from '@eventstore/db-client';
import type {
  AllStreamResolvedEvent,
  AllStreamSubscription,
  AppendExpectedRevision,
  CurrentRevision,
  Filter,
  JSONType,
  Position,
  ReadPosition,
} from '@eventstore/db-client';
import type {
  AppendOutcome,
  Checkpoint,
  AppendableEvent,
  EventFilter,
  EventMetadata,
  EventStore,
  ExpectedRevision,
  GlobalPosition,
  ReadAllResult,
  RecordedEvent,
  StreamAppend,
  Subscription,
  SubscriptionBatch,
} from '../port.js';
import { decodeEvent, WrongExpectedRevisionError } from '../port.js';

// ---------------------------------------------------------------------------
// Stream names
// ---------------------------------------------------------------------------

/** Checkpoints live in `kepler_checkpoint-{name}` (the hyphen makes it a category). */
export const CHECKPOINT_STREAM_PREFIX = 'kepler_checkpoint-';
export const CHECKPOINT_EVENT_TYPE = 'KeplerCheckpoint';
const ESCAPE = '~';

function needsEscape(name: string): boolean {
  return name.startsWith('$') || name.startsWith(ESCAPE) || name.startsWith(CHECKPOINT_STREAM_PREFIX);
}

/** The EventStoreDB name of a Kepler stream (reversible; see the header). */
export function toEsdbStreamName(stream: string): string {
  if (typeof stream !== 'string' || stream.length === 0) throw new RangeError('stream name must be a non-empty string');
  return needsEscape(stream) ? ESCAPE + stream : stream;
}

/** The Kepler name of an EventStoreDB stream written through toEsdbStreamName. */
export function fromEsdbStreamName(esdbStream: string): string {
  return esdbStream.startsWith(ESCAPE) ? esdbStream.slice(ESCAPE.length) : esdbStream;
}

/** The stream holding the checkpoint `name`. Not escaped: it is the adapter's own namespace. */
export function checkpointStreamName(name: string): string {
  if (typeof name !== 'string' || name.length === 0) throw new RangeError('checkpoint name must be a non-empty string');
  return CHECKPOINT_STREAM_PREFIX + name;
}

/** Events that readAll/subscribe never return (system events and the adapter's checkpoints). */
export function isHiddenEvent(esdbStream: string, type: string): boolean {
  return esdbStream.startsWith('$') || type.startsWith('$') || esdbStream.startsWith(CHECKPOINT_STREAM_PREFIX);
}

/**
 * Server-side prefixes that select every escaped name whose Kepler name starts
 * with one of `prefixes` (possibly more: callers re-check client-side).
 */
export function toEsdbStreamPrefixes(prefixes: readonly string[]): string[] {
  const out = new Set<string>();
  for (const prefix of prefixes) {
    if (prefix === '') {
      out.add('');
    } else if (prefix.startsWith('$') || prefix.startsWith(ESCAPE)) {
      // Every Kepler name with this prefix is escaped.
      out.add(ESCAPE + prefix);
    } else if (prefix.startsWith(CHECKPOINT_STREAM_PREFIX) || CHECKPOINT_STREAM_PREFIX.startsWith(prefix)) {
      // Some names with this prefix are escaped (`kepler_checkpoint-…`), some not (`kepler_c…`).
      out.add(prefix);
      out.add(ESCAPE + prefix);
    } else {
      out.add(prefix);
    }
  }
  return [...out];
}

// ---------------------------------------------------------------------------
// Positions and revisions
// ---------------------------------------------------------------------------

const MAX_POSITION = BigInt(Number.MAX_SAFE_INTEGER);

/** The Kepler position of an EventStoreDB position: its commit position, as a number. */
export function positionToNumber(position: Position | bigint): GlobalPosition {
  const commit = typeof position === 'bigint' ? position : position.commit;
  if (commit < 0n) throw new RangeError(`negative EventStoreDB position ${commit}`);
  if (commit > MAX_POSITION) {
    throw new RangeError(`EventStoreDB commit position ${commit} exceeds 2^53 and cannot be a Kepler GlobalPosition`);
  }
  return Number(commit);
}

function assertPosition(position: GlobalPosition, what = 'position'): void {
  if (!Number.isSafeInteger(position) || position < 0) {
    throw new RangeError(`${what} must be a non-negative safe integer, got ${position}`);
  }
}

/** The exact {commit, prepare} of the event (or record boundary) at a Kepler position. */
export function toExactPosition(position: GlobalPosition): Position {
  assertPosition(position);
  const value = BigInt(position);
  return { commit: value, prepare: value };
}

/** Where an inclusive forwards read must start to see every event after `after`. */
export function toReadPosition(after: GlobalPosition): ReadPosition {
  assertPosition(after);
  return after === 0 ? START : toExactPosition(after);
}

export function toEsdbExpectedRevision(expected: ExpectedRevision): AppendExpectedRevision {
  if (expected === 'any') return ANY;
  if (expected === 'no_stream') return NO_STREAM;
  if (!Number.isSafeInteger(expected) || expected < 0) {
    throw new RangeError(`expected revision must be 'any', 'no_stream' or a non-negative integer, got ${expected}`);
  }
  return BigInt(expected);
}

export function fromEsdbCurrentRevision(current: CurrentRevision | undefined): number | 'no_stream' {
  if (current === undefined || current === NO_STREAM) return 'no_stream';
  if (current < 0n) return 'no_stream';
  return Number(current);
}

function revisionMatches(expected: ExpectedRevision, current: number | 'no_stream'): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return current === 'no_stream';
  return current === expected;
}

// ---------------------------------------------------------------------------
// Metadata
// ---------------------------------------------------------------------------

/**
 * Kepler metadata as EventStoreDB event metadata: Kepler's own fields, plus
 * the conventional `$correlationId` / `$causationId` that EventStoreDB's
 * by-correlation-id projection and tooling read.
 */
export function toEsdbMetadata(metadata: EventMetadata): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (value !== undefined && !key.startsWith('$')) out[key] = value;
  }
  out.$correlationId = metadata.correlationId;
  if (metadata.causationId !== undefined) out.$causationId = metadata.causationId;
  return out;
}

/** The inverse of toEsdbMetadata; tolerant of events written by other tools. */
export function fromEsdbMetadata(raw: unknown): EventMetadata {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw) || raw instanceof Uint8Array) {
    return { correlationId: '' };
  }
  const source = raw as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    if (!key.startsWith('$')) out[key] = value;
  }
  if (typeof out.correlationId !== 'string') {
    out.correlationId = typeof source.$correlationId === 'string' ? source.$correlationId : '';
  }
  if (out.causationId === undefined && typeof source.$causationId === 'string') {
    out.causationId = source.$causationId;
  }
  return out as unknown as EventMetadata;
}

// ---------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------

/** Escapes a literal for a regular expression that both .NET (server) and JS read the same way. */
export function escapeRegex(literal: string): string {
  return literal.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

export type ServerFilterSpec =
  | { on: 'streamName'; prefixes: string[] }
  | { on: 'streamName'; regex: string }
  | { on: 'eventType'; regex: string };

export interface FilterPlan {
  /** What the server filters on (one field only: EventStoreDB filters on stream name or event type). */
  server: ServerFilterSpec;
  /** The exact Kepler filter, applied client-side to the (unescaped) stream name and type. */
  matches(stream: string, type: string): boolean;
}

/** Hides `$…` and `kepler_checkpoint-…` streams server-side when nothing narrower applies. */
export const VISIBLE_STREAMS_REGEX = `^(?!\\$|${escapeRegex(CHECKPOINT_STREAM_PREFIX)})`;
/** A regex that matches nothing: the server skips every event but still sends checkpoints. */
export const MATCH_NOTHING_REGEX = '^(?!)';

export function planFilter(filter?: EventFilter): FilterPlan {
  const types = filter?.eventTypes ? new Set(filter.eventTypes) : null;
  const prefixes = filter?.streamPrefixes ? [...filter.streamPrefixes] : null;
  const matches = (stream: string, type: string): boolean =>
    (types === null || types.has(type)) && (prefixes === null || prefixes.some((p) => stream.startsWith(p)));

  let server: ServerFilterSpec;
  if ((types !== null && types.size === 0) || (prefixes !== null && prefixes.length === 0)) {
    server = { on: 'streamName', regex: MATCH_NOTHING_REGEX };
  } else if (prefixes !== null) {
    // Prefixes are cheap server-side; event types, if any, are checked client-side.
    server = { on: 'streamName', prefixes: toEsdbStreamPrefixes(prefixes) };
  } else if (types !== null) {
    // Exact type names: a prefix filter would also let `TradeBookedV2` through for `TradeBooked`.
    server = { on: 'eventType', regex: `^(?:${[...types].map(escapeRegex).join('|')})$` };
  } else {
    server = { on: 'streamName', regex: VISIBLE_STREAMS_REGEX };
  }
  return { server, matches };
}

function toClientFilter(spec: ServerFilterSpec, checkpointReached: Filter['checkpointReached']): Filter {
  // checkpointInterval multiplies the server's search window (32 events by default):
  // a checkpoint at least every 32 events looked at, matching or not.
  const common = { checkpointInterval: 1, checkpointReached };
  if (spec.on === 'eventType') return eventTypeFilter({ regex: spec.regex, ...common });
  if ('prefixes' in spec) return streamNameFilter({ prefixes: spec.prefixes, ...common });
  return streamNameFilter({ regex: spec.regex, ...common });
}

// ---------------------------------------------------------------------------
// Recorded events
// ---------------------------------------------------------------------------

/** The part of the client's RecordedEvent this adapter reads (JSON and binary events alike). */
interface EsdbRecord {
  streamId: string;
  id: string;
  revision: bigint;
  type: string;
  created: Date;
  data: unknown;
  metadata: unknown;
  position?: Position;
}

/**
 * A Kepler RecordedEvent. `position` is passed in because the caller knows it
 * best: $all reads always carry it; stream reads carry it from EventStoreDB
 * 22.6 on (older servers report 0, which this adapter passes through).
 */
export function toRecordedEvent(record: EsdbRecord, position: GlobalPosition): RecordedEvent {
  return {
    id: record.id,
    type: record.type,
    data: record.data,
    metadata: fromEsdbMetadata(record.metadata),
    stream: fromEsdbStreamName(record.streamId),
    revision: Number(record.revision),
    position,
    recordedAt: record.created,
  };
}

export function toEsdbEvent(appendable: AppendableEvent) {
  // The client encodes JSON itself, so an event that came encoded is decoded once here.
  const event = decodeEvent(appendable);
  if (event.type.startsWith('$')) {
    // readAll/subscribe hide '$' types as system events; refuse rather than lose them.
    throw new RangeError(`event type ${event.type} starts with '$', which EventStoreDB reserves for system events`);
  }
  return jsonEvent({
    id: event.id,
    type: event.type,
    data: (event.data === undefined ? null : event.data) as JSONType,
    metadata: toEsdbMetadata(event.metadata),
  });
}

// ---------------------------------------------------------------------------
// Errors, retries, concurrency
// ---------------------------------------------------------------------------

/** The server (or the network) ended a subscription that nobody closed. */
export class SubscriptionEndedError extends Error {
  constructor() {
    super('EventStoreDB ended the subscription');
    this.name = 'SubscriptionEndedError';
  }
}

// gRPC status codes worth retrying: CANCELLED, UNKNOWN, DEADLINE_EXCEEDED,
// RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE.
const TRANSIENT_GRPC_CODES = new Set([1, 2, 4, 8, 10, 13, 14]);
const TRANSIENT_SOCKET_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);

/**
 * Whether an operation may succeed if tried again. The client itself drops its
 * channel on UNAVAILABLE / CANCELLED / NOT_LEADER and reconnects (to the leader)
 * on the next call; it never retries the call.
 */
export function isTransientError(error: unknown): boolean {
  if (
    error instanceof WrongExpectedVersionError ||
    error instanceof AccessDeniedError ||
    error instanceof InvalidArgumentError ||
    error instanceof NotFoundError ||
    error instanceof StreamNotFoundError ||
    error instanceof StreamDeletedError ||
    error instanceof UnsupportedError ||
    error instanceof MaxAppendSizeExceededError
  ) {
    return false;
  }
  if (
    error instanceof SubscriptionEndedError ||
    error instanceof UnavailableError ||
    error instanceof CancelledError ||
    error instanceof DeadlineExceededError ||
    error instanceof TimeoutError ||
    error instanceof NotLeaderError ||
    error instanceof UnknownError
  ) {
    return true;
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'number') return TRANSIENT_GRPC_CODES.has(code);
  if (typeof code === 'string') return TRANSIENT_SOCKET_CODES.has(code);
  return false;
}

export interface BackoffOptions {
  initialDelayMs: number;
  maxDelayMs: number;
}

/** Exponential backoff with jitter (50–100 % of the step). `attempt` starts at 1. */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const step = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step * (0.5 + random() / 2));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `run` for every item with at most `limit` in flight, items with the same
 * key one after the other in their input order. Results are in input order.
 * When `run` throws, no further item is started and the first error is thrown
 * once the items in flight have settled.
 */
export async function runPerKeyInOrder<T, R>(
  items: readonly T[],
  keyOf: (item: T) => string,
  limit: number,
  run: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const groups = new Map<string, number[]>();
  items.forEach((item, index) => {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(index);
    else groups.set(key, [index]);
  });
  const queue = [...groups.values()];
  const results = new Array<R>(items.length);
  let failure: { error: unknown } | null = null;
  const worker = async () => {
    for (let group = queue.shift(); group && !failure; group = queue.shift()) {
      for (const index of group) {
        if (failure) return;
        try {
          results[index] = await run(items[index]!, index);
        } catch (error) {
          failure ??= { error };
          return;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, queue.length)) }, worker));
  if (failure) throw (failure as { error: unknown }).error;
  return results;
}

// ---------------------------------------------------------------------------
// Subscription buffering
// ---------------------------------------------------------------------------

export type BufferItem =
  | { kind: 'event'; position: GlobalPosition; event: RecordedEvent | null }
  | { kind: 'checkpoint'; position: GlobalPosition }
  | { kind: 'caughtUp' }
  | { kind: 'fellBehind' };

export interface SubscriptionBufferOptions {
  /** Pause the source when this many items wait. */
  highWater: number;
  /** Resume it once the consumer has brought the backlog down to this many. */
  lowWater: number;
  pause(): void;
  resume(): void;
}

/**
 * A bounded, ordered hand-off between the client's subscription stream and
 * the consumer. Events arrive through the stream's 'data' events, while
 * checkpoints and caught-up/fell-behind notices arrive through callbacks that
 * the client fires when it *receives* them, possibly while earlier events
 * still sit in its readable buffer. A marker is therefore queued only after
 * the `pendingAhead` objects that were buffered ahead of it have come out, so
 * a checkpoint never overtakes the events it covers.
 */
export class SubscriptionBuffer {
  private readonly items: BufferItem[] = [];
  private readonly deferred: Array<{ remaining: number; item: BufferItem }> = [];
  private failure: { error: unknown } | null = null;
  private closed = false;
  private paused = false;
  private wake: (() => void) | null = null;

  constructor(private readonly options: SubscriptionBufferOptions) {}

  get length(): number {
    return this.items.length;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** One object came out of the client stream; `item` is undefined when it is dropped. */
  pushData(item?: BufferItem): void {
    if (this.closed) return;
    if (item) this.items.push(item);
    if (this.deferred.length > 0) {
      for (const entry of this.deferred) entry.remaining -= 1;
      while (this.deferred.length > 0 && this.deferred[0]!.remaining <= 0) this.items.push(this.deferred.shift()!.item);
    }
    if (!this.paused && this.items.length >= this.options.highWater) {
      this.paused = true;
      this.options.pause();
    }
    this.notify();
  }

  /** A marker received while `pendingAhead` objects were still buffered in the client stream. */
  pushMarker(item: BufferItem, pendingAhead: number): void {
    if (this.closed) return;
    const last = this.deferred.at(-1);
    if (pendingAhead <= 0 && !last) {
      this.items.push(item);
      this.notify();
    } else {
      this.deferred.push({ remaining: Math.max(pendingAhead, last?.remaining ?? 0, 1), item });
    }
  }

  /** The source failed; items already queued are still handed out first. */
  fail(error: unknown): void {
    this.failure ??= { error };
    this.notify();
  }

  /** The consumer went away: take() returns null from now on. */
  close(): void {
    this.closed = true;
    this.items.length = 0;
    this.deferred.length = 0;
    this.notify();
  }

  /**
   * Waits until something is queued, then removes up to `maxEvents` deliverable
   * events together with the markers and skipped events among and right after
   * them. Returns null once closed; throws the source's failure once drained.
   */
  async take(maxEvents: number): Promise<BufferItem[] | null> {
    for (;;) {
      if (this.closed) return null;
      if (this.items.length > 0) break;
      if (this.failure) throw this.failure.error;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    let count = 0;
    let end = 0;
    while (end < this.items.length) {
      const item = this.items[end]!;
      const deliverable = item.kind === 'event' && item.event !== null;
      if (deliverable && count >= maxEvents) break;
      if (deliverable) count += 1;
      end += 1;
    }
    const taken = this.items.splice(0, end);
    if (this.paused && this.items.length <= this.options.lowWater) {
      this.paused = false;
      this.options.resume();
    }
    return taken;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}

export interface BatchState {
  /** Everything at or before this position has been handed out (or skipped). */
  scannedTo: GlobalPosition;
  /** The server said "caught up" (and not "fell behind" since). */
  serverCaughtUp: boolean;
  /** The head when the subscription was opened; reaching it also means caught up. */
  headAtOpen: GlobalPosition | null;
  /** The caughtUp flag of the last batch handed out. */
  announced: boolean;
}

/** Turns drained buffer items into the next batch, or null when there is nothing worth yielding. */
export function assembleBatch(
  items: readonly BufferItem[],
  state: BatchState,
): { batch: SubscriptionBatch | null; state: BatchState } {
  let { scannedTo, serverCaughtUp, headAtOpen } = state;
  const events: RecordedEvent[] = [];
  for (const item of items) {
    switch (item.kind) {
      case 'event':
        if (item.position <= scannedTo) break; // already handed out: never deliver twice
        scannedTo = item.position;
        if (item.event) events.push(item.event);
        break;
      case 'checkpoint':
        if (item.position > scannedTo) scannedTo = item.position;
        break;
      case 'caughtUp':
        serverCaughtUp = true;
        break;
      case 'fellBehind':
        serverCaughtUp = false;
        headAtOpen = null;
        break;
    }
  }
  const caughtUp = serverCaughtUp || (headAtOpen !== null && scannedTo >= headAtOpen);
  const worthYielding = events.length > 0 || scannedTo > state.scannedTo || (caughtUp && !state.announced);
  const next: BatchState = {
    scannedTo,
    serverCaughtUp,
    headAtOpen,
    announced: worthYielding ? caughtUp : caughtUp && state.announced,
  };
  return { batch: worthYielding ? { events, scannedTo, caughtUp } : null, state: next };
}

// ---------------------------------------------------------------------------
// The store
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Subscriptions
// ---------------------------------------------------------------------------

interface SubscriptionSettings {
  plan: FilterPlan;
  batchSize: number;
  backoff: BackoffOptions;
  onError: ((error: unknown, attempt: number) => void) | undefined;
  onClose: (subscription: EsdbSubscription) => void;
}

/** One server subscription: it lives until it fails or the Kepler subscription closes. */
interface Source {
  buffer: SubscriptionBuffer;
  headAtOpen: GlobalPosition;
  confirmed: boolean;
  close(): Promise<void>;
}

/**
 * A catch-up-then-live subscription to $all with a server-side filter, handed
 * out in batches. It reconnects with backoff on transient errors, resuming
 * after the scannedTo of the last batch it handed out.
 */
class EsdbSubscription implements Subscription {
  private closed = false;
  private current: Source | null = null;
  private interruptSleep: (() => void) | null = null;
  private readonly iterator: AsyncGenerator<SubscriptionBatch, void, undefined>;

  constructor(
    private readonly store: EsdbEventStore,
    after: GlobalPosition,
    private readonly settings: SubscriptionSettings,
  ) {
    this.iterator = this.run(after);
  }

  [Symbol.asyncIterator](): AsyncIterator<SubscriptionBatch> {
    return this.iterator;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.interruptSleep?.();
    const source = this.current;
    this.current = null;
    if (source) await source.close();
    await this.iterator.return(undefined);
    this.settings.onClose(this);
  }

  private async *run(after: GlobalPosition): AsyncGenerator<SubscriptionBatch, void, undefined> {
    let state: BatchState = { scannedTo: after, serverCaughtUp: false, headAtOpen: null, announced: false };
    let attempt = 0;
    while (!this.closed) {
      let source: Source | null = null;
      try {
        source = await this.open(state.scannedTo);
        if (this.closed) return;
        this.current = source;
        state = { ...state, serverCaughtUp: false, headAtOpen: source.headAtOpen, announced: false };
        for (;;) {
          const items = await source.buffer.take(this.settings.batchSize);
          if (items === null || this.closed) return;
          if (source.confirmed) attempt = 0;
          const assembled = assembleBatch(items, state);
          state = assembled.state;
          if (assembled.batch) yield assembled.batch;
          if (this.closed) return;
        }
      } catch (error) {
        if (this.closed) return;
        if (!isTransientError(error)) throw error;
        attempt += 1;
        this.settings.onError?.(error, attempt);
        await this.pause(backoffDelay(attempt, this.settings.backoff));
      } finally {
        if (source) {
          if (this.current === source) this.current = null;
          await source.close();
        }
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.interruptSleep = () => {
        this.interruptSleep = null;
        done();
      };
    });
  }

  /** Subscribes so that the first event handed out is the first one after `resumeAfter`. */
  private async open(resumeAfter: GlobalPosition): Promise<Source> {
    const headAtOpen = await this.store.headPosition();
    // Start at an event known to be before resumeAfter (see the header), drop what is not after it.
    const anchor = resumeAfter === 0 ? null : await this.store.lastEventBefore(resumeAfter);
    const { plan, batchSize } = this.settings;

    let closing = false;
    let subscription: AllStreamSubscription | null = null;
    const buffer = new SubscriptionBuffer({
      highWater: Math.max(32, batchSize * 2),
      lowWater: Math.max(16, batchSize),
      pause: () => subscription?.pause(),
      resume: () => subscription?.resume(),
    });
    const source: Source = {
      buffer,
      headAtOpen,
      confirmed: false,
      close: async () => {
        if (closing) return;
        closing = true;
        buffer.close();
        try {
          await subscription?.unsubscribe();
        } catch {
          // The call may never have started (connection failure): nothing to cancel.
        }
      },
    };

    const checkpointReached: Filter['checkpointReached'] = (sub, position) => {
      buffer.pushMarker({ kind: 'checkpoint', position: positionToNumber(position) }, sub.readableLength);
    };
    const sub = this.store.client.subscribeToAll({
      fromPosition: anchor ?? START,
      resolveLinkTos: false,
      filter: toClientFilter(plan.server, checkpointReached),
    });
    subscription = sub;

    sub.on('data', (resolved: AllStreamResolvedEvent) => {
      let item: BufferItem | undefined;
      try {
        item = toBufferItem(resolved, resumeAfter, plan);
      } catch (error) {
        buffer.fail(error);
        return;
      }
      buffer.pushData(item);
    });
    sub.on('confirmation', () => (source.confirmed = true));
    sub.on('caughtUp', () => buffer.pushMarker({ kind: 'caughtUp' }, sub.readableLength));
    sub.on('fellBehind', () => buffer.pushMarker({ kind: 'fellBehind' }, sub.readableLength));
    sub.on('error', (error: Error) => {
      if (!closing) buffer.fail(error);
    });
    sub.on('end', () => {
      if (!closing) buffer.fail(new SubscriptionEndedError());
    });
    sub.on('close', () => {
      if (!closing) buffer.fail(new SubscriptionEndedError());
    });

    // Already at the head: say so now rather than wait for the server (older servers never do).
    if (resumeAfter >= headAtOpen) buffer.pushMarker({ kind: 'caughtUp' }, 0);
    return source;
  }
}

function toBufferItem(resolved: AllStreamResolvedEvent, resumeAfter: GlobalPosition, plan: FilterPlan): BufferItem | undefined {
  const record = resolved.event;
  if (!record) return undefined;
  const position = positionToNumber(record.position);
  if (position <= resumeAfter) return undefined;
  if (isHiddenEvent(record.streamId, record.type)) return { kind: 'event', position, event: null };
  const event = toRecordedEvent(record, position);
  return { kind: 'event', position, event: plan.matches(event.stream, event.type) ? event : null };
}
