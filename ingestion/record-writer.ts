import { createHash } from 'node:crypto';
import {
  RECEIVED_EVENT_TYPE,
  receivedStream,
  REJECTION_STREAM_PREFIX,
  type DetailRecord,
  type IntakeException,
  type LineRejected,
  type RecordReceived,
  type Source,
  type TrailerMismatched,
} from '../domain/feed.js';
import { appendsNewStreams, decodeEvent, deterministicId, type Actor, type EventData, type EventStore, type RecordedEvent, type StreamAppend } from '../eventstore/events.js';
import type { FileSummary } from './cx1/index.js';
import { intakeKinds, intakeNewStreamEvents, unpackIntakeBatch } from './intake-batch.js';
import type { PackedIntakeBatch } from './packed-batch.js';

/** One line (or message) of a feed after parsing: a record to take, or a rejection to keep. */
export type IntakeItem =
  | { kind: 'record'; source: Source; file: string; line: number | null; raw: string; sourceSequence: number; record: DetailRecord; traceparent?: string; actor?: Actor }
  | { kind: 'rejection'; source: Source | null; file: string; line: number | null; raw: string; code: LineRejected['code']; detail: string; tradeRef: string | null };

export type IntakeOutcome = 'accepted' | 'duplicate' | 'rejected';

/**
 * An intake item ready for the store: its append, the events usually already
 * encoded (on the parse thread: see intake-batch.ts). Besides lines, a file
 * brings its own exception (its trailer's), which is no line.
 */
export interface PreparedIntake {
  kind: IntakeItem['kind'] | 'exception';
  append: StreamAppend;
}

/** What every intake item appends: one event, on a stream of its own that must not exist yet. */
export interface IntakeAppend extends StreamAppend {
  expectedRevision: 'no_stream';
  events: [EventData];
}

/** A file's own exception is only recorded: it counts as no line. */
export type PreparedOutcome = IntakeOutcome | 'recorded';

/**
 * The TRAILER_MISMATCH exception of a file whose trailer is missing or does not
 * match, keyed by the file alone: one per file name, wherever its trailer sits.
 */
export function fileExceptionAppend(file: string, summary: FileSummary): IntakeAppend | null {
  if (summary.trailer !== 'MISSING' && summary.trailer !== 'MISMATCH') return null;
  const stream = rejectionStream(file, null, 'TRAILER_MISMATCH');
  const data: TrailerMismatched = {
    type: 'TrailerMismatched',
    code: 'TRAILER_MISMATCH',
    source: summary.header?.source ?? null,
    file,
    line: summary.trailerLine?.lineNo ?? null,
    status: summary.trailer,
    tradeRef: null,
    detail: summary.trailerDetail ?? `trailer ${summary.trailer}`,
    raw: summary.trailerLine?.raw ?? '',
  };
  return { stream, expectedRevision: 'no_stream', events: [exceptionEvent(stream, data)] };
}

/**
 * Writes parsed lines to the event store, idempotently. A record goes to the
 * stream of its (source, source sequence) with "no stream" expected, so the store
 * itself decides, atomically and across processes, whether the sequence was
 * already taken; only then is the earlier content read to tell a duplicate from
 * a sequence conflict. A rejection goes to a stream named after its
 * (file, line, code), so it is recorded once however often the file comes in.
 */
export class RecordWriter {
  constructor(private readonly store: EventStore) {}

  write(items: readonly IntakeItem[]): Promise<IntakeOutcome[]> {
    // Lines only: no file exception among them, so nothing comes back 'recorded'.
    return this.writePrepared(items.map((item) => ({ kind: item.kind, append: intakeAppend(item) }))) as Promise<IntakeOutcome[]>;
  }

  async writePrepared(items: readonly PreparedIntake[]): Promise<PreparedOutcome[]> {
    const outcomes = await this.store.appendMany(items.map((item) => item.append));
    return this.settle(items, (i) => outcomes[i]!.ok);
  }

  /**
   * A parse thread's batch, through the store's bulk intake when it has one (SQLite): its
   * columns go to the store as they are, with no append built per item. A refused item (its
   * stream there already: a file ingested again) is then judged as writePrepared judges it.
   */
  async writePacked(packed: PackedIntakeBatch): Promise<PreparedOutcome[]> {
    if (!appendsNewStreams(this.store)) return this.writePrepared(unpackIntakeBatch(packed).items);
    const refused = await this.store.appendNewStreams(intakeNewStreamEvents(packed));
    if (refused.length === 0) return intakeKinds(packed).map((kind) => OUTCOME_OF_NEW[kind]);
    const written: boolean[] = new Array(packed.kinds.length).fill(true);
    for (const i of refused) written[i] = false;
    return this.settle(unpackIntakeBatch(packed).items, (i) => written[i]!);
  }

  /** Each item's outcome, once it is known which were written: a record not written is a duplicate, or a sequence conflict to record. */
  private async settle(items: readonly PreparedIntake[], written: (index: number) => boolean): Promise<PreparedOutcome[]> {
    const results: PreparedOutcome[] = [];
    const taken: Array<{ index: number; received: RecordReceived }> = [];
    items.forEach((item, i) => {
      if (item.kind === 'rejection') results.push('rejected');
      else if (item.kind === 'exception') results.push('recorded');
      else if (written(i)) results.push('accepted');
      else {
        results.push('duplicate');
        // Rare (a file ingested again), so decoding what was prepared costs nothing that matters.
        taken.push({ index: i, received: decodeEvent(item.append.events[0]!).data as RecordReceived });
      }
    });
    if (taken.length > 0) {
      const conflicts = await this.sequenceConflicts(taken);
      if (conflicts.length > 0) {
        await this.store.appendMany(conflicts.map(({ rejection }) => intakeAppend(rejection)));
        for (const { index } of conflicts) results[index] = 'rejected';
      }
    }
    return results;
  }

  /**
   * Writes one record the way a feed line is written, but records nothing when its
   * source sequence already holds other content: the caller (a resubmission) refuses
   * it instead. Says where the record stands: its event's id and global position.
   */
  async writeOne(item: Extract<IntakeItem, { kind: 'record' }>): Promise<{ kind: 'written' | 'duplicate'; id: string; position: number } | { kind: 'conflict'; detail: string }> {
    const append = intakeAppend(item);
    const [outcome] = await this.store.appendMany([append]);
    if (outcome!.ok) return { kind: 'written', id: append.events[0]!.id, position: outcome!.position };
    const taken = await this.sequenceTaken(item.source, item.sourceSequence, item.raw);
    return taken.kind === 'duplicate' ? { kind: 'duplicate', id: taken.existing.id, position: taken.existing.position } : taken;
  }

  /** Of the records whose sequence was taken, those taken by different content. */
  private async sequenceConflicts(taken: Array<{ index: number; received: RecordReceived }>): Promise<Array<{ index: number; rejection: IntakeItem }>> {
    const found: Array<{ index: number; rejection: IntakeItem }> = [];
    for (const { index, received } of taken) {
      const { origin, record } = received;
      const holder = await this.sequenceTaken(origin.source, origin.sourceSequence, origin.raw);
      if (holder.kind === 'duplicate') continue;
      found.push({
        index,
        rejection: {
          kind: 'rejection',
          source: origin.source,
          file: origin.file ?? '',
          line: origin.line ?? null,
          raw: origin.raw ?? '',
          code: 'SEQUENCE_CONFLICT',
          detail: holder.detail,
          tradeRef: record.tradeRef,
        },
      });
    }
    return found;
  }

  /** A source sequence found taken: by the same line (a duplicate), or by other content (a conflict, described). */
  private async sequenceTaken(
    source: Source,
    sourceSequence: number,
    raw: string | undefined,
  ): Promise<{ kind: 'duplicate'; existing: RecordedEvent } | { kind: 'conflict'; detail: string }> {
    const [existing] = await this.store.readStream(receivedStream(source, sourceSequence), { maxCount: 1 });
    if (existing && (existing.data as RecordReceived).origin.raw === raw) return { kind: 'duplicate', existing };
    return { kind: 'conflict', detail: `source sequence ${sourceSequence} of ${source} was already ingested with different content${describeOrigin(existing)}` };
  }
}

/** What an item comes to when its event was written. */
const OUTCOME_OF_NEW: Readonly<Record<PreparedIntake['kind'], PreparedOutcome>> = { record: 'accepted', rejection: 'rejected', exception: 'recorded' };

function describeOrigin(existing: RecordedEvent | undefined): string {
  const origin = existing ? (existing.data as RecordReceived).origin : null;
  if (!origin?.file) return '';
  return ` (${origin.file}${origin.line ? ` line ${origin.line}` : ''})`;
}

export function rejectionStream(file: string, line: number | null, code: string): string {
  const key = createHash('sha256').update(JSON.stringify([file, line, code])).digest('hex').slice(0, 32);
  return `${REJECTION_STREAM_PREFIX}${key}`;
}

/** A line's append: its record or its rejection, one event on a stream of its own. */
export function intakeAppend(item: IntakeItem): IntakeAppend {
  if (item.kind === 'rejection') {
    const stream = rejectionStream(item.file, item.line, item.code);
    const data: IntakeException = {
      type: 'LineRejected',
      code: item.code,
      source: item.source,
      file: item.file,
      line: item.line,
      tradeRef: item.tradeRef,
      detail: item.detail,
      raw: item.raw,
    };
    return { stream, expectedRevision: 'no_stream', events: [exceptionEvent(stream, data)] };
  }
  const stream = receivedStream(item.source, item.sourceSequence);
  const data: RecordReceived = {
    record: item.record,
    origin: {
      source: item.source,
      sourceSequence: item.sourceSequence,
      file: item.file,
      ...(item.line !== null && { line: item.line }),
      raw: item.raw,
    },
  };
  const event: EventData = {
    id: deterministicId(stream),
    type: RECEIVED_EVENT_TYPE[item.record.type],
    data,
    metadata: {
      correlationId: item.record.tradeRef,
      source: item.source,
      sourceSequence: item.sourceSequence,
      file: item.file,
      ...(item.line !== null && { line: item.line }),
      ...(item.traceparent !== undefined && { traceparent: item.traceparent }),
      ...(item.actor !== undefined && { actor: item.actor }),
    },
  };
  return { stream, expectedRevision: 'no_stream', events: [event] };
}

export function exceptionEvent(stream: string, data: IntakeException): EventData {
  return {
    id: deterministicId(stream),
    type: data.type,
    data,
    metadata: {
      correlationId: data.tradeRef ?? data.file,
      ...(data.source !== null && { source: data.source }),
      file: data.file,
      ...(data.line !== null && { line: data.line }),
    },
  };
}
