import { access, constants, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { TrailerMismatched } from '../domain/index.js';
import type { EventStore } from '../eventstore/index.js';
import type { FileSummary, TrailerStatus } from './cx1/index.js';
import { fileIntake } from './file-intake.js';
import { exceptionEvent, RecordWriter, rejectionStream, type IntakeOutcome } from './record-writer.js';
import { threadedFileIntake } from './threaded-file-intake.js';

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
  /**
   * Read, parse and encode files of 4 MiB and more on a worker thread while this
   * thread writes: two cores instead of one. Needs the compiled build, so the
   * CLI turns it on.
   */
  parseOnThread?: boolean;
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
    const counts = { accepted: 0, duplicate: 0, rejected: 0 } satisfies Record<IntakeOutcome, number>;
    // Starting the thread costs more than it saves on a small file.
    const onThread = this.options.parseOnThread === true && (await stat(path)).size >= THREAD_MIN_BYTES;
    const batches = (onThread ? threadedFileIntake : fileIntake)(path, file, this.batchSize);
    let summary: FileSummary;
    try {
      for (;;) {
        const next = await batches.next();
        if (next.done) {
          summary = next.value;
          break;
        }
        for (const outcome of await this.writer.writePrepared(next.value.items)) counts[outcome]++;
        this.options.onProgress?.(file, next.value.linesRead);
      }
    } catch (error) {
      if (isFileSystemError(error)) throw new UnreadableFileError(path, error);
      throw error;
    } finally {
      await batches.return(undefined as never);
    }

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

/** From this size up, a file is parsed on a thread of its own when the ingestor is asked to (about 32,000 lines). */
const THREAD_MIN_BYTES = 4 * 1024 * 1024;

function isFileSystemError(error: unknown): boolean {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}
