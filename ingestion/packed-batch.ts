// A batch of intake as it travels from the parser to the writer (see
// intake-batch.ts for how it is filled and read): its shape, and what is done
// to it on the way, sizing, moving and joining. Apart from the encoding, so that
// the side that only moves batches (threaded-file-intake.ts, started before the
// domain and the event store are loaded) loads neither.
import type { FileSummary } from './cx1/index.js';

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
  /**
   * One letter per item: r(ecord), j (re-jection) or e(xception of a file); or, for a
   * record-received event, the letter of its record's type (see intake-batch.ts), which
   * then stands for the event's type.
   */
  kinds: string;
  /**
   * Each item's stream, event id and event type, each followed by a line feed
   * (none of them holds one: unpacking checks the count). One string rather than
   * three columns of strings: cloning 1,500 strings cost both threads about
   * 0.6 µs an item, one string and a split about a third of that, and each id,
   * built of slices of its digest, no longer waits for the clone to be flattened.
   * The type is left empty where the item's letter names it.
   */
  keys: string;
  /** Each item's data JSON then its metadata JSON, as UTF-8, in item order: one chunk per batch the parser made. */
  json: JsonChunk[];
  /** Per item, the UTF-8 bytes of its data JSON and of its metadata JSON. */
  dataBytes: number[];
  metadataBytes: number[];
  /** Which file each item comes from: the segments cover the items in order. */
  segments: FileSegment[];
}

/** The JSON of `events` consecutive items; `bytes` may be longer than what they fill. */
export interface JsonChunk {
  bytes: Uint8Array;
  events: number;
}

export function emptyIntakeBatch(): PackedIntakeBatch {
  return { kinds: '', keys: '', json: [], dataBytes: [], metadataBytes: [], segments: [] };
}

/** The buffers to move (not copy) with a batch posted to another thread: after posting, the batch is the receiver's. */
export function intakeBatchTransfer(batch: PackedIntakeBatch): ArrayBuffer[] {
  return [...new Set(batch.json.map((chunk) => chunk.bytes.buffer as ArrayBuffer))];
}

export function intakeBatchSize(batch: PackedIntakeBatch): number {
  return batch.kinds.length;
}

/** `more` appended to `batch`; a file's segment that continues from one to the other becomes one. */
export function joinIntakeBatches(batch: PackedIntakeBatch, more: PackedIntakeBatch): void {
  batch.kinds += more.kinds;
  batch.keys += more.keys;
  batch.json.push(...more.json);
  batch.dataBytes.push(...more.dataBytes);
  batch.metadataBytes.push(...more.metadataBytes);
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
