// Test helpers for the regression engine: temporary stores, synthetic events, inline reconcilers.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore, type EventStore } from '../../eventstore/index.js';
import { SqliteReadStore } from '../../readstore/index.js';
import type { LoadedReconcilers } from '../../regression/loader.js';
import type { Reconciler } from '../../regression/reconciler.js';
import { RunStore, ShardStore } from '../../regression/store.js';

export function tempDir(prefix = 'kepler-regress-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function inline(...reconcilers: Reconciler[]): LoadedReconcilers {
  return { reconcilers, modules: [], origin: new Map() };
}

export interface Env {
  dir: string;
  events: SqliteEventStore;
  reads: SqliteReadStore;
  close(): Promise<void>;
}

export function openEnv(dir: string): Env {
  const events = SqliteEventStore.open(join(dir, 'events.db'));
  const reads = SqliteReadStore.open(join(dir, 'read.db'));
  return { dir, events, reads, close: async () => { await events.close(); await reads.close(); } };
}

export async function thing(store: EventStore, cid: string, data: Record<string, unknown>, type = 'ThingHappened'): Promise<void> {
  await store.append(`thing-${cid}`, [{ id: randomUUID(), type, data: { cid, ...data }, metadata: { correlationId: cid } }], 'any');
}

/** Every pair's current verdict and the number of verdict-log rows, across shards. */
export function verdictsOf(runDir: string): Map<string, { verdict: string; version: string | null; log: number; causes: string[] }> {
  const run = RunStore.open(runDir, { readonly: true });
  const out = new Map<string, { verdict: string; version: string | null; log: number; causes: string[] }>();
  try {
    const meta = run.meta()!;
    for (let s = 0; s < meta.shards; s++) {
      const shard = ShardStore.open(run.shardPath(s), { readonly: true });
      try {
        for (const row of shard.verdicts({ limit: 1_000_000 })) {
          const log = shard.verdictLog(row.reconciler, row.correlationId);
          out.set(`${row.reconciler}/${row.correlationId}`, { verdict: row.verdict, version: row.reconcilerVersion, log: log.length, causes: log.map((l) => l.cause) });
        }
      } finally {
        shard.close();
      }
    }
  } finally {
    run.close();
  }
  return out;
}

export function verdictMap(runDir: string): Record<string, string> {
  return Object.fromEntries([...verdictsOf(runDir)].map(([k, v]) => [k, v.verdict]));
}

export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
