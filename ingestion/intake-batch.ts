// A batch of intake as the parser hands it to the writer: columns of strings,
// one entry per item, each item one encoded event appended to a stream of its
// own that must not exist yet. Cloning columns to another thread costs a
// quarter of what cloning the same items as objects does, on both sides; the
// writing thread is the one that pays for unpacking, and it is the bottleneck.
import { RECEIVED_EVENT_TYPE, receivedStream } from '../domain/index.js';
import { deterministicId, encodeEvent, type EventData } from '../eventstore/index.js';
import type { FileSummary } from './cx1/index.js';
import { receivedDataJson, receivedMetadataJson, type ReceivedItem } from './received-json.js';
import type { PreparedIntake } from './record-writer.js';

/** The items of one file in a batch: consecutive, in the file's order. */
export interface FileSegment {
  /** The file's index in the run. */
  file: number;
  items: number;
  /** Lines of the file read so far, this batch's included. */
  linesRead: number;
  /** Present once the file has ended: its last item (if it had any) is in this batch. */
  summary?: FileSummary;
}

export interface PackedIntakeBatch {
  /** One letter per item: r(ecord), j (re-jection) or e(xception of a file). */
  kinds: string;
  streams: string[];
  ids: string[];
  types: string[];
  data: string[];
  metadata: string[];
  /** Which file each item comes from: the segments cover the items in order. */
  segments: FileSegment[];
}

/** The same batch unpacked, as the record writer takes it. */
export interface IntakeBatch {
  items: PreparedIntake[];
  segments: FileSegment[];
}

const KIND_LETTERS = { record: 'r', rejection: 'j', exception: 'e' } as const satisfies Record<PreparedIntake['kind'], string>;
const KINDS_BY_LETTER: Readonly<Record<string, PreparedIntake['kind']>> = { r: 'record', j: 'rejection', e: 'exception' };

export function emptyIntakeBatch(): PackedIntakeBatch {
  return { kinds: '', streams: [], ids: [], types: [], data: [], metadata: [], segments: [] };
}

export function intakeBatchSize(batch: PackedIntakeBatch): number {
  return batch.streams.length;
}

/** Adds one item: its event is encoded straight into the columns. */
export function addToIntakeBatch(batch: PackedIntakeBatch, kind: PreparedIntake['kind'], stream: string, event: EventData): void {
  batch.kinds += KIND_LETTERS[kind];
  batch.streams.push(stream);
  batch.ids.push(event.id);
  batch.types.push(event.type);
  const { encoded } = encodeEvent(event);
  batch.data.push(encoded.data);
  batch.metadata.push(encoded.metadata);
}

/**
 * Adds one record: the columns of intakeAppend(item)'s event, encoded, written
 * straight from the item (received-json.ts) without the event's objects.
 */
export function addReceivedToIntakeBatch(batch: PackedIntakeBatch, item: ReceivedItem): void {
  const stream = receivedStream(item.source, item.sourceSequence);
  batch.kinds += KIND_LETTERS.record;
  batch.streams.push(stream);
  batch.ids.push(deterministicId(stream));
  batch.types.push(RECEIVED_EVENT_TYPE[item.record.type]);
  batch.data.push(receivedDataJson(item));
  batch.metadata.push(receivedMetadataJson(item));
}

/** `more` appended to `batch`; a file's segment that continues from one to the other becomes one. */
export function joinIntakeBatches(batch: PackedIntakeBatch, more: PackedIntakeBatch): void {
  batch.kinds += more.kinds;
  batch.streams.push(...more.streams);
  batch.ids.push(...more.ids);
  batch.types.push(...more.types);
  batch.data.push(...more.data);
  batch.metadata.push(...more.metadata);
  for (const segment of more.segments) {
    const last = batch.segments.at(-1);
    if (last && last.file === segment.file && !last.summary) {
      last.items += segment.items;
      last.linesRead = segment.linesRead;
      if (segment.summary) last.summary = segment.summary;
    } else {
      batch.segments.push({ ...segment });
    }
  }
}

export function unpackIntakeBatch(packed: PackedIntakeBatch): IntakeBatch {
  const items: PreparedIntake[] = new Array(packed.streams.length);
  for (let i = 0; i < items.length; i++) {
    items[i] = {
      kind: KINDS_BY_LETTER[packed.kinds[i]!]!,
      append: {
        stream: packed.streams[i]!,
        expectedRevision: 'no_stream',
        events: [{ id: packed.ids[i]!, type: packed.types[i]!, encoded: { data: packed.data[i]!, metadata: packed.metadata[i]! } }],
      },
    };
  }
  return { items, segments: packed.segments };
}
