import { readFileSync } from 'node:fs';
import { parsePartition } from '../processors/partition.js';
import { resolve } from 'node:path';
import { storesConfig, type EventStoreConfig, type ReadStoreConfig, type StoresFileSettings } from '../stores/config.js';

export type { EventStoreConfig, ReadStoreConfig } from '../stores/config.js';

export const ROLES = ['ingestion', 'processors', 'projections', 'command-api', 'query-api', 'publisher'] as const;
export type Role = (typeof ROLES)[number];

export interface AmqpConfig {
  url: string;
  /** Names of exchanges and queues start with this. */
  prefix: string;
  /** Blue/green deployment slot this process belongs to. */
  slot: 'blue' | 'green';
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
  /** How long opening a store waits for its server (default 30 s). */
  storeWaitMs?: number;
  /** Run the projections of a process on a worker thread (a second core). */
  projectionsThread: boolean;
  /** How long a query with minPosition waits for the read model before answering 503. */
  readYourWritesTimeoutMs: number;
}

export interface ConfigOverrides {
  dataDir?: string;
  port?: number;
  configFile?: string;
  roles?: string;
  partition?: string;
}

interface ConfigFile extends StoresFileSettings {
  dataDir?: string;
  roles?: string[];
  partition?: string;
  amqp?: { url?: string; prefix?: string; slot?: string };
  http?: { host?: string; port?: number };
}

/**
 * Embedded defaults, then a JSON config file, then environment variables, then
 * command-line flags. A store URL switches its port to the real server:
 * postgres://… or esdb://… for events, postgres://… or mongodb://… for read models.
 */
export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): KeplerConfig {
  const file: ConfigFile = overrides.configFile ?? env.KEPLER_CONFIG ? readConfigFile(overrides.configFile ?? env.KEPLER_CONFIG!) : {};
  const dataDir = resolve(overrides.dataDir ?? env.KEPLER_DATA_DIR ?? file.dataDir ?? './data');
  const port = overrides.port ?? numberFrom(env.KEPLER_PORT ?? env.PORT) ?? file.http?.port ?? 3000;
  const host = env.KEPLER_HOST ?? file.http?.host ?? 'localhost';
  const amqpUrl = env.KEPLER_AMQP_URL ?? file.amqp?.url;
  const slot = env.KEPLER_SLOT ?? file.amqp?.slot ?? 'blue';
  if (slot !== 'blue' && slot !== 'green') throw new Error(`KEPLER_SLOT is blue or green, not "${slot}"`);
  return {
    dataDir,
    roles: parseRoles(overrides.roles ?? env.KEPLER_ROLES ?? file.roles?.join(',')),
    partition: parsePartition(overrides.partition ?? env.KEPLER_PARTITION ?? file.partition ?? '0/1'),
    amqp: amqpUrl ? { url: amqpUrl, prefix: env.KEPLER_AMQP_PREFIX ?? file.amqp?.prefix ?? 'kepler', slot } : null,
    http: { host, port },
    ...storesConfig(file, env, dataDir),
    readYourWritesTimeoutMs: numberFrom(env.KEPLER_READ_YOUR_WRITES_TIMEOUT_MS) ?? 5000,
    projectionsThread: env.KEPLER_PROJECTIONS_THREAD !== '0',
  };
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
