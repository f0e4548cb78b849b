// The CX1 files of one ingest run as batches of prepared intake: read in order,
// classified line by line, turned into appends with their events already
// encoded. One pipeline for the whole run, so a batch may end one file and begin
// the next, and small files flow as one big one would. Pure of the store, so it
// runs as well on a thread of its own (intake-thread.ts) as inline.
import { Cx1FileClassifier, readLineBatches, type FileSummary, type LineOutcome } from './cx1/index.js';
import { prepareFileException, prepareIntake, type IntakeItem, type PreparedIntake } from './record-writer.js';

export interface IntakeFile {
  path: string;
  /** The file name (not its directory): what identifies the file. */
  name: string;
}

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

export interface IntakeBatch {
  items: PreparedIntake[];
  /** Which file each item comes from: the segments cover the items in order. */
  segments: FileSegment[];
}

/** A file of the run that could not be read; what was read of it before stays ingested. */
export class UnreadableFileError extends Error {
  constructor(readonly path: string, cause: unknown) {
    super(`cannot read ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'UnreadableFileError';
  }
}

/**
 * Batches of `batchSize` items (the last may be shorter) over every file in
 * order. A file whose trailer is missing or does not match ends with its
 * TRAILER_MISMATCH exception as one more item.
 */
export async function* feedIntake(files: readonly IntakeFile[], batchSize: number): AsyncGenerator<IntakeBatch, void> {
  let batch: IntakeBatch = { items: [], segments: [] };
  for (const [index, { path, name }] of files.entries()) {
    const classifier = new Cx1FileClassifier();
    let segment: FileSegment = { file: index, items: 0, linesRead: 0 };
    batch.segments.push(segment);
    const add = (item: PreparedIntake): IntakeBatch | null => {
      batch.items.push(item);
      segment.items += 1;
      if (batch.items.length < batchSize) return null;
      const full = batch;
      segment = { file: index, items: 0, linesRead: segment.linesRead };
      batch = { items: [], segments: [segment] };
      return full;
    };
    try {
      for await (const lines of readLineBatches(path)) {
        for (const line of lines) {
          segment.linesRead += 1;
          const outcome = classifier.classify(line);
          if (!outcome) continue;
          const full = add(prepareIntake(toIntakeItem(outcome, classifier.header?.source ?? null, name)));
          if (full) yield full;
        }
      }
    } catch (error) {
      throw isFileSystemError(error) ? new UnreadableFileError(path, error) : error;
    }
    const summary = classifier.finish();
    const exception = prepareFileException(name, summary);
    if (exception) {
      const full = add(exception);
      if (full) yield full;
    }
    segment.summary = summary;
  }
  if (batch.items.length > 0 || batch.segments.some((s) => s.summary)) yield batch;
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
