import { Worker } from 'node:worker_threads';
import type { ScopeMetrics } from '@opentelemetry/sdk-metrics';
import type { Logger } from 'pino';
import { CommandService, IdempotencyLedger, registerCommandApi } from '../command-api/index.js';
import { LiveReadModels, type ExceptionView } from '../projections/index.js';
import { createHttpServer, registerQueryApi } from '../query-api/index.js';
import type { EventStore } from '../eventstore/index.js';
import {
  addMetricSource,
  closeLogShipping,
  instrumentHttp,
  observePlatformState,
  observeReadiness,
  registerOperationalRoutes,
  serviceIdentity,
  startTelemetry,
  stopTelemetry,
  type ReadinessCheck,
} from '../telemetry/index.js';
import type { AmqpConfig, KeplerConfig, Role } from './config.js';
import { platformReadiness, platformStateSource, queueStatus } from './observability.js';
import { packageVersion } from './package-root.js';
import { Platform } from './platform.js';
import type { FromProjectionsThread, ToProjectionsThread } from './projections-thread.js';
import { openEventStore, openReadStore } from './stores.js';

export interface RunningPlatform {
  platform: Platform;
  url: string;
  stop(): Promise<void>;
}

/** The whole platform in one process: followers of the event store and the HTTP APIs. */
export async function startPlatform(config: KeplerConfig, logger: Logger): Promise<RunningPlatform> {
  await startTelemetry(serviceIdentity({ version: packageVersion(), roles: config.roles, ...(config.amqp && { slot: config.amqp.slot }) }));
  const events = await openEventStore(config.eventStore);
  const reads = await openReadStore(config.readStore);
  const has = (role: Role) => config.roles.includes(role);
  const projectionsThread = has('projections') && config.projectionsThread ? await startProjectionsThread(config, logger) : null;
  const platform = new Platform(events, reads, logger, {
    processors: has('processors'),
    projections: has('projections') && !projectionsThread,
    partition: config.partition,
  });
  const app = await createHttpServer(logger);
  instrumentHttp(app);
  const models = new LiveReadModels(reads);
  if (has('command-api')) {
    const findException = async (id: string) => (await reads.get(await models.collection('exceptions'), id)) as ExceptionView | null;
    registerCommandApi(app, { commands: new CommandService(events, findException), ledger: new IdempotencyLedger(events) });
  }
  const messaging = config.amqp ? await startMessaging(config.amqp, events, logger, { consume: has('ingestion'), publish: has('publisher') }) : null;
  const queues = config.amqp ? queueStatus(config.amqp) : null;
  // Said once per figure and reason, not at every scrape.
  const reported = new Set<string>();
  const stopObserving = observePlatformState(
    platformStateSource(platform, reads, queues, (what, error) => {
      const key = `${what}: ${error instanceof Error ? error.message : String(error)}`;
      if (reported.has(key)) return;
      reported.add(key);
      logger.warn({ err: error, figure: what }, 'a platform-state figure could not be derived (said once)');
    }),
  );
  const stopThreadMetrics = projectionsThread ? addMetricSource('projections', () => projectionsThread.metrics()) : null;
  const ready = () =>
    platformReadiness(platform, events, reads, {
      maxGapSeconds: config.readyMaxGapSeconds,
      projectionsThread: projectionsThread && { running: projectionsThread.running },
      others: messaging?.checks() ?? [],
    });
  registerOperationalRoutes(app, { ready });
  const stopObservingReadiness = observeReadiness(ready);
  // /status is always served, so every process can be watched; the queries only where the role says.
  registerQueryApi(app, {
    queries: has('query-api'),
    reads,
    logger,
    // The broker's state is shown beside the subscriptions, so caughtUp does not depend on it.
    status: async () => ({
      ...(await platform.status()),
      ...(messaging && { messaging: messaging.status() }),
      ...(queues && { queues: await queues.report() }),
    }),
    waitForPosition: (projection, position, timeoutMs) => platform.waitForPosition(projection, position, timeoutMs),
    readYourWritesTimeoutMs: config.readYourWritesTimeoutMs,
  });

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      await app.close();
      stopObserving();
      stopObservingReadiness();
      stopThreadMetrics?.();
      await messaging?.stop();
      await platform.stop();
      await projectionsThread?.stop();
      await reads.close();
      await events.close();
      await stopTelemetry();
      // Last, so that the lines stopping wrote are shipped too.
      await closeLogShipping();
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
  readonly running: boolean;
  /** The thread's own metrics, for this process's /metrics. */
  metrics(): Promise<ScopeMetrics[]>;
}

/** Projections on a second core: a worker thread with its own store connections. */
async function startProjectionsThread(config: KeplerConfig, logger: Logger): Promise<ProjectionsThread> {
  const worker = new Worker(new URL('./projections-thread.js', import.meta.url), { workerData: config });
  let failed: (error: unknown) => void = (error) => logger.fatal({ err: error }, 'projections thread failed');
  let stopping = false;
  let exited = false;
  let asked = 0;
  const answers = new Map<number, (scopes: ScopeMetrics[]) => void>();
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (message: FromProjectionsThread) => {
      if (message.type === 'started') resolve();
      if (message.type === 'failed') failed(new Error(`projections: ${message.message}`));
      if (message.type === 'metrics') {
        answers.get(message.id)?.(message.scopes);
        answers.delete(message.id);
      }
    });
  });
  worker.on('error', (error) => failed(error));
  worker.on('exit', (code) => {
    exited = true;
    for (const answer of answers.values()) answer([]);
    answers.clear();
    if (!stopping) failed(new Error(`projections thread exited with ${code}`));
  });
  return {
    onFailure: (handler) => (failed = handler),
    get running() {
      return !exited;
    },
    metrics: () => {
      if (exited || stopping) return Promise.resolve([]);
      const id = ++asked;
      return new Promise((resolve) => {
        answers.set(id, resolve);
        worker.postMessage({ type: 'collect-metrics', id } satisfies ToProjectionsThread);
      });
    },
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
  /** Readiness: the consumer and the publisher are connected. */
  checks(): ReadinessCheck[];
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
    checks: () => [
      ...(consumer ? [connectedCheck('amqp:feed-consumer', consumer.status)] : []),
      ...(publisher ? [connectedCheck('amqp:publisher', publisher.status)] : []),
    ],
    stop: async () => {
      await Promise.all([consumer?.stop(), publisher?.stop()]);
    },
  };
}

function connectedCheck(name: string, status: { connected: boolean; lastError: string | null }): ReadinessCheck {
  return { name, ok: status.connected, ...(!status.connected && { detail: status.lastError ?? 'not connected yet' }) };
}
