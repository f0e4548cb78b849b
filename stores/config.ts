// Which server each store port runs on, from a URL's scheme: what the CLI's
// configuration and a regression environment's file both describe.
import { resolve } from 'node:path';
import { redactUrl, wholeNumberSetting } from '../eventstore/index.js';

export interface PostgresSettings {
  /** Connections per pool; each process (and each worker thread) has its own pool. */
  poolSize?: number;
  statementTimeoutMs?: number;
  lockTimeoutMs?: number;
  connectTimeoutMs?: number;
}

/** Files of a TLS client: the CA to trust, and a client certificate and key where the server asks for one. */
export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

export type EventStoreConfig =
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; url: string; settings: PostgresSettings; migrate: boolean }
  | { kind: 'eventstoredb'; url: string; tls?: TlsFiles };

export type ReadStoreConfig =
  | { kind: 'sqlite'; path: string }
  | { kind: 'mongodb'; url: string; database: string; poolSize?: number; tls?: TlsFiles }
  | { kind: 'postgres'; url: string; settings: PostgresSettings; migrate: boolean };

export interface StoresConfig {
  eventStore: EventStoreConfig;
  readStore: ReadStoreConfig;
  /** How long opening a store waits for its server to answer before giving up with a clear error. */
  storeWaitMs?: number;
}

/** The stores part of a Kepler JSON config file. */
export interface StoresFileSettings {
  eventStore?: { url?: string; migrate?: boolean; tls?: TlsFiles } & PostgresSettings;
  readStore?: { url?: string; database?: string; migrate?: boolean; poolSize?: number; tls?: TlsFiles } & PostgresSettings;
  storeWaitMs?: number;
}

/**
 * The stores a file and the environment describe; without a URL, the embedded
 * SQLite files in `dataDir`. Environment variables win over the file.
 *
 * The event store is the environment's, shared by both blue/green slots; read
 * models are the slot's own, built by its own release: blue keeps the names it
 * always had (read.db, database kepler), green's are read-green.db and kepler-green
 * (a PostgreSQL read store: the URL's database with -green after it).
 */
export function storesConfig(file: StoresFileSettings, env: NodeJS.ProcessEnv, dataDir: string, slot: string = 'blue'): StoresConfig {
  const migrate = booleanFrom(env.KEPLER_MIGRATE_ON_START, 'KEPLER_MIGRATE_ON_START');
  const eventStoreUrl = env.KEPLER_EVENTSTORE_URL ?? file.eventStore?.url;
  const readStoreUrl = env.KEPLER_READSTORE_URL ?? env.KEPLER_MONGODB_URL ?? file.readStore?.url;
  const storeWaitMs = wholeNumberSetting(env.KEPLER_STORE_WAIT_MS, 'KEPLER_STORE_WAIT_MS') ?? file.storeWaitMs;
  return {
    eventStore: eventStoreConfig(eventStoreUrl, file.eventStore ?? {}, migrate, dataDir),
    readStore: readStoreConfig(readStoreUrl, file.readStore ?? {}, env, migrate, dataDir, slot),
    ...(storeWaitMs !== undefined && { storeWaitMs }),
  };
}

function eventStoreConfig(url: string | undefined, file: NonNullable<StoresFileSettings['eventStore']>, migrate: boolean | undefined, dataDir: string): EventStoreConfig {
  if (!url) return { kind: 'sqlite', path: resolve(dataDir, 'events.db') };
  if (isPostgres(url)) return { kind: 'postgres', url, settings: postgresSettings(file), migrate: migrate ?? file.migrate ?? true };
  if (url.startsWith('esdb:') || url.startsWith('esdb+discover:')) return { kind: 'eventstoredb', url, ...(file.tls && { tls: file.tls }) };
  throw new Error(`the event store URL must start with postgres://, esdb:// or esdb+discover://, not "${url.split(':')[0]}:"`);
}

function readStoreConfig(
  url: string | undefined,
  file: NonNullable<StoresFileSettings['readStore']>,
  env: NodeJS.ProcessEnv,
  migrate: boolean | undefined,
  dataDir: string,
  slot: string,
): ReadStoreConfig {
  const suffix = slot === 'blue' ? '' : `-${slot}`;
  if (!url) return { kind: 'sqlite', path: resolve(dataDir, `read${suffix}.db`) };
  if (isPostgres(url)) return { kind: 'postgres', url: withDatabaseSuffix(url, suffix), settings: postgresSettings(file), migrate: migrate ?? file.migrate ?? true };
  if (url.startsWith('mongodb:') || url.startsWith('mongodb+srv:')) {
    const poolSize = wholeNumberSetting(env.KEPLER_MONGODB_POOL_SIZE, 'KEPLER_MONGODB_POOL_SIZE') ?? file.poolSize;
    const database = env.KEPLER_MONGODB_DATABASE ?? file.database ?? `kepler${suffix}`;
    return { kind: 'mongodb', url, database, ...(poolSize !== undefined && { poolSize }), ...(file.tls && { tls: file.tls }) };
  }
  throw new Error(`the read store URL must start with postgres:// or mongodb://, not "${url.split(':')[0]}:"`);
}

/** The URL with `suffix` after its database name (an empty suffix leaves it as it is). */
function withDatabaseSuffix(url: string, suffix: string): string {
  if (suffix === '') return url;
  const parsed = new URL(url);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || parsed.username || 'postgres';
  parsed.pathname = `/${encodeURIComponent(database + suffix)}`;
  return parsed.toString();
}

function isPostgres(url: string): boolean {
  return url.startsWith('postgres:') || url.startsWith('postgresql:');
}

function postgresSettings(file: PostgresSettings): PostgresSettings {
  const { poolSize, statementTimeoutMs, lockTimeoutMs, connectTimeoutMs } = file;
  return {
    ...(poolSize !== undefined && { poolSize }),
    ...(statementTimeoutMs !== undefined && { statementTimeoutMs }),
    ...(lockTimeoutMs !== undefined && { lockTimeoutMs }),
    ...(connectTimeoutMs !== undefined && { connectTimeoutMs }),
  };
}

/** Where a store is, without credentials: for logs, reports and errors. */
export function describeStore(config: EventStoreConfig | ReadStoreConfig): string {
  if (config.kind === 'sqlite') return `sqlite:${config.path}`;
  const url = redactUrl(config.url);
  return config.kind === 'mongodb' ? `${url} (database ${config.database})` : url;
}

function booleanFrom(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  if (['1', 'true', 'yes'].includes(value.toLowerCase())) return true;
  if (['0', 'false', 'no'].includes(value.toLowerCase())) return false;
  throw new Error(`${name} is 1 or 0, not "${value}"`);
}

