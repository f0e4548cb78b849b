// With checkpoints on a worker thread, commits no longer copy the WAL into the
// database; the thread must, and the WAL must start over instead of growing
// with everything ever written.
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { EventData } from '../../eventstore/index.js';
import { compiled } from '../support/compiled.js';
import { tempDir } from '../support/feed.js';
import { REPO_ROOT, runNode } from '../support/kepler.js';

type SqliteModule = typeof import('../../eventstore/sqlite/index.js');

const PAYLOAD = 'x'.repeat(2000);
const event = (n: number): EventData => ({ id: `00000000-0000-5000-8000-${String(n).padStart(12, '0')}`, type: 'Written', data: { n, PAYLOAD }, metadata: { correlationId: `REF-${n}` } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('background WAL checkpoints (SQLite event store)', () => {
  it('copy commits into the database file and keep the WAL bounded while appends go on; nothing is lost', async () => {
    const { SqliteEventStore } = await compiled<SqliteModule>('eventstore/sqlite/index.ts');
    const path = join(tempDir(), 'events.db');
    const store = SqliteEventStore.open(path, { backgroundCheckpoints: { intervalMs: 5, restartFrames: 64 } });
    const batches = 60;
    const perBatch = 50;
    let largestWal = 0;
    for (let b = 0; b < batches; b++) {
      await store.appendMany(Array.from({ length: perBatch }, (_, i) => {
        const n = b * perBatch + i;
        return { stream: `s-${n}`, expectedRevision: 'no_stream' as const, events: [event(n)] };
      }));
      largestWal = Math.max(largestWal, statSync(`${path}-wal`).size);
      await sleep(10);
    }
    const written = batches * perBatch * PAYLOAD.length;
    // The writing connection never checkpoints (autocheckpoint is off), so a database file that
    // holds the events, and a WAL far smaller than everything written, are the thread's work. A WAL
    // that never started over would hold every page of the database at least once; half is bound
    // enough to tell, and leaves room for a thread that a loaded machine lets run late (a third was
    // missed by 4 % so, beside other test files and benchmarks).
    const database = statSync(path).size;
    expect(database).toBeGreaterThan(written);
    expect(largestWal).toBeLessThan(database / 2);

    const reader = new Database(path, { readonly: true });
    expect(reader.prepare('SELECT count(*) AS n FROM events').get()).toEqual({ n: batches * perBatch });
    reader.close();
    await store.close();

    const reopened = SqliteEventStore.open(path);
    expect(await reopened.headPosition()).toBe(batches * perBatch);
    expect((await reopened.readStream('s-2999'))[0]!.data).toEqual({ n: 2999, PAYLOAD });
    await reopened.close();
  });

  it('never keeps a process alive: it ends after close(), and without it', async () => {
    const dir = tempDir();
    const store = pathToFileURL(join(REPO_ROOT, 'dist', 'eventstore', 'sqlite', 'index.js')).href;
    const script = join(dir, 'script.mjs');
    // A process whose only work left is the checkpoint thread must end; one that closes must end too.
    writeFileSync(script, `
      import { SqliteEventStore } from ${JSON.stringify(store)};
      const store = SqliteEventStore.open(process.argv[2], { backgroundCheckpoints: { intervalMs: 5 } });
      await store.append('s', [{ id: '00000000-0000-5000-8000-000000000001', type: 'T', data: {}, metadata: { correlationId: 'R' } }], 'no_stream');
      if (process.argv[3] === 'close') { await store.close(); await store.close(); }
      console.log('done');
    `);
    for (const mode of ['close', 'leave-open']) {
      const run = await runNode(script, [join(dir, `${mode}.db`), mode], { killAfterMs: 20_000 });
      expect({ mode, code: run.code, signal: run.signal, stdout: run.stdout.trim() }).toEqual({ mode, code: 0, signal: null, stdout: 'done' });
    }
  });
});
