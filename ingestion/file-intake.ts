// The CX1 files of one ingest run as batches of intake: read in order,
// classified line by line, each line's event encoded into the batch's columns
// (intake-batch.ts). One pipeline for the whole run, so a batch may end one file
// and begin the next, and small files flow as one big one would. Pure of the
// store, so it runs as well on a thread of its own (intake-thread.ts) as inline.
import { Cx1FileClassifier, readLineBatches, readLineBatchesSync, type LineOutcome } from './cx1/index.js';
import { addReceivedToIntakeBatch, addToIntakeBatch } from './intake-batch.js';
import { emptyIntakeBatch, intakeBatchSize, type FileSegment, type PackedIntakeBatch } from './packed-batch.js';
import { fileExceptionAppend, intakeAppend, type IntakeAppend, type IntakeItem, type PreparedIntake } from './record-writer.js';
import { UnreadableFileError, type IntakeFile } from './unreadable-file.js';

/**
 * Batches of `batchSize` items (the last may be shorter) over every file in
 * order, their events encoded. A file whose trailer is missing or does not
 * match ends with its TRAILER_MISMATCH exception as one more item.
 */
export interface FeedIntakeOptions {
  /** Read each file with synchronous calls (readLineBatchesSync): only on a thread that serves nothing else. */
  readSync?: boolean;
}

export async function* feedIntake(files: readonly IntakeFile[], batchSize: number, options: FeedIntakeOptions = {}): AsyncGenerator<PackedIntakeBatch, void> {
  const read = options.readSync ? readLineBatchesSync : readLineBatches;
  let batch = emptyIntakeBatch();
  for (const [index, { path, name }] of files.entries()) {
    const classifier = new Cx1FileClassifier();
    let segment: FileSegment = { file: index, items: 0, linesRead: 0 };
    batch.segments.push(segment);
    // Called once an item has been added to the batch: the full batch to hand over, if it now is.
    const added = (): PackedIntakeBatch | null => {
      segment.items += 1;
      if (intakeBatchSize(batch) < batchSize) return null;
      const full = batch;
      segment = { file: index, items: 0, linesRead: segment.linesRead };
      batch = emptyIntakeBatch();
      batch.segments.push(segment);
      return full;
    };
    try {
      for await (const lines of read(path, { chunkSize: READ_SIZE })) {
        for (const line of lines) {
          segment.linesRead += 1;
          const outcome = classifier.classify(line);
          if (!outcome) continue;
          const item = toIntakeItem(outcome, classifier.header?.source ?? null, name);
          // A record here is what the classifier's parseDetail read from the line, `raw`.
          if (item.kind === 'record') addReceivedToIntakeBatch(batch, item, { parsedFromRaw: true });
          else addAppendToIntakeBatch(batch, item.kind, intakeAppend(item));
          const full = added();
          if (full) yield full;
        }
      }
    } catch (error) {
      throw isFileSystemError(error) ? new UnreadableFileError(path, error) : error;
    }
    const summary = classifier.finish();
    const exception = fileExceptionAppend(name, summary);
    if (exception) {
      addAppendToIntakeBatch(batch, 'exception', exception);
      const full = added();
      if (full) yield full;
    }
    segment.summary = summary;
  }
  if (intakeBatchSize(batch) > 0 || batch.segments.some((s) => s.summary)) yield batch;
}

/**
 * Bytes per read. A chunk's lines (a Line and a sliced string each) live until
 * the last of them is classified: with the reader's default of 1 MiB, some 8,000
 * lines outlived the scavenges that came while they waited (one every ≈ 2,000
 * lines) and were promoted, and so was each small file's whole text (a string of
 * over 128 KiB is allocated as a large object, promoted whole when it survives),
 * which made the old generation grow and the marking threads work. At 64 KiB
 * (≈ 500 lines) most of them die young: per 200,000 lines, 9 MB promoted instead
 * of 19 MB (one file) or 31 MB (100 files of 2,000 lines), one mark-compact
 * instead of three or four.
 */
const READ_SIZE = 64 * 1024;

function addAppendToIntakeBatch(batch: PackedIntakeBatch, kind: PreparedIntake['kind'], { stream, events: [event] }: IntakeAppend): void {
  addToIntakeBatch(batch, kind, stream, event);
}

function isFileSystemError(error: unknown): boolean {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}

function toIntakeItem(outcome: LineOutcome, source: IntakeItem['source'], file: string): IntakeItem {
  if (outcome.kind === 'rejected') {
    return { kind: 'rejection', source, file, line: outcome.lineNo, raw: outcome.raw, code: outcome.code, detail: outcome.detail, tradeRef: outcome.tradeRef };
  }
  return {
    kind: 'record',
    source: source!,
    file,
    line: outcome.lineNo,
    raw: outcome.raw,
    sourceSequence: outcome.sourceSequence,
    record: outcome.record,
  };
}
