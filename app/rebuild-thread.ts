// A worker thread that rebuilds one read model, so that `kepler rebuild` builds
// several at once on as many cores. It opens its own store connections.
import { parentPort, workerData } from 'node:worker_threads';
import { PROJECTIONS, rebuildProjection } from '../projections/index.js';
import type { KeplerConfig } from './config.js';
import { createLogger } from './logger.js';
import { openEventStore, openReadStore } from './stores.js';

export interface RebuildThreadInput {
  config: KeplerConfig;
  projection: string;
}
export type FromRebuildThread =
  | { type: 'progress'; position: number; head: number }
  | { type: 'rebuilt'; from: number; to: number; position: number }
  | { type: 'failed'; message: string };

const { config, projection: name } = workerData as RebuildThreadInput;
const post = (message: FromRebuildThread) => parentPort!.postMessage(message);
const projection = PROJECTIONS.find((p) => p.name === name)!;
const events = await openEventStore(config.eventStore);
const reads = await openReadStore(config.readStore);
try {
  const result = await rebuildProjection(events, reads, projection, createLogger('kepler-rebuild'), ({ position, head }) => post({ type: 'progress', position, head }));
  post({ type: 'rebuilt', ...result });
} catch (error) {
  post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
} finally {
  await reads.close();
  await events.close();
}
