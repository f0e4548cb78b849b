import { Worker } from 'node:worker_threads';
import type { CheckpointThreadInput } from './checkpoint-thread.js';

export type BackgroundCheckpointOptions = Partial<Omit<CheckpointThreadInput, 'path'>>;

/**
 * Checkpoints a WAL-mode SQLite file from a worker thread. The connections of
 * this process then turn SQLite's automatic checkpoint off: left on, it runs
 * inside whichever commit crosses the threshold, on the thread that commits,
 * and costs bulk ingestion about a quarter of its time.
 * Needs the compiled build (the worker loads checkpoint-thread.js).
 */
export class BackgroundCheckpointer {
  private exited = false;

  private constructor(private readonly worker: Worker) {
    worker.once('exit', () => (this.exited = true));
  }

  static start(path: string, options: BackgroundCheckpointOptions = {}): BackgroundCheckpointer {
    const input: CheckpointThreadInput = { path, intervalMs: options.intervalMs ?? 100, restartFrames: options.restartFrames ?? 16_384 };
    const worker = new Worker(new URL('./checkpoint-thread.js', import.meta.url), { workerData: input });
    // A checkpointer alone never keeps a process alive.
    worker.unref();
    // Failing to checkpoint loses nothing (the WAL keeps every commit); it is worth a warning, not a crash.
    worker.on('message', (message: { type: 'failed'; message: string }) => {
      process.emitWarning(`background checkpoint of ${path} failed: ${message.message}`);
    });
    worker.on('error', (error) => process.emitWarning(`background checkpointer of ${path} stopped: ${error.message}`));
    return new BackgroundCheckpointer(worker);
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    // Held by the stop, or the process could end while waiting for an unreferenced thread.
    this.worker.ref();
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.postMessage({ type: 'stop' });
    await exited;
  }
}
