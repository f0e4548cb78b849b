import { access, constants } from 'node:fs/promises';
import { basename } from 'node:path';
import type { TrailerMismatched } from '../domain/index.js';
import type { EventStore } from '../eventstore/index.js';
import { Cx1FileClassifier, readLineBatches, type LineOutcome, type TrailerStatus } from './cx1/index.js';
import { exceptionEvent, RecordWriter, rejectionStream, type IntakeItem, type IntakeOutcome } from './record-writer.js';

/** What `kepler ingest --json` prints for each file. */
export interface FileIngestionSummary {
  file: string;
  source: string | null;
  businessDate: string | null;
  fileNumber: string | null;
  lines: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  trailer: TrailerStatus;
}

export class UnreadableFileError extends Error {
  constructor(readonly path: string, cause: unknown) {
    super(`cannot read ${path}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'UnreadableFileError';
  }
}

export interface FileIngestorOptions {
  /** Lines per event-store write; large batches amortise the commit. */
  batchSize?: number;
  onProgress?: (file: string, linesRead: number) => void;
}

/**
 * Ingests one CX1 file: streams it line by line (memory stays flat whatever its
 * size), classifies each line, and writes accepted records and rejections in
 * batches. The file name (not its directory) identifies the file, as the
 * exceptions list and rejection idempotency are keyed by it.
 */
export class FileIngestor {
  private readonly writer: RecordWriter;
  private readonly batchSize: number;

  constructor(private readonly store: EventStore, private readonly options: FileIngestorOptions = {}) {
    this.writer = new RecordWriter(store);
    this.batchSize = options.batchSize ?? 5000;
  }

  async ingest(path: string): Promise<FileIngestionSummary> {
    try {
      await access(path, constants.R_OK);
    } catch (error) {
      throw new UnreadableFileError(path, error);
    }
    const file = basename(path);
    const classifier = new Cx1FileClassifier();
    const counts = { accepted: 0, duplicate: 0, rejected: 0 } satisfies Record<IntakeOutcome, number>;
    let batch: IntakeItem[] = [];
    let linesRead = 0;

    const flush = async () => {
      if (batch.length === 0) return;
      for (const outcome of await this.writer.write(batch)) counts[outcome]++;
      batch = [];
    };

    try {
      for await (const lines of readLineBatches(path)) {
        for (const line of lines) {
          const outcome = classifier.classify(line);
          if (outcome) batch.push(toIntakeItem(outcome, classifier.header?.source ?? null, file));
        }
        linesRead += lines.length;
        if (batch.length >= this.batchSize) await flush();
        this.options.onProgress?.(file, linesRead);
      }
    } catch (error) {
      if (isFileSystemError(error)) throw new UnreadableFileError(path, error);
      throw error;
    }
    await flush();

    const summary = classifier.finish();
    if (summary.trailer === 'MISSING' || summary.trailer === 'MISMATCH') {
      const line = summary.trailerLine?.lineNo ?? null;
      // Keyed by the file alone: one trailer exception per file name, wherever its trailer sits.
      const stream = rejectionStream(file, null, 'TRAILER_MISMATCH');
      const data: TrailerMismatched = {
        type: 'TrailerMismatched',
        code: 'TRAILER_MISMATCH',
        source: summary.header?.source ?? null,
        file,
        line,
        status: summary.trailer,
        tradeRef: null,
        detail: summary.trailerDetail ?? `trailer ${summary.trailer}`,
        raw: summary.trailerLine?.raw ?? '',
      };
      await this.store.appendMany([{ stream, expectedRevision: 'no_stream', events: [exceptionEvent(stream, data)] }]);
    }

    return {
      file,
      source: summary.header?.source ?? null,
      businessDate: summary.header?.businessDate ?? null,
      fileNumber: summary.header?.fileNumber ?? null,
      lines: summary.lines,
      accepted: counts.accepted,
      duplicates: counts.duplicate,
      rejected: counts.rejected,
      trailer: summary.trailer,
    };
  }
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

function isFileSystemError(error: unknown): boolean {
  return error instanceof Error && 'code' in error && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}
