import { access, constants, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { EventStore } from '../eventstore/index.js';
import type { FileSummary, TrailerStatus } from './cx1/index.js';
import { feedIntake, UnreadableFileError, UnreadableFilesError, type IntakeFile } from './file-intake.js';
import { intakeBatchSize, type PackedIntakeBatch } from './intake-batch.js';
import { RecordWriter, type PreparedOutcome } from './record-writer.js';
import { threadedFeedIntake } from './threaded-file-intake.js';

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

export interface FileIngestorOptions {
  /** Lines per event-store write; large batches amortise the commit. */
  batchSize?: number;
  /**
   * Read, parse and encode on a worker thread while this thread writes, when
   * the run's files add up to 4 MiB or more: two cores instead of one. Needs the
   * compiled build, so the CLI turns it on.
   */
  parseOnThread?: boolean;
  onProgress?: (file: string, linesRead: number) => void;
}

/** Lines per event-store write: large batches amortise the commit and its fsync. */
export const INGEST_BATCH_SIZE = 5000;

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
   * as it was started (its batch size, its thread).
   */
  async *ingestAll(run: readonly string[] | StartedIntake): AsyncGenerator<FileIngestionSummary, void> {
    const { files, batches } = run instanceof StartedIntake ? run : await startIntake(run, { ...this.options, batchSize: this.batchSize });
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

/**
 * A run's intake, begun before there is a store to write to (startIntake): its files, checked
 * readable, and their batches, which a large run's thread is already reading and parsing.
 * FileIngestor.ingestAll takes it; a run that ends before that must cancel it.
 */
export class StartedIntake {
  /** @internal */
  constructor(
    readonly files: readonly IntakeFile[],
    readonly batches: AsyncGenerator<PackedIntakeBatch, void>,
    private readonly stop: () => Promise<void>,
  ) {}

  /** Lets go of an intake that will not be ingested: its thread, if it has one, ends. */
  async cancel(): Promise<void> {
    await this.stop();
  }
}

/**
 * Checks a run's files (nothing is read if one is unreadable: UnreadableFilesError, naming each) and begins
 * reading them: a run of 4 MiB or more, asked to parse on a thread, has its thread started now,
 * so that the thread loads its modules and parses its first batches while the caller opens its
 * store (about 0.2 s of a CLI run's start). Smaller runs are read as ingestAll asks.
 */
export async function startIntake(paths: readonly string[], options: Pick<FileIngestorOptions, 'batchSize' | 'parseOnThread'> = {}): Promise<StartedIntake> {
  const files = await readableFiles(paths);
  const batchSize = options.batchSize ?? INGEST_BATCH_SIZE;
  if (options.parseOnThread === true && (await reachesBytes(files, THREAD_MIN_BYTES))) {
    // Each batch is written before the next is asked for, so the thread may fill its buffers again.
    const { batches, stop } = threadedFeedIntake(files, batchSize, { recycle: true });
    return new StartedIntake(files, batches, stop);
  }
  const batches = feedIntake(files, batchSize);
  return new StartedIntake(files, batches, async () => void (await batches.return()));
}

/** From this many bytes in a run, its files are parsed on a thread of their own when the ingestor is asked to (about 32,000 lines). */
const THREAD_MIN_BYTES = 4 * 1024 * 1024;

/**
 * The files, checked all at once (one check after another was a round trip through libuv's
 * pool per file before the first line was read: 50–150 ms for 500 files at load 8). If any is
 * unreadable, every one that is, in the run's order (UnreadableFilesError).
 */
async function readableFiles(paths: readonly string[]): Promise<IntakeFile[]> {
  const checks = await Promise.allSettled(paths.map((path) => access(path, constants.R_OK)));
  const refused = checks.flatMap((check, index) => (check.status === 'rejected' ? [new UnreadableFileError(paths[index]!, check.reason, accessRefusal(check.reason))] : []));
  if (refused.length > 0) throw new UnreadableFilesError(refused as [UnreadableFileError, ...UnreadableFileError[]]);
  return paths.map((path) => ({ path, name: basename(path) }));
}

/** Why access() refused a file, in a person's words for the usual two (the code's message names the path again). */
function accessRefusal(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : error instanceof Error ? error.message : String(error);
}

/** Whether the files add up to `limit` bytes: stats only as many as it takes (500 small files: a few, not 500). */
async function reachesBytes(files: readonly IntakeFile[], limit: number): Promise<boolean> {
  let bytes = 0;
  for (const { path } of files) {
    bytes += (await stat(path)).size;
    if (bytes >= limit) return true;
  }
  return false;
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
