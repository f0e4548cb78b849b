// The stores an end-to-end test runs Kepler on. Each layout makes fresh stores
// for one suite (a database, a FerretDB, a RabbitMQ prefix of its own) and gives
// the environment every kepler process of the suite runs with.
import { randomUUID } from 'node:crypto';
import { startFerretDb } from './ferretdb.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { tryStartServer } from './servers.js';

export interface Stores {
  env: NodeJS.ProcessEnv;
  /** The event store's database, when it is PostgreSQL. */
  database: TestDatabase | null;
  teardown(): Promise<void>;
}

export interface Layout {
  name: string;
  enabled: boolean;
  setup(): Promise<Stores>;
}

/** Whether the machine's PostgreSQL answers (skip locally, fail under KEPLER_REQUIRE_SERVERS=1). */
export async function postgresAvailable(): Promise<boolean> {
  const probe = await tryStartServer('PostgreSQL', async () => {
    const database = await createTestDatabase('probe');
    await database.drop();
    return true;
  });
  return probe === true;
}

/** Few connections per pool: several kepler processes and other test files share the server's 100. */
const POOL = 'pool_size=3';

export const SQLITE: Layout = {
  name: 'SQLite',
  enabled: true,
  setup: async () => ({ env: {}, database: null, teardown: async () => undefined }),
};

export function postgresEvents(enabled: boolean): Layout {
  return {
    name: 'PostgreSQL event store',
    enabled,
    setup: async () => {
      const database = await createTestDatabase('e2e');
      return { env: { KEPLER_EVENTSTORE_URL: `${database.url}?${POOL}` }, database, teardown: () => database.drop() };
    },
  };
}

export function postgresEverything(enabled: boolean): Layout {
  return {
    name: 'PostgreSQL event store and read models',
    enabled,
    setup: async () => {
      const database = await createTestDatabase('e2e');
      const url = `${database.url}?${POOL}`;
      return { env: { KEPLER_EVENTSTORE_URL: url, KEPLER_READSTORE_URL: url }, database, teardown: () => database.drop() };
    },
  };
}

/**
 * The production layout this repository tests: PostgreSQL for events, FerretDB
 * on PostgreSQL for the read models (MongoDB wire protocol), RabbitMQ for the
 * feed and the integration events.
 */
export function productionLayout(enabled: boolean, amqpUrl: string | undefined): Layout {
  return {
    name: 'production layout: PostgreSQL events, FerretDB on PostgreSQL, RabbitMQ',
    enabled: enabled && amqpUrl !== undefined,
    setup: async () => {
      const database = await createTestDatabase('e2e');
      const ferret = await startFerretDb({ postgresqlUrl: `${database.url}?pool_max_conns=20` }).catch(async (error: unknown) => {
        await database.drop();
        throw error;
      });
      const prefix = `kepler-test.layout.${randomUUID().slice(0, 8)}`;
      return {
        env: {
          KEPLER_EVENTSTORE_URL: `${database.url}?${POOL}`,
          KEPLER_MONGODB_URL: ferret.uri,
          KEPLER_MONGODB_DATABASE: 'kepler',
          KEPLER_AMQP_URL: amqpUrl!,
          KEPLER_AMQP_PREFIX: prefix,
        },
        database,
        teardown: async () => {
          await ferret.stop();
          await database.drop();
          const { deleteTopology, openConnection, topologyNames } = await import('../../messaging/index.js');
          const connection = await openConnection(amqpUrl!, 'kepler-test-cleanup');
          await deleteTopology(await connection.createChannel(), topologyNames(prefix));
          await connection.close();
        },
      };
    },
  };
}
