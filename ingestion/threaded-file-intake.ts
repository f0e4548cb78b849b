import { Worker, type WorkerOptions } from 'node:worker_threads';
import { intakeBatchSize, intakeBatchTransfer, joinIntakeBatches, type PackedIntakeBatch } from './packed-batch.js';
import { UnreadableFileError, type IntakeFile } from './unreadable-file.js';

export interface IntakeThreadInput {
  files: IntakeFile[];
  batchSize: number;
  inFlight: number;
}
/** Room for `batches` more of the thread's batches; `buffers`, those of written batches, to reuse (see recycleIntakeBuffers). */
export type ToIntakeThread = { type: 'credit'; batches: number; buffers: ArrayBuffer[] };
export type FromIntakeThread =
  | { type: 'batch'; batch: PackedIntakeBatch }
  | { type: 'done' }
  | { type: 'failed'; message: string; unreadable?: string };

/** An error the intake thread met that is not a file it could not read. */
export class IntakeThreadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IntakeThreadError';
  }
}

export interface ThreadedIntakeOptions {
  /**
   * Hand each batch's JSON buffers back to the thread, to fill again, once the next batch is
   * asked for: a batch must then be used (or copied) before asking for the next. Without it the
   * thread takes new buffers for every batch.
   */
  recycle?: boolean;
}

/** A threaded intake whose thread has started: its batches, and how to stop it if they are not to be taken. */
export interface ThreadedIntake {
  batches: AsyncGenerator<PackedIntakeBatch, void>;
  /** Ends the thread, whether or not its batches were taken (taking them to the end, or returning early, ends it too). */
  stop(): Promise<void>;
}

/**
 * feedIntake on a thread of its own: reading, parsing and encoding use one core
 * while the caller writes to the store on another, and the thread starts once
 * for the whole run. Needs the compiled build (a worker thread loads
 * intake-thread.js). The thread starts now, not at the first batch asked for: it
 * loads its modules and parses its first batches while the caller gets ready to
 * write (opens its store).
 *
 * The thread sends small batches, which keeps what its garbage collector has to
 * copy small; this side joins them into batches of `batchSize` items (the last
 * of the run shorter), so that the store commits large batches.
 */
export function threadedFeedIntake(files: readonly IntakeFile[], batchSize: number, options: ThreadedIntakeOptions = {}): ThreadedIntake {
  const threadBatch = Math.min(batchSize, THREAD_BATCH_SIZE);
  // Two store batches ahead: the parser works on the next one while one is being written.
  const input: IntakeThreadInput = { files: [...files], batchSize: threadBatch, inFlight: 2 * Math.ceil(batchSize / threadBatch) };
  const worker = new Worker(new URL('./intake-thread.js', import.meta.url), intakeWorkerOptions(input));
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
  // The next message, left in the inbox.
  const peek = async (): Promise<FromIntakeThread> => {
    for (;;) {
      const message = inbox[0];
      if (message) return message;
      if (crashed) throw crashed;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
    }
  };
  async function* batches(): AsyncGenerator<PackedIntakeBatch, void> {
    try {
      for (;;) {
        const message = await peek();
        inbox.shift();
        if (message.type === 'failed') throw message.unreadable ? new UnreadableFileError(message.unreadable, message.message) : new IntakeThreadError(message.message);
        if (message.type === 'done') return;
        const joined = message.batch;
        let taken = 1;
        // A store batch is written whole, as the raw append commits: the thread's batches are
        // waited for until it is full or the run has ended. Taking only what had arrived when
        // the thread was behind made 448 commits of a million lines instead of 200, each with
        // its fsync, its BEGIN and COMMIT, and the index pages it touched written to the WAL again.
        while (intakeBatchSize(joined) < batchSize) {
          const waiting = await peek();
          if (waiting.type !== 'batch' || intakeBatchSize(joined) + intakeBatchSize(waiting.batch) > batchSize) break;
          inbox.shift();
          joinIntakeBatches(joined, waiting.batch);
          taken += 1;
        }
        yield joined;
        // Asked for the next: this batch is written (recycling), its buffers are the thread's again.
        const buffers = options.recycle ? intakeBatchTransfer(joined) : [];
        worker.postMessage({ type: 'credit', batches: taken, buffers } satisfies ToIntakeThread, buffers);
        await turnOfTheEventLoop();
      }
    } finally {
      await worker.terminate();
    }
  }
  return { batches: batches(), stop: async () => void (await worker.terminate()) };
}

/**
 * The intake thread's old generation, at most (MB). Its heap holds about 6 MB once collected,
 * and a batch of 500 lines at a time (lines are cut at 64 KiB), so this is no working limit but
 * V8's cue: it lets a heap grow up to four times what a full collection found live when its
 * most is 2 GB or more (the default here: a quarter of the machine), and about 1.4 times at 512 MB.
 * A first collection during the start-up (when V8 knows no speeds and grows by the most) that
 * found 16 MB live let the thread's heap grow to 81 MB for the rest of a 4,000,000-line run
 * (BENCHMARKS.md, eleventh session).
 */
const INTAKE_THREAD_OLD_GENERATION_MB = 512;

/** How the intake thread is started: its input, and its heap's cap. */
export function intakeWorkerOptions(input: IntakeThreadInput): WorkerOptions {
  return { workerData: input, resourceLimits: { maxOldGenerationSizeMb: INTAKE_THREAD_OLD_GENERATION_MB } };
}

/** Items per message from the intake thread. */
const THREAD_BATCH_SIZE = 500;

/** Resolves on the event loop's next turn, after the tasks already waiting (V8's garbage-collection tasks among them). */
function turnOfTheEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
