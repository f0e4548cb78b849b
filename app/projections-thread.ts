// A worker thread that runs the projections of a `serve` process, so that they
// and the processors use two cores. It opens its own connections to the stores
// and keeps its own durable checkpoints; the main thread sees them through those.
import { parentPort, workerData } from 'node:worker_threads';
import type { KeplerConfig } from './config.js';
import { createLogger } from './logger.js';
import { Platform } from './platform.js';
import { openEventStore, openReadStore, waitingOptions } from './stores.js';

export type ToProjectionsThread = { type: 'stop' };
export type FromProjectionsThread = { type: 'started' } | { type: 'stopped' } | { type: 'failed'; message: string };

const config = workerData as KeplerConfig;
const logger = createLogger('kepler-projections');
const events = await openEventStore(config.eventStore, waitingOptions(config, logger));
const reads = await openReadStore(config.readStore, waitingOptions(config, logger));
const platform = new Platform(events, reads, logger, { processors: false, projections: true, partition: config.partition });
const post = (message: FromProjectionsThread) => parentPort!.postMessage(message);

await platform.start((error) => {
  post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
post({ type: 'started' });

parentPort!.on('message', (message: ToProjectionsThread) => {
  if (message.type !== 'stop') return;
  void (async () => {
    await platform.stop();
    await reads.close();
    await events.close();
    post({ type: 'stopped' });
    parentPort!.close();
  })();
});
