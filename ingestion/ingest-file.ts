import type { EventStore } from '../eventstore/index.js';
import type { FileSummary, TrailerStatus } from './cx1/index.js';
import { intakeBatchSize } from './packed-batch.js';
import { RecordWriter, type PreparedOutcome } from './record-writer.js';
import { INGEST_BATCH_SIZE, StartedIntake, startIntake, type IntakeStartOptions } from './start-intake.js';

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

export interface FileIngestorOptions extends IntakeStartOptions {
  onProgress?: (file: string, linesRead: number) => void;
}

/**
 * Ingests CX1 files: streams them line by line (memory stays flat whatever
 * their size), classifies each line, and writes accepted records and rejections
 * in batches. The file name (not its directory) identifies a file, as the
 * exceptions list and rejection idempotency are keyed by it.
 */
export class FileIngestor {
  private readonly writer: RecordWriter;
  private readonly batchSize: number;

  constructor(store: EventStore, private readonly options: FileIngestorOptions = {}) {
    this.writer = new RecordWriter(store);
    this.batchSize = options.batchSize ?? INGEST_BATCH_SIZE;
  }

  async ingest(path: string): Promise<FileIngestionSummary> {
    for await (const summary of this.ingestAll([path])) return summary;
    throw new Error(`no summary for ${path}`);
  }

  /**
   * Ingests the files in order through one pipeline: the next file is read
   * while the last one's lines are written. Yields each file's summary, in
   * order, once every line of it is durable. Nothing is ingested if any file is
   * unreadable to begin with. Given an intake started by startIntake, takes it
   * as it was started (its batch size, its thread), once.
   */
  async *ingestAll(run: readonly string[] | StartedIntake): AsyncGenerator<FileIngestionSummary, void> {
    const intake = run instanceof StartedIntake ? run : await startIntake(run, { ...this.options, batchSize: this.batchSize });
    const { files } = intake;
    const batches = intake.take();
    const counts = files.map(() => ({ accepted: 0, duplicate: 0, rejected: 0, recorded: 0 }) satisfies Record<PreparedOutcome, number>);
    for await (const packed of batches) {
      const outcomes = intakeBatchSize(packed) > 0 ? await this.writer.writePacked(packed) : [];
      let item = 0;
      for (const segment of packed.segments) {
        const count = counts[segment.file]!;
        for (const end = item + segment.items; item < end; item++) count[outcomes[item]!]++;
        const { name } = files[segment.file]!;
        this.options.onProgress?.(name, segment.linesRead);
        if (segment.summary) yield summaryOf(name, segment.summary, count);
      }
    }
  }
}

function summaryOf(file: string, summary: FileSummary, count: Record<PreparedOutcome, number>): FileIngestionSummary {
  return {
    file,
    source: summary.header?.source ?? null,
    businessDate: summary.header?.businessDate ?? null,
    fileNumber: summary.header?.fileNumber ?? null,
    lines: summary.lines,
    accepted: count.accepted,
    duplicates: count.duplicate,
    rejected: count.rejected,
    trailer: summary.trailer,
  };
}
