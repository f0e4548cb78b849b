import { readFileSync } from 'node:fs';
import { parsePartition } from '../processors/partition.js';
import { resolve } from 'node:path';

export type EventStoreConfig = { kind: 'sqlite'; path: string } | { kind: 'eventstoredb'; url: string };
export type ReadStoreConfig = { kind: 'sqlite'; path: string } | { kind: 'mongodb'; url: string; database: string };

export const ROLES = ['ingestion', 'processors', 'projections', 'command-api', 'query-api', 'publisher'] as const;
export type Role = (typeof ROLES)[number];

export interface AmqpConfig {
  url: string;
  /** Names of exchanges and queues start with this. */
  prefix: string;
  /** Blue/green deployment slot this process belongs to. */
  slot: 'blue' | 'green';
  /** RabbitMQ's management API (queue figures); by default the AMQP host on 15672 with the same credentials. */
  managementUrl?: string;
}

export interface KeplerConfig {
  dataDir: string;
  /** What this process runs; all of them by default. */
  roles: readonly Role[];
  /** This process's share when several processes run the same roles: i/n. */
  partition: { index: number; count: number };
  amqp: AmqpConfig | null;
  http: { host: string; port: number };
  eventStore: EventStoreConfig;
  readStore: ReadStoreConfig;
  /** Run the projections of a process on a worker thread (a second core). */
  projectionsThread: boolean;
  /** How long a query with minPosition waits for the read model before answering 503. */
  readYourWritesTimeoutMs: number;
  /** GET /health/ready fails once a follower's oldest unhandled event is older than this. */
  readyMaxGapSeconds: number;
}

export interface ConfigOverrides {
  dataDir?: string;
  port?: number;
  configFile?: string;
  roles?: string;
  partition?: string;
}

interface ConfigFile {
  dataDir?: string;
  roles?: string[];
  partition?: string;
  amqp?: { url?: string; prefix?: string; slot?: string; managementUrl?: string };
  http?: { host?: string; port?: number };
  eventStore?: { url?: string };
  readStore?: { url?: string; database?: string };
}

/**
 * Embedded defaults, then a JSON config file, then environment variables, then
 * command-line flags. A store URL switches its port to the real server:
 * esdb://… for EventStoreDB, mongodb://… for MongoDB.
 */
export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): KeplerConfig {
  const file: ConfigFile = overrides.configFile ?? env.KEPLER_CONFIG ? readConfigFile(overrides.configFile ?? env.KEPLER_CONFIG!) : {};
  const dataDir = resolve(overrides.dataDir ?? env.KEPLER_DATA_DIR ?? file.dataDir ?? './data');
  const port = overrides.port ?? numberFrom(env.KEPLER_PORT ?? env.PORT) ?? file.http?.port ?? 3000;
  const host = env.KEPLER_HOST ?? file.http?.host ?? 'localhost';
  const eventStoreUrl = env.KEPLER_EVENTSTORE_URL ?? file.eventStore?.url;
  const readStoreUrl = env.KEPLER_MONGODB_URL ?? file.readStore?.url;
  const amqpUrl = env.KEPLER_AMQP_URL ?? file.amqp?.url;
  const slot = env.KEPLER_SLOT ?? file.amqp?.slot ?? 'blue';
  if (slot !== 'blue' && slot !== 'green') throw new Error(`KEPLER_SLOT is blue or green, not "${slot}"`);
  return {
    dataDir,
    roles: parseRoles(overrides.roles ?? env.KEPLER_ROLES ?? file.roles?.join(',')),
    partition: parsePartition(overrides.partition ?? env.KEPLER_PARTITION ?? file.partition ?? '0/1'),
    amqp: amqpUrl ? { url: amqpUrl, prefix: env.KEPLER_AMQP_PREFIX ?? file.amqp?.prefix ?? 'kepler', slot, ...managementUrl(env, file) } : null,
    http: { host, port },
    eventStore: eventStoreUrl ? { kind: 'eventstoredb', url: eventStoreUrl } : { kind: 'sqlite', path: resolve(dataDir, 'events.db') },
    readStore: readStoreUrl
      ? { kind: 'mongodb', url: readStoreUrl, database: env.KEPLER_MONGODB_DATABASE ?? file.readStore?.database ?? 'kepler' }
      : { kind: 'sqlite', path: resolve(dataDir, 'read.db') },
    readYourWritesTimeoutMs: numberFrom(env.KEPLER_READ_YOUR_WRITES_TIMEOUT_MS) ?? 5000,
    projectionsThread: env.KEPLER_PROJECTIONS_THREAD !== '0',
    readyMaxGapSeconds: numberFrom(env.KEPLER_READY_MAX_GAP_SECONDS) ?? 120,
  };
}

function managementUrl(env: NodeJS.ProcessEnv, file: ConfigFile): { managementUrl?: string } {
  const url = env.KEPLER_AMQP_MANAGEMENT_URL ?? file.amqp?.managementUrl;
  return url ? { managementUrl: url } : {};
}

function parseRoles(text: string | undefined): readonly Role[] {
  if (text === undefined || text.trim() === '' || text.trim() === 'all') return ROLES;
  const roles = text.split(',').map((r) => r.trim());
  const unknown = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (unknown.length > 0) throw new Error(`unknown role ${unknown.join(', ')}; the roles are ${ROLES.join(', ')}`);
  return roles as Role[];
}

function readConfigFile(path: string): ConfigFile {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ConfigFile;
  } catch (error) {
    throw new Error(`cannot read config file ${path}: ${(error as Error).message}`);
  }
}

function numberFrom(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`not a whole number: ${value}`);
  return n;
}
