// The worker thread behind CommitWriter: the SQLite event store's only writing connection when it
// commits off its caller's thread. It runs each group the main thread posts in one transaction
// (the same commitGroup as the synchronous path) and posts back the outcomes once COMMIT has
// returned, that is once the WAL frames are written and fsynced (synchronous = FULL).
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { prepareCommitGroup } from './commit-group.js';
import { configureConnection } from './event-database.js';
import type { WriterReply, WriterRequest, WriterThreadInput } from './writer-protocol.js';

const { path, busyTimeoutMs, autocheckpointPages } = workerData as WriterThreadInput;
const port = parentPort!;

const db = new Database(path);
// Not mapped: this connection only writes, and what it touches (the right edge of the tables, the
// stream index's pages it checks) fits a modest page cache.
configureConnection(db, { busyTimeoutMs, mmapBytes: 0, pageCacheKiB: 16_384 });
// 0 while the store's background checkpointer runs: this is the connection that commits, so
// SQLite's own checkpoint would otherwise run here, inside a commit.
db.pragma(`wal_autocheckpoint = ${autocheckpointPages}`);
const commitGroup = prepareCommitGroup(db);

port.on('message', (request: WriterRequest) => {
  switch (request.type) {
    case 'commit': {
      let reply: WriterReply;
      try {
        reply = { type: 'committed', id: request.id, ...commitGroup.immediate(request.writes) };
      } catch (error) {
        const { code, message } = error as { code?: unknown; message?: unknown };
        reply = { type: 'failed', id: request.id, code: typeof code === 'string' ? code : undefined, message: String(message ?? error) };
      }
      port.postMessage(reply);
      return;
    }
    case 'autocheckpoint':
      db.pragma(`wal_autocheckpoint = ${request.pages}`);
      return;
    case 'stop':
      db.close();
      port.close();
      return;
  }
});
