import { readFile } from 'node:fs/promises';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { ScopeMetrics } from '@opentelemetry/sdk-metrics';
import type { Logger } from 'pino';
import { redactDeep } from '../authentication/index.js';
import { ApprovalService, CommandService, IdempotencyLedger, registerCommandApi } from '../command-api/index.js';
import { LiveReadModels, type ExceptionView } from '../projections/index.js';
import { createHttpServer, registerQueryApi } from '../query-api/index.js';
import type { EventStore } from '../eventstore/index.js';
import type { ReadStore } from '../readstore/index.js';
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
import { followScavenges } from './scavenges.js';
import { Platform } from './platform.js';
import type { AwaitedPosition, FromProjectionsThread, ProcessorsGap, ProjectionsThreadInput, ToProjectionsThread } from './projections-thread.js';
import { httpSecurity, refuseUnguardedListen, warnIfUnguarded } from './security.js';
import { amqpTls, openEventStore, openReadStore, waitingOptions } from './stores.js';
import { readRegistry, RegistryView } from '../slots/index.js';

export interface RunningPlatform {
  platform: Platform;
  url: string;
  stop(): Promise<void>;
}

/** The whole platform in one process: followers of the event store and the HTTP APIs. */
export async function startPlatform(config: KeplerConfig, logger: Logger): Promise<RunningPlatform> {
  refuseUnguardedListen(config);
  warnIfUnguarded(config, logger);
  await startTelemetry(serviceIdentity({ version: packageVersion(), roles: config.roles, slot: config.slot }));
  // The processors follow the whole store on this connection: read through SQLite's page cache, not mapped (see OpenOptions).
  const events = await openEventStore(config.eventStore, { ...waitingOptions(config, logger), memoryMapped: false });
  const reads = await openReadStore(config.readStore, waitingOptions(config, logger));
  const has = (role: Role) => config.roles.includes(role);
  // The slot registry: which slot is live and routed, read by the APIs, the publisher, the topology role and the gateway.
  const registry = new RegistryView(events);
  if (has('gateway')) return startGateway(config, logger, events, reads, registry);
  const projectionsThread = has('projections') && config.projectionsThread ? await startProjectionsThread(config, logger) : null;
  const platform = new Platform(events, reads, logger, {
    processors: has('processors'),
    projections: has('projections') && !projectionsThread,
    partition: config.partition,
    slot: config.slot,
    ...(config.catchUpStalenessMs !== undefined && { catchUpStalenessMs: config.catchUpStalenessMs }),
    ...(projectionsThread && { awaitElsewhere: (projection: string, position: number) => projectionsThread.awaitPosition(projection, position) }),
    ...(projectionsThread && { tellProcessorsGap: (events: number) => projectionsThread.processorsGap(events) }),
  });
  const app = await createHttpServer(logger, {
    https: config.http.tls && { cert: await readFile(config.http.tls.cert), key: await readFile(config.http.tls.key) },
    security: await httpSecurity(config, logger),
  });
  instrumentHttp(app);
  const models = new LiveReadModels(reads);
  if (has('command-api')) {
    const findException = async (id: string) => (await reads.get(await models.collection('exceptions'), id)) as ExceptionView | null;
    const commands = new CommandService(events, findException, { slot: config.slot, registry, partition: config.partition });
    // Four eyes needs two principals: with authentication off there are none.
    const approvals = config.auth ? new ApprovalService(events, commands) : undefined;
    registerCommandApi(app, { commands, ledger: new IdempotencyLedger(events), ...(approvals && { approvals }) });
  }
  const messaging = config.amqp
    ? await startMessaging(config.amqp, events, logger, { consume: has('ingestion'), publish: has('publisher'), topology: has('topology') }, registry)
    : null;
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
  // V8's scavenges in parallel while the followers catch up, alone at the head (see the module).
  const stopFollowingScavenges = followScavenges(async () => (await platform.status()).subscriptions);
  // /status is always served, so every process can be watched; the queries only where the role says.
  registerQueryApi(app, {
    queries: has('query-api'),
    reads,
    logger,
    // The broker's state is shown beside the subscriptions, so caughtUp does not depend on it.
    // Connection state may quote a URL: no password in it reaches a client.
    status: async () =>
      redactDeep({
        ...(await platform.status()),
        ...(messaging && { messaging: messaging.status() }),
        ...(queues && { queues: await queues.report() }),
      }),
    waitForPosition: (projection, position, timeoutMs) => platform.waitForPosition(projection, position, timeoutMs),
    readYourWritesTimeoutMs: config.readYourWritesTimeoutMs,
    ...(events.commitQueued && { commitQueued: events.commitQueued.bind(events) }),
  });

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      await app.close();
      stopObserving();
      stopObservingReadiness();
      stopFollowingScavenges();
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
  /** A request waits for a read model the thread writes to reach a position (read-your-writes). */
  awaitPosition(projection: string, position: number): void;
  /** How far this process's processors are behind the head: the thread's projections may hold at the head while that is far. */
  processorsGap(events: number): void;
}

/** Projections on a second core: a worker thread with its own store connections. */
async function startProjectionsThread(config: KeplerConfig, logger: Logger): Promise<ProjectionsThread> {
  // Read-your-writes requests say on a port of their own what they wait for, and the processors where they stand: the thread reads it at each batch (see projections-thread.ts).
  const awaits = new MessageChannel();
  awaits.port1.unref();
  const worker = new Worker(new URL('./projections-thread.js', import.meta.url), {
    workerData: { config, awaits: awaits.port2 } satisfies ProjectionsThreadInput,
    transferList: [awaits.port2],
  });
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
    awaitPosition: (projection, position) => {
      if (!exited && !stopping) awaits.port1.postMessage({ projection, position } satisfies AwaitedPosition);
    },
    processorsGap: (events) => {
      if (!exited && !stopping) awaits.port1.postMessage({ processorsGap: events } satisfies ProcessorsGap);
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

/** The CX1 feed over AMQP in, integration events out (one per slot), and the topology reconciler, as the roles say. */
async function startMessaging(
  amqp: AmqpConfig,
  events: EventStore,
  logger: Logger,
  roles: { consume: boolean; publish: boolean; topology: boolean },
  registry: RegistryView,
): Promise<Messaging | null> {
  if (!roles.consume && !roles.publish && !roles.topology) return null;
  const { FeedConsumer, IntegrationPublisher } = await import('../messaging/index.js');
  const tls = await amqpTls(amqp);
  const options = { url: amqp.url, store: events, slot: amqp.slot, prefix: amqp.prefix, logger, ...(tls && { tls }) };
  const consumer = roles.consume ? new FeedConsumer(options) : null;
  // The registry switches the publisher on and off: only the slots it names publish.
  const activation = async () => {
    const { routing, publishingSince } = await registry.current();
    return { active: routing.publishing === null || routing.publishing.includes(amqp.slot), since: publishingSince[amqp.slot] ?? null };
  };
  const publisher = roles.publish ? new IntegrationPublisher({ ...options, activation }) : null;
  const reconciler = roles.topology ? await startReconciler(amqp, events, logger) : null;
  // Both retry with backoff for as long as the broker is away; they never reject.
  void consumer?.run();
  void publisher?.run();
  return {
    status: () => ({ ...(consumer && { feed: consumer.status }), ...(publisher && { publisher: publisher.status }), ...(reconciler && { topology: reconciler.status }) }),
    checks: () => [
      ...(consumer ? [connectedCheck('amqp:feed-consumer', consumer.status)] : []),
      // A publisher the slot registry switched off (the idle slot's) holds no connection, and is ready so.
      ...(publisher ? [publisher.status.active ? connectedCheck('amqp:publisher', publisher.status) : { name: 'amqp:publisher', ok: true, detail: 'idle: the slot registry has it off' }] : []),
    ],
    stop: async () => {
      await Promise.all([consumer?.stop(), publisher?.stop(), reconciler?.stop()]);
    },
  };
}

async function startReconciler(amqp: AmqpConfig, events: EventStore, logger: Logger) {
  const { ManagementClient, TopologyReconciler, vhostOf } = await import('../topology/index.js');
  const tls = await amqpTls(amqp);
  const access = { amqpUrl: amqp.url, ...(tls && { tls }), management: new ManagementClient(amqp.managementUrl), vhost: vhostOf(amqp.url) };
  // Read afresh each time, not through a cache: a stale view would undo a cut-over's step for a moment.
  const reconciler = new TopologyReconciler({ access, prefix: amqp.prefix }, async () => (await readRegistry(events)).routing, { intervalMs: amqp.topologyIntervalMs, logger });
  reconciler.start();
  return reconciler;
}

/**
 * The gateway role: its own HTTP server in front of both slots' APIs (with the topology role beside
 * it, if asked), and the platform's edge: the same token check, rate limit, HTTPS and CORS as the APIs
 * (refuseUnguardedListen and warnIfUnguarded ran in startPlatform, before this).
 */
async function startGateway(config: KeplerConfig, logger: Logger, events: EventStore, reads: ReadStore, registry: RegistryView): Promise<RunningPlatform> {
  const other = config.roles.filter((role) => role !== 'gateway' && role !== 'topology');
  if (other.length > 0) throw new Error(`the gateway runs in a process of its own (with topology at most), not with ${other.join(', ')}`);
  const { createGateway, FORWARDED_ROUTE } = await import('../gateway/index.js');
  const security = await httpSecurity(config, logger, { forwardedRoutes: [FORWARDED_ROUTE] });
  const gateway = await createGateway({
    store: events,
    registry,
    upstreams: config.gateway.upstreams,
    logger,
    https: config.http.tls && { cert: await readFile(config.http.tls.cert), key: await readFile(config.http.tls.key) },
    security: (app) => security.register(app),
  });
  const stopObservingReadiness = observeReadiness(gateway.ready);
  const reconciler = config.amqp && config.roles.includes('topology') ? await startReconciler(config.amqp, events, logger) : null;
  const platform = new Platform(events, reads, logger, { processors: false, projections: false, partition: config.partition });
  const url = await gateway.app.listen({ host: config.http.host, port: config.http.port });
  let stopping: Promise<void> | null = null;
  return {
    platform,
    url,
    stop: () =>
      (stopping ??= (async () => {
        await gateway.app.close();
        stopObservingReadiness();
        await reconciler?.stop();
        await reads.close();
        await events.close();
        await stopTelemetry();
        await closeLogShipping();
      })()),
  };
}

function connectedCheck(name: string, status: { connected: boolean; lastError: string | null }): ReadinessCheck {
  return { name, ok: status.connected, ...(!status.connected && { detail: status.lastError ?? 'not connected yet' }) };
}
