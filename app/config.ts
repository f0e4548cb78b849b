import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export type EventStoreConfig = { kind: 'sqlite'; path: string } | { kind: 'eventstoredb'; url: string };
export type ReadStoreConfig = { kind: 'sqlite'; path: string } | { kind: 'mongodb'; url: string; database: string };

export interface KeplerConfig {
  dataDir: string;
  http: { host: string; port: number };
  eventStore: EventStoreConfig;
  readStore: ReadStoreConfig;
  /** How long a query with minPosition waits for the read model before answering 503. */
  readYourWritesTimeoutMs: number;
}

export interface ConfigOverrides {
  dataDir?: string;
  port?: number;
  configFile?: string;
}

interface ConfigFile {
  dataDir?: string;
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
  return {
    dataDir,
    http: { host, port },
    eventStore: eventStoreUrl ? { kind: 'eventstoredb', url: eventStoreUrl } : { kind: 'sqlite', path: resolve(dataDir, 'events.db') },
    readStore: readStoreUrl
      ? { kind: 'mongodb', url: readStoreUrl, database: env.KEPLER_MONGODB_DATABASE ?? file.readStore?.database ?? 'kepler' }
      : { kind: 'sqlite', path: resolve(dataDir, 'read.db') },
    readYourWritesTimeoutMs: numberFrom(env.KEPLER_READ_YOUR_WRITES_TIMEOUT_MS) ?? 5000,
  };
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
