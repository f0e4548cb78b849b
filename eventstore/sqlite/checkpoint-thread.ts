// The worker thread behind BackgroundCheckpointer: copies committed WAL frames
// into the database file on its own connection and core, so that the writing
// thread never pays for it inside a commit.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

export interface CheckpointThreadInput {
  path: string;
  intervalMs: number;
  /** Once this many frames are in the WAL and all of them are copied, wait briefly for readers so the WAL starts over. */
  restartFrames: number;
}

const { path, intervalMs, restartFrames } = workerData as CheckpointThreadInput;
const db = new Database(path);
db.pragma('synchronous = FULL');
// A RESTART waits for readers this long at most, holding writers back meanwhile; it is retried on a later tick.
db.pragma('busy_timeout = 20');

type CheckpointResult = { busy: number; log: number; checkpointed: number };
const checkpoint = (mode: 'PASSIVE' | 'RESTART') => (db.pragma(`wal_checkpoint(${mode})`) as CheckpointResult[])[0]!;

const timer = setInterval(() => {
  try {
    const passive = checkpoint('PASSIVE');
    if (passive.log >= restartFrames && passive.checkpointed === passive.log) checkpoint('RESTART');
  } catch (error) {
    // SQLITE_BUSY and the like: the next tick tries again; anything else is reported.
    if ((error as { code?: string }).code !== 'SQLITE_BUSY') parentPort!.postMessage({ type: 'failed', message: (error as Error).message });
  }
}, intervalMs);

parentPort!.on('message', (message: { type: 'stop' }) => {
  if (message.type !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort!.close();
});
