// A worker thread that runs the projections of a `serve` process, so that they
// and the processors use two cores. It opens its own connections to the stores
// and keeps its own durable checkpoints; the main thread sees them through those.
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import type { ScopeMetrics } from '@opentelemetry/sdk-metrics';
import { closeLogShipping, collectThreadMetrics, serviceIdentity, startTelemetry, stopTelemetry } from '../telemetry/index.js';
import type { KeplerConfig } from './config.js';
import { createLogger } from './logger.js';
import { packageVersion } from './package-root.js';
import { Platform } from './platform.js';
import { openEventStore, openReadStore, waitingOptions } from './stores.js';

export type ToProjectionsThread = { type: 'stop' } | { type: 'collect-metrics'; id: number };
/** What the thread is started with: the configuration, and the port the main thread's read-your-writes requests say what they wait for on. */
export interface ProjectionsThreadInput {
  config: KeplerConfig;
  awaits: MessagePort;
}
/** A request on the main thread waits for a read model to reach a position. */
export interface AwaitedPosition {
  projection: string;
  position: number;
}
/** How many events the main thread's processors are behind the head. */
export interface ProcessorsGap {
  processorsGap: number;
}
/** What the main thread says on the port the thread reads at each batch. */
export type ToProjectionsPort = AwaitedPosition | ProcessorsGap;
export type FromProjectionsThread = { type: 'started' } | { type: 'stopped' } | { type: 'failed'; message: string } | { type: 'metrics'; id: number; scopes: ScopeMetrics[] };

const { config, awaits } = workerData as ProjectionsThreadInput;
const slot = { slot: config.slot };
// The thread's own telemetry: its spans go out on their own; its metrics are asked for by the main thread at each scrape.
await startTelemetry(serviceIdentity({ version: packageVersion(), roles: config.roles, ...slot }));
const logger = createLogger('kepler-projections', { roles: config.roles, ...slot });
// Both stores are read from end to end here, as the projections follow and write: not mapped (see OpenOptions).
const events = await openEventStore(config.eventStore, { ...waitingOptions(config, logger), memoryMapped: false });
const reads = await openReadStore(config.readStore, { ...waitingOptions(config, logger), memoryMapped: false });
// The waits are taken from their port at each batch, not by a listener: a catch-up's batches follow one another
// in microtasks, and a message would be delivered only once it is over, when the request has given up.
// So is how far the main thread's processors are behind the head: a catch-up's projections hold at the head while that is far.
let processorsGap: number | undefined;
const hearPort = () => {
  for (let received = receiveMessageOnPort(awaits); received; received = receiveMessageOnPort(awaits)) {
    const message = received.message as ToProjectionsPort;
    if ('processorsGap' in message) processorsGap = message.processorsGap;
    else platform.awaitPosition(message.projection, message.position);
  }
};
const platform = new Platform(events, reads, logger, {
  processors: false,
  projections: true,
  partition: config.partition,
  hearPort,
  // Heard only where the main thread runs processors (it says nothing otherwise): none, and nothing is held at the head.
  processorsGap: () => processorsGap,
  ...(config.catchUpStalenessMs !== undefined && { catchUpStalenessMs: config.catchUpStalenessMs }),
});
const post = (message: FromProjectionsThread) => parentPort!.postMessage(message);

await platform.start((error) => {
  post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
post({ type: 'started' });

parentPort!.on('message', (message: ToProjectionsThread) => {
  if (message.type === 'collect-metrics') {
    void collectThreadMetrics().then((scopes) => post({ type: 'metrics', id: message.id, scopes }));
    return;
  }
  void (async () => {
    await platform.stop();
    await reads.close();
    await events.close();
    await stopTelemetry();
    await closeLogShipping();
    post({ type: 'stopped' });
    parentPort!.close();
  })();
});
