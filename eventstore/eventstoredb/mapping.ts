// How Kepler's names, positions, revisions, metadata and events map onto
// EventStoreDB's (client @eventstore/db-client v6). Written against the client's
// type definitions and the server's documented/observed behaviour; see the notes
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
import { ANY, NO_STREAM, START, jsonEvent } from '@eventstore/db-client';
import type { AppendExpectedRevision, CurrentRevision, JSONType, Position, ReadPosition } from '@eventstore/db-client';
import type { AppendableEvent, EventMetadata, ExpectedRevision, GlobalPosition, RecordedEvent } from '../port.js';
import { decodeEvent } from '../port.js';

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

export function assertPosition(position: GlobalPosition, what = 'position'): void {
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

export function revisionMatches(expected: ExpectedRevision, current: number | 'no_stream'): boolean {
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
// Recorded events
// ---------------------------------------------------------------------------

/** The part of the client's RecordedEvent this adapter reads (JSON and binary events alike). */
export interface EsdbRecord {
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

