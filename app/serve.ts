import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { CommandService, IdempotencyLedger, registerCommandApi } from '../command-api/index.js';
import { LiveReadModels, type ExceptionView } from '../projections/index.js';
import { createHttpServer, registerQueryApi } from '../query-api/index.js';
import type { EventStore } from '../eventstore/index.js';
import { startTelemetry, stopTelemetry } from '../telemetry/index.js';
import type { AmqpConfig, KeplerConfig, Role } from './config.js';
import { Platform } from './platform.js';
import type { FromProjectionsThread, ToProjectionsThread } from './projections-thread.js';
import { openEventStore, openReadStore, waitingOptions } from './stores.js';

export interface RunningPlatform {
  platform: Platform;
  url: string;
  stop(): Promise<void>;
}

/** The whole platform in one process: followers of the event store and the HTTP APIs. */
export async function startPlatform(config: KeplerConfig, logger: Logger): Promise<RunningPlatform> {
  await startTelemetry('kepler');
  const events = await openEventStore(config.eventStore, waitingOptions(config, logger));
  const reads = await openReadStore(config.readStore, waitingOptions(config, logger));
  const has = (role: Role) => config.roles.includes(role);
  const projectionsThread = has('projections') && config.projectionsThread ? await startProjectionsThread(config, logger) : null;
  const platform = new Platform(events, reads, logger, {
    processors: has('processors'),
    projections: has('projections') && !projectionsThread,
    partition: config.partition,
  });
  const app = await createHttpServer(logger);
  const models = new LiveReadModels(reads);
  if (has('command-api')) {
    const findException = async (id: string) => (await reads.get(await models.collection('exceptions'), id)) as ExceptionView | null;
    registerCommandApi(app, { commands: new CommandService(events, findException), ledger: new IdempotencyLedger(events) });
  }
  const messaging = config.amqp ? await startMessaging(config.amqp, events, logger, { consume: has('ingestion'), publish: has('publisher') }) : null;
  // /status is always served, so every process can be watched; the queries only where the role says.
  registerQueryApi(app, {
    queries: has('query-api'),
    reads,
    logger,
    // The broker's state is shown beside the subscriptions, so caughtUp does not depend on it.
    status: async () => ({ ...(await platform.status()), ...(messaging && { messaging: messaging.status() }) }),
    waitForPosition: (projection, position, timeoutMs) => platform.waitForPosition(projection, position, timeoutMs),
    readYourWritesTimeoutMs: config.readYourWritesTimeoutMs,
  });

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      await app.close();
      await messaging?.stop();
      await platform.stop();
      await projectionsThread?.stop();
      await reads.close();
      await events.close();
      await stopTelemetry();
    })());

  const fail = (error: unknown) => {
    logger.fatal({ err: error }, 'stopping: the platform cannot go on');
    void stop().finally(() => process.exit(1));
  };
  projectionsThread?.onFailure(fail);
  await platform.start(fail);
  const address = await app.listen({ host: config.http.host, port: config.http.port });
  return { platform, url: address, stop };
}

interface ProjectionsThread {
  stop(): Promise<void>;
  onFailure(handler: (error: unknown) => void): void;
}

/** Projections on a second core: a worker thread with its own store connections. */
async function startProjectionsThread(config: KeplerConfig, logger: Logger): Promise<ProjectionsThread> {
  const worker = new Worker(new URL('./projections-thread.js', import.meta.url), { workerData: config });
  let failed: (error: unknown) => void = (error) => logger.fatal({ err: error }, 'projections thread failed');
  let stopping = false;
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (message: FromProjectionsThread) => {
      if (message.type === 'started') resolve();
      if (message.type === 'failed') failed(new Error(`projections: ${message.message}`));
    });
  });
  worker.on('error', (error) => failed(error));
  worker.on('exit', (code) => {
    if (!stopping) failed(new Error(`projections thread exited with ${code}`));
  });
  return {
    onFailure: (handler) => (failed = handler),
    stop: async () => {
      stopping = true;
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.postMessage({ type: 'stop' } satisfies ToProjectionsThread);
      await exited;
    },
  };
}

interface Messaging {
  status(): unknown;
  stop(): Promise<void>;
}

/** The CX1 feed over AMQP in, integration events out: one per slot, as the roles say. */
async function startMessaging(amqp: AmqpConfig, events: EventStore, logger: Logger, roles: { consume: boolean; publish: boolean }): Promise<Messaging | null> {
  if (!roles.consume && !roles.publish) return null;
  const { FeedConsumer, IntegrationPublisher } = await import('../messaging/index.js');
  const options = { url: amqp.url, store: events, slot: amqp.slot, prefix: amqp.prefix, logger };
  const consumer = roles.consume ? new FeedConsumer(options) : null;
  const publisher = roles.publish ? new IntegrationPublisher(options) : null;
  // Both retry with backoff for as long as the broker is away; they never reject.
  void consumer?.run();
  void publisher?.run();
  return {
    status: () => ({ ...(consumer && { feed: consumer.status }), ...(publisher && { publisher: publisher.status }) }),
    stop: async () => {
      await Promise.all([consumer?.stop(), publisher?.stop()]);
    },
  };
}
