import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CheckpointThreadInput } from './checkpoint-thread.js';

export type BackgroundCheckpointOptions = Partial<Omit<CheckpointThreadInput, 'path'>>;

const THREAD_SCRIPT = new URL('./checkpoint-thread.js', import.meta.url);

/**
 * Checkpoints a WAL-mode SQLite file from a worker thread. The connection that
 * starts it turns SQLite's automatic checkpoint off: left on, it runs inside
 * whichever commit crosses the threshold, on the thread that commits, and costs
 * bulk ingestion about a quarter of its time.
 */
export class BackgroundCheckpointer {
  private exited = false;
  private stopping = false;

  private constructor(private readonly worker: Worker) {
    worker.once('exit', () => (this.exited = true));
  }

  /**
   * Null where the thread cannot run: from the TypeScript sources (tests) there is
   * no compiled checkpoint-thread.js, and the caller keeps SQLite's own checkpoints.
   * `onLost` is told if the thread dies, so the caller can turn them back on.
   */
  static start(path: string, options: BackgroundCheckpointOptions, onLost: (reason: string) => void): BackgroundCheckpointer | null {
    if (!existsSync(fileURLToPath(THREAD_SCRIPT))) return null;
    const input: CheckpointThreadInput = { path, intervalMs: options.intervalMs ?? 100, restartFrames: options.restartFrames ?? 16_384 };
    const worker = new Worker(THREAD_SCRIPT, { workerData: input });
    const checkpointer = new BackgroundCheckpointer(worker);
    // A failed checkpoint loses nothing (the WAL keeps every commit): it is worth a warning, not a crash.
    worker.on('message', (message: { type: 'failed'; message: string }) => {
      process.emitWarning(`background checkpoint of ${path} failed: ${message.message}`);
    });
    worker.on('error', (error) => onLost(error.message));
    worker.on('exit', (code) => {
      if (!checkpointer.stopping) onLost(`the thread exited with ${code}`);
    });
    // A checkpointer alone never keeps a process alive. After the listeners: a 'message'
    // listener references the thread again.
    worker.unref();
    return checkpointer;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.exited) return;
    // Held by the stop, or the process could end while waiting for an unreferenced thread.
    this.worker.ref();
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.postMessage({ type: 'stop' });
    await exited;
  }
}
