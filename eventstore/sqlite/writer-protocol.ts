// What the SQLite event store's main thread and its writer thread say to each other.
import type { GroupCommitted, GroupWrite } from './commit-group.js';

export interface WriterThreadInput {
  path: string;
  busyTimeoutMs: number;
  /** SQLite's wal_autocheckpoint for the writing connection: 0 while a background checkpointer runs. */
  autocheckpointPages: number;
}

export type WriterRequest =
  | { type: 'commit'; id: number; writes: GroupWrite[] }
  | { type: 'autocheckpoint'; pages: number }
  | { type: 'stop' };

export type WriterReply = ({ type: 'committed'; id: number } & GroupCommitted) | { type: 'failed'; id: number; code: string | undefined; message: string };
