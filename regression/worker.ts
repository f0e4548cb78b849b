// Worker-thread entry: owns some shards and runs a ShardProcessor on them.
// The engine talks to it through WorkerClient (engine.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { openReadStore } from '../stores/index.js';
import type { ReadStore } from '../readstore/index.js';
import { NO_DOCS, ReadModelAccess, type EnvironmentRef } from './environment.js';
import { loadReconcilerModules } from './loader.js';
import { ShardProcessor } from './shards.js';
import type { Timing } from './verdict.js';

export interface WorkerInit {
  shards: Array<[number, string]>;
  modules: string[];
  reconcilers: string[];
  prod: EnvironmentRef;
  uat: EnvironmentRef;
  timing: Timing;
  pageSize?: number;
}

export type WorkerRequest =
  | { id: number; op: 'checkpoints' }
  | { id: number; op: 'ingest'; side: 'prod' | 'uat'; items: Record<number, import('./store.js').IngestItem[]>; upTo: number; now: number }
  | { id: number; op: 'judge'; now: number; final: boolean }
  | { id: number; op: 'rejudge'; names: string[]; force: boolean }
  | { id: number; op: 'close' };

export type WorkerResponse = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('regression worker: not in a worker thread');
  const init = workerData as WorkerInit;
  const loaded = await loadReconcilerModules(init.modules);
  const wanted = new Set(init.reconcilers);
  const reconcilers = loaded.reconcilers.filter((r) => wanted.has(r.name));
  const opened: ReadStore[] = [];
  const docsOf = async (ref: EnvironmentRef) => {
    if (!ref.readStore) return NO_DOCS;
    const reads = await openReadStore(ref.readStore);
    opened.push(reads);
    return new ReadModelAccess(reads);
  };
  const processor = new ShardProcessor({
    shards: new Map(init.shards),
    reconcilers,
    docs: { prod: await docsOf(init.prod), uat: await docsOf(init.uat) },
    timing: init.timing,
    ...(init.pageSize !== undefined && { pageSize: init.pageSize }),
  });
  port.on('message', (request: WorkerRequest) => {
    const run = async (): Promise<unknown> => {
      switch (request.op) {
        case 'checkpoints':
          return processor.checkpoints();
        case 'ingest':
          return processor.ingest(request.side, request.items, request.upTo, request.now);
        case 'judge':
          return processor.judge(request.now, request.final);
        case 'rejudge':
          return processor.rejudge(request.names, request.force);
        case 'close':
          await processor.close();
          for (const reads of opened) await reads.close();
          return null;
      }
    };
    run().then(
      (value) => port.postMessage({ id: request.id, ok: true, value } satisfies WorkerResponse),
      (error: unknown) => port.postMessage({ id: request.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies WorkerResponse),
    );
  });
  port.postMessage({ id: 0, ok: true, value: 'ready' } satisfies WorkerResponse);
}

main().catch((error: unknown) => {
  parentPort?.postMessage({ id: 0, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies WorkerResponse);
});
