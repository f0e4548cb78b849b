// Rows of kepler_events as the port's RecordedEvent, and appends as the arrays kepler_append takes.
import type { AppendOutcome, Checkpoint, EventMetadata, ExpectedRevision, GlobalPosition, RecordedEvent, StreamAppend } from '../port.js';
import { encodedText, encodeEvent, UNREAD_METADATA } from '../port.js';

export interface EventRow {
  position: string;
  stream: string;
  revision: string;
  id: string;
  type: string;
  /** json columns arrive parsed. */
  data: unknown;
  /** NULL only where readAll left it on the server (EventFilter.withoutMetadata): the column is NOT NULL. */
  metadata: EventMetadata | null;
  recorded_at: Date;
}

export const EVENT_COLUMNS = 'position, stream, revision, id, type, data, metadata, recorded_at';

/** bigint columns arrive as text; a position past 2^53 cannot be a GlobalPosition and is refused, not rounded. */
export function toNumber(value: string | number, what: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`${what} ${value} is not a safe integer`);
  return n;
}

export function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    id: row.id,
    type: row.type,
    data: row.data,
    metadata: row.metadata ?? UNREAD_METADATA,
    stream: row.stream,
    revision: toNumber(row.revision, 'revision'),
    position: toNumber(row.position, 'position'),
    recordedAt: row.recorded_at,
  };
}

const NO_STREAM = -1;
const ANY = -2;

export function toExpected(expected: ExpectedRevision): number {
  if (expected === 'any') return ANY;
  if (expected === 'no_stream') return NO_STREAM;
  if (!Number.isSafeInteger(expected) || expected < 0) throw new RangeError(`expected revision must be 'any', 'no_stream' or a non-negative integer, got ${expected}`);
  return expected;
}

/** One or more callers' writes, each its appends and an optional checkpoint. */
export interface Write {
  appends: readonly StreamAppend[];
  checkpoint: Checkpoint | undefined;
}

/** The parameters of kepler_append for a group of writes, in the function's order. */
export function appendParameters(writes: readonly Write[]): unknown[] {
  const streams: string[] = [];
  const expected: number[] = [];
  const writeOf: number[] = [];
  const counts: number[] = [];
  const eventAppends: number[] = [];
  const eventIndexes: number[] = [];
  const ids: string[] = [];
  const types: string[] = [];
  const data: string[] = [];
  const metadata: string[] = [];
  const checkpointWrites: number[] = [];
  const checkpointNames: string[] = [];
  const checkpointPositions: number[] = [];
  writes.forEach((write, w) => {
    for (const append of write.appends) {
      if (typeof append.stream !== 'string' || append.stream.length === 0) throw new RangeError('stream name must be a non-empty string');
      streams.push(append.stream);
      expected.push(toExpected(append.expectedRevision));
      writeOf.push(w + 1);
      counts.push(append.events.length);
      for (const [index, event] of append.events.entries()) {
        const encoded = encodedText(encodeEvent(event).encoded);
        eventAppends.push(streams.length);
        eventIndexes.push(index + 1);
        ids.push(event.id);
        types.push(event.type);
        data.push(encoded.data);
        metadata.push(encoded.metadata);
      }
    }
    if (write.checkpoint) {
      checkpointWrites.push(w + 1);
      checkpointNames.push(write.checkpoint.name);
      checkpointPositions.push(write.checkpoint.position);
    }
  });
  return [streams, expected, writeOf, counts, eventAppends, eventIndexes, ids, types, data, metadata, checkpointWrites, checkpointNames, checkpointPositions];
}

export interface OutcomeRow {
  ok: boolean;
  revision: string;
  last_position: string | null;
}

export function toOutcome(row: OutcomeRow): AppendOutcome {
  const revision = toNumber(row.revision, 'revision');
  if (!row.ok) return { ok: false, actualRevision: revision === NO_STREAM ? 'no_stream' : revision };
  return { ok: true, nextRevision: revision, position: toNumber(row.last_position!, 'position') as GlobalPosition };
}
