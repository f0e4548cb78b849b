import { Worker } from 'node:worker_threads';
import { UnreadableFileError, type FileSegment, type IntakeBatch, type IntakeFile } from './file-intake.js';
import type { PreparedIntake } from './record-writer.js';

export interface IntakeThreadInput {
  files: IntakeFile[];
  batchSize: number;
  inFlight: number;
}
export type ToIntakeThread = { type: 'credit' };
export type FromIntakeThread =
  | { type: 'batch'; batch: PackedIntakeBatch }
  | { type: 'done' }
  | { type: 'failed'; message: string; unreadable?: string };

/**
 * A batch as columns of strings. Cloning it to another thread costs a quarter
 * of what cloning the same items as objects does, on both sides; the writing
 * thread is the one that pays for unpacking, and it is the bottleneck.
 */
export interface PackedIntakeBatch {
  /** One letter per item: r(ecord), j (re-jection) or e(xception of a file). */
  kinds: string;
  streams: string[];
  ids: string[];
  types: string[];
  data: string[];
  metadata: string[];
  segments: FileSegment[];
}

const KIND_LETTERS = { record: 'r', rejection: 'j', exception: 'e' } as const satisfies Record<PreparedIntake['kind'], string>;
const KINDS_BY_LETTER: Readonly<Record<string, PreparedIntake['kind']>> = { r: 'record', j: 'rejection', e: 'exception' };

export function packIntakeBatch(batch: IntakeBatch): PackedIntakeBatch {
  const packed: PackedIntakeBatch = { kinds: '', streams: [], ids: [], types: [], data: [], metadata: [], segments: batch.segments };
  let kinds = '';
  for (const { kind, append } of batch.items) {
    const event = append.events[0];
    // Every intake item is one event appended to a stream of its own; packing relies on it.
    if (append.events.length !== 1 || append.expectedRevision !== 'no_stream' || !event || !('encoded' in event)) {
      throw new Error(`cannot pack the intake of stream ${append.stream}: one encoded event on a new stream expected`);
    }
    kinds += KIND_LETTERS[kind];
    packed.streams.push(append.stream);
    packed.ids.push(event.id);
    packed.types.push(event.type);
    packed.data.push(event.encoded.data);
    packed.metadata.push(event.encoded.metadata);
  }
  packed.kinds = kinds;
  return packed;
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

/** An error the intake thread met that is not a file it could not read. */
export class IntakeThreadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IntakeThreadError';
  }
}

/**
 * feedIntake on a thread of its own: reading, parsing and encoding use one core
 * while the caller writes to the store on another, and the thread starts once
 * for the whole run. Needs the compiled build (a worker thread loads
 * intake-thread.js).
 *
 * The thread sends small batches, which keeps what its garbage collector has to
 * copy small; this side joins whatever has arrived into batches of up to
 * `batchSize` items, so that the store still commits large batches.
 */
export async function* threadedFeedIntake(files: readonly IntakeFile[], batchSize: number): AsyncGenerator<IntakeBatch, void> {
  const threadBatch = Math.min(batchSize, THREAD_BATCH_SIZE);
  // Two store batches ahead: the parser works on the next one while one is being written.
  const input: IntakeThreadInput = { files: [...files], batchSize: threadBatch, inFlight: 2 * Math.ceil(batchSize / threadBatch) };
  const worker = new Worker(new URL('./intake-thread.js', import.meta.url), { workerData: input });
  const inbox: FromIntakeThread[] = [];
  let wake: (() => void) | null = null;
  let crashed: Error | null = null;
  worker.on('message', (message: FromIntakeThread) => {
    inbox.push(message);
    wake?.();
  });
  worker.on('error', (error) => {
    crashed = error;
    wake?.();
  });
  worker.on('exit', (code) => {
    crashed ??= new Error(`intake thread exited with ${code}`);
    wake?.();
  });
  const next = async (): Promise<FromIntakeThread> => {
    for (;;) {
      const message = inbox.shift();
      if (message) return message;
      if (crashed) throw crashed;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
    }
  };
  try {
    for (;;) {
      const message = await next();
      if (message.type === 'failed') throw message.unreadable ? new UnreadableFileError(message.unreadable, message.message) : new IntakeThreadError(message.message);
      if (message.type === 'done') return;
      const joined = unpackIntakeBatch(message.batch);
      let taken = 1;
      for (let waiting = inbox[0]; waiting?.type === 'batch' && joined.items.length + waiting.batch.streams.length <= batchSize; waiting = inbox[0]) {
        inbox.shift();
        const more = unpackIntakeBatch(waiting.batch);
        joined.items.push(...more.items);
        joinSegments(joined.segments, more.segments);
        taken += 1;
      }
      yield joined;
      for (let i = 0; i < taken; i++) worker.postMessage({ type: 'credit' } satisfies ToIntakeThread);
    }
  } finally {
    await worker.terminate();
  }
}

/** Appends `more` to `segments`, the first of `more` merging with the last of `segments` when they are one file's. */
function joinSegments(segments: FileSegment[], more: readonly FileSegment[]): void {
  for (const segment of more) {
    const last = segments.at(-1);
    if (last && last.file === segment.file && !last.summary) {
      last.items += segment.items;
      last.linesRead = segment.linesRead;
      if (segment.summary) last.summary = segment.summary;
    } else {
      segments.push({ ...segment });
    }
  }
}

/** Items per message from the intake thread. */
const THREAD_BATCH_SIZE = 500;
