// The SQLite event store with its commits on a writer thread (KEPLER_WRITER_THREAD=1 for serve): the same contract
// as on one connection, the same group commit, and an append never left waiting on a thread that
// died or a store that closed.
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { EventData } from '../../eventstore/index.js';
import { compiled } from '../support/compiled.js';
import { tempDir } from '../support/feed.js';

type SqliteModule = typeof import('../../eventstore/sqlite/index.js');
type Store = import('../../eventstore/sqlite/index.js').SqliteEventStore;

const dir = tempDir('kepler-writer-');
const open = async (name: string, options: { backgroundCheckpoints?: boolean } = {}): Promise<Store> => {
  const { SqliteEventStore } = await compiled<SqliteModule>('eventstore/sqlite/index.ts');
  return SqliteEventStore.open(join(dir, name), { writerThread: true, ...options });
};
const event = (n: number): EventData => ({ id: `00000000-0000-5000-8000-${String(n).padStart(12, '0')}`, type: 'Written', data: { n }, metadata: { correlationId: `REF-${n}` } });
/** The store's writer thread, reached into: only a test kills it. */
const writerThreadOf = (store: Store) => (store as unknown as { writer: { worker: Worker } | null }).writer?.worker ?? null;

// The contract from dist/ as well: its instanceof checks then see the errors of the same build.
const { eventStoreContract } = await compiled<typeof import('../../eventstore/contract.js')>('eventstore/contract.ts');
eventStoreContract('SQLite, commits on a writer thread', () => open('contract.db', { backgroundCheckpoints: true }));

describe('SQLite event store, commits on a writer thread', () => {
  it('commits on the thread, groups what arrives while a commit is in flight, and keeps order', async () => {
    const store = await open('groups.db');
    expect(writerThreadOf(store)).not.toBeNull();
    const appends = Array.from({ length: 200 }, (_, n) => store.append(`s-${n % 20}`, [event(n)], 'any'));
    const outcomes = await Promise.all(appends);
    // Positions in the order of the calls, every one taken once.
    expect(outcomes.map((o) => o.position)).toEqual(Array.from({ length: 200 }, (_, n) => n + 1));
    const all = await store.readAll(0, { maxCount: 1000 });
    expect(all.events.map((e: { data: unknown }) => (e.data as { n: number }).n)).toEqual(Array.from({ length: 200 }, (_, n) => n));
    // A conflict is an outcome, as on one connection.
    await expect(store.append('s-0', [event(999)], 'no_stream')).rejects.toThrow(/expected/i);
    await store.close();
  });

  it('wakes a follower after a commit, and the follower reads what was committed', async () => {
    const store = await open('follow.db');
    const subscription = store.subscribe(0);
    const seen: number[] = [];
    const reading = (async () => {
      for await (const batch of subscription) {
        seen.push(...batch.events.map((e: { data: unknown }) => (e.data as { n: number }).n));
        if (seen.length === 3) break;
      }
    })();
    await store.appendMany([1, 2, 3].map((n) => ({ stream: `f-${n}`, expectedRevision: 'no_stream' as const, events: [event(n)] })));
    await reading;
    await subscription.close();
    expect(seen).toEqual([1, 2, 3]);
    await store.close();
  });

  it('a writer thread that dies fails the commit in flight and every later append, with an error that says so', async () => {
    const store = await open('dies.db');
    await store.append('before', [event(1)], 'no_stream');
    const worker = writerThreadOf(store)!;
    const inFlight = store.append('during', [event(2)], 'no_stream');
    await new Promise((resolve) => setImmediate(resolve));
    await worker.terminate();
    // The thread may have committed it before it was stopped: either way the caller hears, and soon.
    const outcome = await Promise.race([
      inFlight.then(() => 'committed', (error: Error) => error.message),
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 5000)),
    ]);
    expect(outcome).toMatch(/committed|writer thread exited/);
    await expect(store.append('after', [event(3)], 'no_stream')).rejects.toThrow(/writer thread exited/);
    // Reads go on from the store's own connection.
    expect((await store.readStream('before')).length).toBe(1);
    await store.close();
  });

  it('closing answers the commit in flight, refuses what came after, and ends the thread', async () => {
    const store = await open('close.db');
    const worker = writerThreadOf(store)!;
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    const first = store.append('a', [event(1)], 'no_stream');
    // Let the first go to the thread, then queue one behind it and close.
    await new Promise((resolve) => setImmediate(resolve));
    const second = store.append('b', [event(2)], 'no_stream');
    const closing = store.close();
    await expect(first).resolves.toMatchObject({ position: 1 });
    await expect(second).rejects.toThrow(/closed/);
    await closing;
    await exited;
  });
});
