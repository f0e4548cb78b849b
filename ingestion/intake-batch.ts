// A batch of intake as the parser hands it to the writer: columns, one entry per
// item, each item one encoded event appended to a stream of its own that must
// not exist yet. Cloning columns to another thread costs a quarter of what
// cloning the same items as objects does, on both sides; the writing thread is
// the one that pays for unpacking, and it is the bottleneck. The events' JSON,
// nine tenths of the bytes, travels as UTF-8 in buffers that are moved to the
// writing thread, not copied, and are bound to SQLite as they are: no string on
// the writer's heap, no UTF-8 conversion at the insert (see EncodedJson).
import { RECEIVED_EVENT_TYPE, receivedStream, type DetailRecord } from '../domain/feed.js';
import { deterministicId, encodedText, encodeEvent, type EventData, type NewStreamEvents } from '../eventstore/events.js';
import { receivedEventJson, type ReceivedItem, type ReceivedJsonOptions } from './received-json.js';
import { intakeBatchSize, type FileSegment, type JsonChunk, type PackedIntakeBatch } from './packed-batch.js';
import type { PreparedIntake } from './record-writer.js';

/** The same batch unpacked, as the record writer takes it. */
export interface IntakeBatch {
  items: PreparedIntake[];
  segments: FileSegment[];
}

const KIND_LETTERS = { record: 'r', rejection: 'j', exception: 'e' } as const satisfies Record<PreparedIntake['kind'], string>;

/**
 * A record-received event's letter, by its record's type: the letter says the event's type,
 * which the keys then leave empty. The writer puts a constant in its place (splitKeys) where
 * splitting it out of the keys made a string of it per event, a third of the strings split;
 * and the parser joins, and the clone copies, 16–20 characters fewer an item.
 */
const RECORD_LETTERS = { TRD: 'T', AMD: 'A', CXL: 'X', ALC: 'L', CNF: 'C' } as const satisfies Record<DetailRecord['type'], string>;
/** By a letter's character code: the event type it names, or undefined. */
const TYPES_BY_LETTER_CODE: ReadonlyArray<string | undefined> = (() => {
  const types = new Array<string | undefined>(128).fill(undefined);
  for (const [type, letter] of Object.entries(RECORD_LETTERS)) types[letter.charCodeAt(0)] = RECEIVED_EVENT_TYPE[type as DetailRecord['type']];
  return types;
})();
/**
 * By a letter's character code: the kind it stands for. An array, not an object keyed by the
 * letter: with a record's letter varying by its type, the keyed load went megamorphic.
 */
const KINDS_BY_LETTER_CODE: ReadonlyArray<PreparedIntake['kind'] | undefined> = (() => {
  const kinds = new Array<PreparedIntake['kind'] | undefined>(128).fill(undefined);
  for (const [kind, letter] of Object.entries(KIND_LETTERS)) kinds[letter.charCodeAt(0)] = kind as PreparedIntake['kind'];
  for (const letter of Object.values(RECORD_LETTERS)) kinds[letter.charCodeAt(0)] = 'record';
  return kinds;
})();

/**
 * Where the next item's JSON goes. Each batch gets buffers of its own (they leave with it);
 * a new one starts at the size the last one reached, so a batch rarely grows its buffer.
 */
let chunkCapacity = 64 * 1024;

/**
 * Buffers handed back by the writing thread once their batch was written, for the batches to
 * come. Without them each batch took new buffers (half a megabyte a batch: a gigabyte a million
 * lines, zeroed and faulted in here, freed there), and the writing thread's isolate, counting
 * them as external memory, ran a full mark-compact every 64 MB of them: about twenty a million
 * lines on a heap of 15 MB.
 */
const spareBuffers: ArrayBuffer[] = [];
/** More than the batches in flight ever hold (see threadedFeedIntake): a bound, not a size. */
const MOST_SPARE_BUFFERS = 64;

/** Takes buffers of batches that were written, to reuse: they must no longer be read or written by anyone else. */
export function recycleIntakeBuffers(buffers: readonly ArrayBuffer[]): void {
  for (const buffer of buffers) if (buffer.byteLength > 0 && spareBuffers.length < MOST_SPARE_BUFFERS) spareBuffers.push(buffer);
}

/** A buffer of at least `size` bytes, a spare one when there is one that large (its old bytes are overwritten before being read). */
function chunkBuffer(size: number): Buffer {
  while (spareBuffers.length > 0) {
    const spare = spareBuffers.pop()!;
    if (spare.byteLength >= size) return Buffer.from(spare);
  }
  return Buffer.from(new ArrayBuffer(size));
}

function appendJson(batch: PackedIntakeBatch, data: string, metadata: string): void {
  // At most three bytes of UTF-8 per UTF-16 unit: room for the worst case, checked once per item.
  const room = 3 * (data.length + metadata.length);
  let chunk = batch.json.at(-1) as WritableChunk | undefined;
  if (!chunk) {
    chunk = { bytes: chunkBuffer(Math.max(chunkCapacity, room)), events: 0, end: 0 };
    batch.json.push(chunk);
  } else if (chunk.end + room > chunk.bytes.length) {
    const grown = chunkBuffer(Math.max(2 * chunk.bytes.length, chunk.end + room));
    chunk.bytes.copy(grown, 0, 0, chunk.end);
    chunk.bytes = grown;
    chunkCapacity = Math.max(chunkCapacity, grown.length);
  }
  // One write of both: each write flattens its string and crosses into C++, a
  // fifth of a microsecond the second time. The split is known when the bytes
  // are as many as the UTF-16 units: then every unit was ASCII, one byte each
  // (any other takes two or more). Otherwise (a non-ASCII raw line or file
  // name, rare) each is written again on its own to learn it.
  const both = chunk.bytes.write(data + metadata, chunk.end);
  let dataBytes = data.length;
  let metadataBytes = metadata.length;
  if (both !== dataBytes + metadataBytes) {
    dataBytes = chunk.bytes.write(data, chunk.end);
    metadataBytes = chunk.bytes.write(metadata, chunk.end + dataBytes);
  }
  chunk.end += dataBytes + metadataBytes;
  chunk.events += 1;
  batch.dataBytes.push(dataBytes);
  batch.metadataBytes.push(metadataBytes);
}

/** A chunk as the parser fills it: a Buffer (moved as the Uint8Array it is) and how much of it is filled. */
interface WritableChunk extends JsonChunk {
  bytes: Buffer;
  end: number;
}

/** Adds one item: its event is encoded straight into the columns. */
export function addToIntakeBatch(batch: PackedIntakeBatch, kind: PreparedIntake['kind'], stream: string, event: EventData): void {
  batch.kinds += KIND_LETTERS[kind];
  batch.keys += `${stream}\n${event.id}\n${event.type}\n`;
  const { data, metadata } = encodedText(encodeEvent(event).encoded);
  appendJson(batch, data, metadata);
}

/**
 * Adds one record: the columns of intakeAppend(item)'s event, encoded, written
 * straight from the item (received-json.ts) without the event's objects.
 */
export function addReceivedToIntakeBatch(batch: PackedIntakeBatch, item: ReceivedItem, options: ReceivedJsonOptions = {}): void {
  const stream = receivedStream(item.source, item.sourceSequence);
  // The type is the letter's (RECORD_LETTERS): its place in the keys is left empty.
  batch.kinds += RECORD_LETTERS[item.record.type];
  batch.keys += `${stream}\n${deterministicId(stream)}\n\n`;
  const { data, metadata } = receivedEventJson(item, options);
  appendJson(batch, data, metadata);
}

/** Each item's kind. */
export function intakeKinds(packed: PackedIntakeBatch): Array<PreparedIntake['kind']> {
  const kinds: Array<PreparedIntake['kind']> = new Array(packed.kinds.length);
  for (let i = 0; i < kinds.length; i++) kinds[i] = KINDS_BY_LETTER_CODE[packed.kinds.charCodeAt(i)]!;
  return kinds;
}

/** The items' events as a store's bulk intake takes them: the batch's own columns, the keys split. */
export function intakeNewStreamEvents(packed: PackedIntakeBatch): NewStreamEvents {
  return { count: intakeBatchSize(packed), keys: splitKeys(packed), utf8: packed.json, dataBytes: packed.dataBytes, metadataBytes: packed.metadataBytes };
}

function splitKeys(packed: PackedIntakeBatch): string[] {
  const count = intakeBatchSize(packed);
  const keys = packed.keys.split('\n');
  // Three per item and the empty string after the last line feed: any other count means a key held a line feed.
  if (keys.length !== 3 * count + 1) throw new Error(`intake batch: ${keys.length - 1} keys for ${count} items (a stream, id or type with a line feed?)`);
  // The types the items' letters name, in their empty places (the split made no string of them: V8's empty string is shared).
  const { kinds } = packed;
  for (let i = 0; i < count; i++) {
    const type = TYPES_BY_LETTER_CODE[kinds.charCodeAt(i)];
    if (type === undefined) continue;
    if (keys[3 * i + 2] !== '') throw new Error(`intake batch: item ${i} has both a type letter and a type`);
    keys[3 * i + 2] = type;
  }
  return keys;
}

/** The items, each event's JSON a view of the batch's bytes (no copy). */
export function unpackIntakeBatch(packed: PackedIntakeBatch): IntakeBatch {
  const count = intakeBatchSize(packed);
  const keys = splitKeys(packed);
  const items: PreparedIntake[] = new Array(count);
  let i = 0;
  for (const { bytes, events: chunkItems } of packed.json) {
    const { buffer } = bytes;
    let offset = bytes.byteOffset;
    for (const end = i + chunkItems; i < end; i++) {
      const dataBytes = packed.dataBytes[i]!;
      const metadataBytes = packed.metadataBytes[i]!;
      const dataUtf8 = new Uint8Array(buffer, offset, dataBytes);
      const metadataUtf8 = new Uint8Array(buffer, offset + dataBytes, metadataBytes);
      offset += dataBytes + metadataBytes;
      items[i] = {
        kind: KINDS_BY_LETTER_CODE[packed.kinds.charCodeAt(i)]!,
        append: { stream: keys[3 * i]!, expectedRevision: 'no_stream', events: [{ id: keys[3 * i + 1]!, type: keys[3 * i + 2]!, encoded: { dataUtf8, metadataUtf8 } }] },
      };
    }
  }
  if (i !== items.length) throw new Error(`intake batch: JSON for ${i} of ${items.length} items`);
  return { items, segments: packed.segments };
}
