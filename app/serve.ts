import type { Logger } from 'pino';
import { CommandService, IdempotencyLedger, registerCommandApi } from '../command-api/index.js';
import { LiveReadModels, type ExceptionView } from '../projections/index.js';
import { createHttpServer, registerQueryApi } from '../query-api/index.js';
import type { KeplerConfig, Role } from './config.js';
import { Platform } from './platform.js';
import { openEventStore, openReadStore } from './stores.js';

export interface RunningPlatform {
  platform: Platform;
  url: string;
  stop(): Promise<void>;
}

/** The whole platform in one process: followers of the event store and the HTTP APIs. */
export async function startPlatform(config: KeplerConfig, logger: Logger): Promise<RunningPlatform> {
  const events = await openEventStore(config.eventStore);
  const reads = await openReadStore(config.readStore);
  const has = (role: Role) => config.roles.includes(role);
  const platform = new Platform(events, reads, logger, {
    processors: has('processors'),
    projections: has('projections'),
    partition: config.partition,
  });
  const app = await createHttpServer(logger);
  const models = new LiveReadModels(reads);
  if (has('command-api')) {
    const findException = async (id: string) => (await reads.get(await models.collection('exceptions'), id)) as ExceptionView | null;
    registerCommandApi(app, { commands: new CommandService(events, findException), ledger: new IdempotencyLedger(events) });
  }
  // /status is always served, so every process can be watched; the queries only where the role says.
  registerQueryApi(app, {
    queries: has('query-api'),
    reads,
    logger,
    status: () => platform.status(),
    waitForPosition: (projection, position, timeoutMs) => platform.waitForPosition(projection, position, timeoutMs),
    readYourWritesTimeoutMs: config.readYourWritesTimeoutMs,
  });

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      await app.close();
      await platform.stop();
      await reads.close();
      await events.close();
    })());

  await platform.start((error) => {
    logger.fatal({ err: error }, 'stopping: the platform cannot go on');
    void stop().finally(() => process.exit(1));
  });
  const address = await app.listen({ host: config.http.host, port: config.http.port });
  return { platform, url: address, stop };
}
