// From a postgres:// URL and Kepler's settings to a pg pool, and from pg's
// errors to the port's: what is busy, what is unreachable, what is a defect.
import pg from 'pg';
import { parse } from 'pg-connection-string';
import { StoreBusyError, StoreUnavailableError } from '../port.js';
import { wholeNumberSetting } from '../settings.js';
import { redactUrl } from '../urls.js';

export { redactUrl };

export interface PostgresOptions {
  /** Connections in the pool (URL `pool_size`). Default 10. */
  poolSize?: number;
  /** Server-side limit on any statement (URL `statement_timeout`, ms). Default 30 s. */
  statementTimeoutMs?: number;
  /** How long a write waits for another writer before StoreBusyError (URL `lock_timeout`, ms). Default 30 s. */
  lockTimeoutMs?: number;
  /** How long opening a connection, or waiting for a free one, may take (URL `connect_timeout`, s). Default 10 s. */
  connectTimeoutMs?: number;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
}

export interface ResolvedPostgresOptions {
  poolSize: number;
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  connectTimeoutMs: number;
  applicationName: string;
}

/** Kepler's own URL parameters; everything else is libpq's (sslmode, sslrootcert, options, ...). */
const KEPLER_PARAMETERS = ['pool_size', 'statement_timeout', 'lock_timeout'] as const;

/**
 * The pool configuration for a URL. TLS follows libpq's `sslmode` meanings
 * (`require` encrypts without checking the certificate, `verify-full` checks it
 * and the host name), not pg's older reading where `require` meant `verify-full`.
 */
export function poolConfig(url: string, options: PostgresOptions = {}): { config: pg.PoolConfig; resolved: ResolvedPostgresOptions } {
  const parsed = new URL(url);
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') throw new Error(`not a PostgreSQL URL: ${redactUrl(url)}`);
  const fromUrl = (name: string) => parsed.searchParams.get(name) ?? undefined;
  const resolved: ResolvedPostgresOptions = {
    poolSize: options.poolSize ?? wholeNumberSetting(fromUrl('pool_size'), 'pool_size') ?? 10,
    statementTimeoutMs: options.statementTimeoutMs ?? wholeNumberSetting(fromUrl('statement_timeout'), 'statement_timeout') ?? 30_000,
    lockTimeoutMs: options.lockTimeoutMs ?? wholeNumberSetting(fromUrl('lock_timeout'), 'lock_timeout') ?? 30_000,
    connectTimeoutMs: options.connectTimeoutMs ?? secondsToMs(wholeNumberSetting(fromUrl('connect_timeout'), 'connect_timeout')) ?? 10_000,
    applicationName: options.applicationName ?? fromUrl('application_name') ?? 'kepler',
  };
  if (resolved.poolSize < 1) throw new Error('pool_size must be at least 1');
  for (const name of [...KEPLER_PARAMETERS, 'connect_timeout']) parsed.searchParams.delete(name);
  const connection = parse(parsed.toString(), { useLibpqCompat: true });
  const config: pg.PoolConfig = {
    host: connection.host ?? undefined,
    port: connection.port ? Number(connection.port) : undefined,
    database: connection.database ?? undefined,
    user: connection.user,
    password: connection.password,
    ssl: connection.ssl as pg.PoolConfig['ssl'],
    ...(connection.options !== undefined && { options: connection.options }),
    application_name: resolved.applicationName,
    max: resolved.poolSize,
    connectionTimeoutMillis: resolved.connectTimeoutMs,
    // The server gives up on a statement first; the client's own limit is for a server that stopped answering.
    statement_timeout: resolved.statementTimeoutMs,
    query_timeout: resolved.statementTimeoutMs + 5_000,
    lock_timeout: resolved.lockTimeoutMs,
    // A client that vanished mid-transaction must not hold the append lock for long.
    idle_in_transaction_session_timeout: 60_000,
    // A connection the network dropped (the LISTEN one above all, which never sends) is noticed in about a minute, not two hours.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    idleTimeoutMillis: 30_000,
  };
  return { config, resolved };
}

// SQLSTATE classes and codes after which the same operation may succeed later.
const TRANSIENT_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '53400', '40001', '40P01', '08000', '08001', '08003', '08004', '08006', '08007', '57014']);
const TRANSIENT_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND']);
const TRANSIENT_MESSAGES = [/Connection terminated/i, /timeout exceeded when trying to connect/i, /Query read timeout/i, /connection is closed/i, /Client has encountered a connection error/i, /the database system is (starting|shutting) up/i];

const INVALID_CATALOG_NAME = '3D000';
/** Another process created it first: 42P04, or 23505 when both got as far as the catalogue. */
const ALREADY_CREATED = new Set(['42P04', '23505']);

/**
 * Runs `open`; if the database it names does not exist, creates it (through the
 * server's `postgres` database, as the same user) and runs `open` again. For a
 * process allowed to migrate its schema: a fresh database is a name away.
 */
export async function creatingDatabase<T>(config: pg.PoolConfig, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code !== INVALID_CATALOG_NAME || !config.database) throw error;
    const admin = new pg.Client({ ...config, database: 'postgres' });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE "${config.database.replaceAll('"', '""')}"`);
    } catch (createError) {
      if (!ALREADY_CREATED.has(String((createError as { code?: unknown }).code))) throw createError;
    } finally {
      await admin.end();
    }
    return open();
  }
}

/** SQLSTATE 55P03: lock_timeout expired while another writer held the append lock. */
export const LOCK_NOT_AVAILABLE = '55P03';

export function isTransient(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (TRANSIENT_SQLSTATES.has(code) || TRANSIENT_SOCKET_CODES.has(code))) return true;
  const message = error instanceof Error ? error.message : '';
  return TRANSIENT_MESSAGES.some((pattern) => pattern.test(message));
}

/** pg's error as the port's: busy, unavailable (with what was being done and where), or itself. */
export function toStoreError(error: unknown, doing: string, where: string): unknown {
  if ((error as { code?: unknown } | null)?.code === LOCK_NOT_AVAILABLE) return new StoreBusyError({ cause: error });
  if (error instanceof StoreUnavailableError || !isTransient(error)) return error;
  return new StoreUnavailableError(`PostgreSQL at ${where} did not ${doing}: ${(error as Error).message}`, { cause: error });
}

function secondsToMs(value: number | undefined): number | undefined {
  return value === undefined ? undefined : value * 1000;
}
