// How a run of `kepler ingest` begins: its files checked, and for a large run the
// intake thread started, before the writer's side (the domain, the event store,
// telemetry) is loaded. The command imports this module alone first (a second
// entry of ingestion/, named in tests/architecture.test.ts), so that the thread
// loads its modules and parses its first batches while this thread loads the rest.
import { access, constants, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { PackedIntakeBatch } from './packed-batch.js';
import { threadedFeedIntake } from './threaded-file-intake.js';
import { UnreadableFileError, UnreadableFilesError, type IntakeFile } from './unreadable-file.js';

/** Lines per event-store write: large batches amortise the commit and its fsync. */
export const INGEST_BATCH_SIZE = 5000;

export interface IntakeStartOptions {
  /** Lines per event-store write; large batches amortise the commit. */
  batchSize?: number;
  /**
   * Read, parse and encode on a worker thread while this thread writes, when
   * the run's files add up to 4 MiB or more: two cores instead of one. Needs the
   * compiled build, so the CLI turns it on.
   */
  parseOnThread?: boolean;
}

/**
 * A run's intake, begun before there is a store to write to (startIntake): its files, checked
 * readable, and their batches, which a large run's thread is already reading and parsing.
 * FileIngestor.ingestAll takes it; a run that ends before that must cancel it.
 */
export class StartedIntake {
  private taken = false;

  /** @internal */
  constructor(
    readonly files: readonly IntakeFile[],
    private readonly batches: AsyncGenerator<PackedIntakeBatch, void>,
    private readonly stop: () => Promise<void>,
  ) {}

  /**
   * Its batches, to the one run that writes them: a second taker would find them spent and
   * write nothing, with no error to say so, so it is refused instead.
   */
  take(): AsyncGenerator<PackedIntakeBatch, void> {
    if (this.taken) throw new Error('this intake was already taken by a run: start another');
    this.taken = true;
    return this.batches;
  }

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
export async function startIntake(paths: readonly string[], options: IntakeStartOptions = {}): Promise<StartedIntake> {
  const files = await readableFiles(paths);
  const batchSize = options.batchSize ?? INGEST_BATCH_SIZE;
  if (options.parseOnThread === true && (await reachesBytes(files, THREAD_MIN_BYTES))) {
    // Each batch is written before the next is asked for, so the thread may fill its buffers again.
    const { batches, stop } = threadedFeedIntake(files, batchSize, { recycle: true });
    return new StartedIntake(files, batches, stop);
  }
  // Here, not at the top: the parsing (with the domain) is what this module leaves out, for the command to start a thread first.
  const { feedIntake } = await import('./file-intake.js');
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
