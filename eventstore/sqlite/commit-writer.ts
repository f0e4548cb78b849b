import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { GroupCommitted, GroupWrite } from './commit-group.js';
import type { WriterReply, WriterRequest, WriterThreadInput } from './writer-protocol.js';

const THREAD_SCRIPT = new URL('./writer-thread.js', import.meta.url);

/** A commit the writer thread has not answered yet. */
interface InFlight {
  id: number;
  resolve: (committed: GroupCommitted) => void;
  reject: (error: unknown) => void;
}

/**
 * The SQLite event store's commits, run on a worker thread of their own: the WAL write and its
 * fsync (synchronous = FULL) then block that thread, not the event loop of the process that
 * answers requests. One commit is in flight at a time; a commit resolves once the thread's
 * COMMIT has returned, so what it wrote is durable, and visible to the store's other connections
 * only from then (see SqliteEventStore.commitOnWriterThread).
 *
 * A thread that dies fails the commit in flight and every later one with an error saying so: an
 * append never waits on a thread that is gone.
 */
export class CommitWriter {
  private nextId = 1;
  private inFlight: InFlight | null = null;
  private lost: Error | null = null;
  private stopping = false;
  private exited = false;

  private constructor(private readonly worker: Worker) {}

  /** Null where the thread cannot run: from the TypeScript sources (tests) there is no compiled writer-thread.js. */
  static start(input: WriterThreadInput): CommitWriter | null {
    if (!existsSync(fileURLToPath(THREAD_SCRIPT))) return null;
    const writer = new CommitWriter(new Worker(THREAD_SCRIPT, { workerData: input }));
    writer.listen();
    return writer;
  }

  private listen(): void {
    const { worker } = this;
    worker.on('message', (reply: WriterReply) => {
      const commit = this.inFlight;
      if (commit === null || commit.id !== reply.id) return;
      this.settled();
      if (reply.type === 'committed') commit.resolve({ results: reply.results, after: reply.after, last: reply.last });
      else commit.reject(Object.assign(new Error(reply.message), { code: reply.code }));
    });
    worker.on('error', (error) => this.lose(new Error(`the event store's writer thread failed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => {
      this.exited = true;
      this.lose(new Error(this.stopping ? 'the event store was closed' : `the event store's writer thread exited (code ${code})`));
    });
    // Idle, the thread keeps no process alive; a commit in flight does (see commit). After the
    // listeners: a 'message' listener references the thread again.
    worker.unref();
  }

  commit(writes: GroupWrite[]): Promise<GroupCommitted> {
    if (this.lost) return Promise.reject(this.lost);
    if (this.inFlight) return Promise.reject(new Error('a commit is already in flight on the writer thread'));
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.inFlight = { id, resolve, reject };
      this.worker.ref();
      try {
        this.post({ type: 'commit', id, writes });
      } catch (error) {
        // Nothing reached the thread (a value that cannot be cloned): nothing was written.
        this.settled();
        reject(error);
      }
    });
  }

  /** SQLite's own checkpoints back on the writing connection (the background checkpointer stopped). */
  setAutocheckpoint(pages: number): void {
    if (!this.lost) this.post({ type: 'autocheckpoint', pages });
  }

  /** Ends the thread. The caller waits for its commit in flight first, so that commit's callers hear its outcome. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.exited) return;
    this.worker.ref();
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.post({ type: 'stop' });
    await exited;
  }

  private post(request: WriterRequest): void {
    this.worker.postMessage(request);
  }

  private settled(): void {
    this.inFlight = null;
    if (!this.stopping) this.worker.unref();
  }

  private lose(error: Error): void {
    this.lost ??= error;
    const commit = this.inFlight;
    if (commit === null) return;
    this.inFlight = null;
    // Whether the thread's COMMIT ran before it died is unknown here: the caller is told it failed,
    // as a caller whose connection dropped mid-commit is; a retry's expected revision settles it.
    commit.reject(this.lost);
  }
}
