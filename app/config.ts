import { readFileSync } from 'node:fs';
import { parsePartition } from '../processors/partition.js';
import { resolve } from 'node:path';
import { checkAlgorithms, checkIssuer, checkPublicPaths, DEFAULT_ALGORITHMS, DEFAULT_ENTITLEMENTS_CLAIM, DEFAULT_PUBLIC_PATHS, type AuthConfig } from '../authentication/index.js';
import { storesConfig, type EventStoreConfig, type ReadStoreConfig, type StoresFileSettings, type TlsFiles } from '../stores/index.js';
import { wholeNumberSetting } from '../eventstore/index.js';

export type { EventStoreConfig, ReadStoreConfig, TlsFiles } from '../stores/index.js';

import { ROLES, SLOT_ROLES, type Role } from './roles.js';

export { ROLES, SLOT_ROLES, type Role } from './roles.js';
export type SlotName = 'blue' | 'green';

export interface AmqpConfig {
  url: string;
  /** Names of exchanges and queues start with this. */
  prefix: string;
  /** Blue/green deployment slot this process belongs to. */
  slot: SlotName;
  tls?: TlsFiles;
  /** RabbitMQ's management API, e.g. http://guest:guest@rabbit:15672 (the topology reconciler reads and writes through it). */
  managementUrl: string;
  /** How often the topology role looks for drift. */
  topologyIntervalMs: number;
}

export interface HttpConfig {
  host: string;
  port: number;
  /** HTTPS with these PEM files; plain HTTP when absent. */
  tls: { cert: string; key: string } | null;
  /** Origins allowed by CORS; null: CORS off. */
  corsOrigins: string[] | null;
  /** Requests per principal per window; null: no limit. */
  rateLimit: { max: number; windowMs: number } | null;
}

export interface KeplerConfig {
  dataDir: string;
  /** The blue/green slot this process belongs to (KEPLER_SLOT, default blue). */
  slot: SlotName;
  /** The gateway role: where each slot's HTTP API answers. */
  gateway: { upstreams: Partial<Record<SlotName, string>> };
  /** What this process runs; all of them by default. */
  roles: readonly Role[];
  /** This process's share when several processes run the same roles: i/n. */
  partition: { index: number; count: number };
  amqp: AmqpConfig | null;
  http: HttpConfig;
  /** Null: authentication is off (no issuer configured). */
  auth: AuthConfig | null;
  /** Served without a token: liveness, readiness and metrics by default. */
  publicPaths: string[];
  /** `serve --insecure`: listen beyond loopback although authentication is off. */
  insecure: boolean;
  eventStore: EventStoreConfig;
  readStore: ReadStoreConfig;
  /** How long opening a store waits for its server (default 30 s). */
  storeWaitMs?: number;
  /** Run the projections of a process on a worker thread (a second core). */
  projectionsThread: boolean;
  /** How long a query with minPosition waits for the read model before answering 503. */
  readYourWritesTimeoutMs: number;
  /**
   * The longest a live projection catching up holds what it projected unwritten (projections'
   * CATCH_UP_HOLD), when it must be shorter than the hold's own bound: see catchUpStalenessMs.
   */
  catchUpStalenessMs?: number;
  /** GET /health/ready fails once a follower's oldest unhandled event is older than this. */
  readyMaxGapSeconds: number;
}

export interface ConfigOverrides {
  dataDir?: string;
  port?: number;
  configFile?: string;
  roles?: string;
  partition?: string;
  insecure?: boolean;
  /** Settings given in place of a config file (a rendered deployment profile's). */
  settings?: ConfigFile;
}

export interface ConfigFile extends StoresFileSettings {
  dataDir?: string;
  roles?: string[];
  partition?: string;
  amqp?: { url?: string; prefix?: string; slot?: string; managementUrl?: string; topologyIntervalMs?: number; tls?: TlsFiles };
  gateway?: { blue?: string; green?: string };
  http?: { host?: string; port?: number; tls?: { cert?: string; key?: string }; cors?: { origins?: string[] }; rateLimit?: { max?: number; windowMs?: number } };
  auth?: {
    issuer?: string;
    audience?: string;
    algorithms?: string[];
    clockSkewSeconds?: number;
    entitlementsClaim?: string | null;
    publicPaths?: string[];
    jwksCooldownMs?: number;
    jwksCacheMaxAgeMs?: number;
  };
  readYourWritesTimeoutMs?: number;
  projectionsThread?: boolean;
  readyMaxGapSeconds?: number;
  /** Listen beyond loopback although authentication is off, as `serve --insecure` (a deployment profile's /insecure). */
  insecure?: boolean;
}

/** Requests per principal per minute when authentication is on and nothing else is configured. */
const DEFAULT_RATE_LIMIT_PER_MINUTE = 600;

/**
 * Embedded defaults, then a JSON config file, then environment variables, then
 * command-line flags. A store URL switches its port to the real server:
 * postgres://… or esdb://… for events, postgres://… or mongodb://… for read models.
 */
export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): KeplerConfig {
  const file: ConfigFile = overrides.settings ?? (overrides.configFile ?? env.KEPLER_CONFIG ? readConfigFile(overrides.configFile ?? env.KEPLER_CONFIG!) : {});
  const dataDir = resolve(overrides.dataDir ?? env.KEPLER_DATA_DIR ?? file.dataDir ?? './data');
  const port = overrides.port ?? wholeNumberSetting(env.KEPLER_PORT ?? env.PORT, env.KEPLER_PORT !== undefined ? 'KEPLER_PORT' : 'PORT') ?? file.http?.port ?? 3000;
  const host = env.KEPLER_HOST ?? file.http?.host ?? 'localhost';
  const amqpUrl = env.KEPLER_AMQP_URL ?? file.amqp?.url;
  const slot = env.KEPLER_SLOT ?? file.amqp?.slot ?? 'blue';
  if (slot !== 'blue' && slot !== 'green') throw new Error(`KEPLER_SLOT is blue or green, not "${slot}"`);
  const auth = authConfig(file, env);
  const config: KeplerConfig = {
    dataDir,
    slot,
    gateway: {
      upstreams: {
        ...((env.KEPLER_GATEWAY_BLUE_URL ?? file.gateway?.blue) && { blue: env.KEPLER_GATEWAY_BLUE_URL ?? file.gateway?.blue }),
        ...((env.KEPLER_GATEWAY_GREEN_URL ?? file.gateway?.green) && { green: env.KEPLER_GATEWAY_GREEN_URL ?? file.gateway?.green }),
      },
    },
    roles: parseRoles(overrides.roles ?? env.KEPLER_ROLES ?? file.roles?.join(',')),
    partition: parsePartition(overrides.partition ?? env.KEPLER_PARTITION ?? file.partition ?? '0/1'),
    amqp: amqpUrl
      ? {
          url: amqpUrl,
          prefix: env.KEPLER_AMQP_PREFIX ?? file.amqp?.prefix ?? 'kepler',
          slot,
          managementUrl: env.KEPLER_AMQP_MANAGEMENT_URL ?? file.amqp?.managementUrl ?? defaultManagementUrl(amqpUrl),
          topologyIntervalMs: wholeNumberSetting(env.KEPLER_TOPOLOGY_INTERVAL_MS, 'KEPLER_TOPOLOGY_INTERVAL_MS') ?? file.amqp?.topologyIntervalMs ?? 10_000,
          ...(file.amqp?.tls && { tls: file.amqp.tls }),
        }
      : null,
    http: httpConfig(host, port, file, env, auth !== null),
    auth,
    publicPaths: [...checkPublicPaths(listFrom(env.KEPLER_AUTH_PUBLIC_PATHS) ?? file.auth?.publicPaths ?? DEFAULT_PUBLIC_PATHS)],
    insecure: overrides.insecure ?? file.insecure ?? false,
    ...storesConfig(file, env, dataDir, slot),
    readYourWritesTimeoutMs: wholeNumberSetting(env.KEPLER_READ_YOUR_WRITES_TIMEOUT_MS, 'KEPLER_READ_YOUR_WRITES_TIMEOUT_MS') ?? file.readYourWritesTimeoutMs ?? 5000,
    projectionsThread: env.KEPLER_PROJECTIONS_THREAD === undefined ? (file.projectionsThread ?? true) : env.KEPLER_PROJECTIONS_THREAD !== '0',
    readyMaxGapSeconds: wholeNumberSetting(env.KEPLER_READY_MAX_GAP_SECONDS, 'KEPLER_READY_MAX_GAP_SECONDS') ?? file.readyMaxGapSeconds ?? 120,
  };
  return { ...config, ...unheardCatchUpStaleness(config, env) };
}

/** Authentication is on once an issuer is configured; it then needs an audience too. */
function authConfig(file: ConfigFile, env: NodeJS.ProcessEnv): AuthConfig | null {
  const issuer = env.KEPLER_AUTH_ISSUER || file.auth?.issuer;
  if (!issuer) return null;
  const audience = env.KEPLER_AUTH_AUDIENCE || file.auth?.audience;
  if (!audience) throw new Error('KEPLER_AUTH_ISSUER is set but KEPLER_AUTH_AUDIENCE is not: tokens must be checked for the audience they were issued to');
  const claim = env.KEPLER_AUTH_ENTITLEMENTS_CLAIM ?? file.auth?.entitlementsClaim;
  return {
    issuer: checkIssuer(issuer),
    audience,
    algorithms: checkAlgorithms(listFrom(env.KEPLER_AUTH_ALGORITHMS) ?? file.auth?.algorithms ?? [...DEFAULT_ALGORITHMS]),
    clockSkewSeconds: wholeNumberSetting(env.KEPLER_AUTH_CLOCK_SKEW_SECONDS, 'KEPLER_AUTH_CLOCK_SKEW_SECONDS') ?? file.auth?.clockSkewSeconds ?? 30,
    // An empty name (or null in the file) turns entitlements off: every valid token sees every account.
    entitlementsClaim: claim === undefined ? DEFAULT_ENTITLEMENTS_CLAIM : claim === null || claim === '' ? null : claim,
    jwksCooldownMs: wholeNumberSetting(env.KEPLER_AUTH_JWKS_COOLDOWN_MS, 'KEPLER_AUTH_JWKS_COOLDOWN_MS') ?? file.auth?.jwksCooldownMs ?? 30_000,
    jwksCacheMaxAgeMs: file.auth?.jwksCacheMaxAgeMs ?? 600_000,
  };
}

function httpConfig(host: string, port: number, file: ConfigFile, env: NodeJS.ProcessEnv, authenticated: boolean): HttpConfig {
  const cert = env.KEPLER_HTTPS_CERT ?? file.http?.tls?.cert;
  const key = env.KEPLER_HTTPS_KEY ?? file.http?.tls?.key;
  if ((cert === undefined) !== (key === undefined)) throw new Error('HTTPS needs both a certificate and a key (KEPLER_HTTPS_CERT, KEPLER_HTTPS_KEY)');
  const perMinute = wholeNumberSetting(env.KEPLER_RATE_LIMIT, 'KEPLER_RATE_LIMIT');
  const rateLimit =
    perMinute !== undefined
      ? perMinute > 0 ? { max: perMinute, windowMs: 60_000 } : null
      : file.http?.rateLimit?.max !== undefined
        ? file.http.rateLimit.max > 0 ? { max: file.http.rateLimit.max, windowMs: file.http.rateLimit.windowMs ?? 60_000 } : null
        : authenticated ? { max: DEFAULT_RATE_LIMIT_PER_MINUTE, windowMs: 60_000 } : null;
  return {
    host,
    port,
    tls: cert !== undefined && key !== undefined ? { cert: resolve(cert), key: resolve(key) } : null,
    corsOrigins: listFrom(env.KEPLER_CORS_ORIGINS) ?? file.http?.cors?.origins ?? null,
    rateLimit,
  };
}

function listFrom(text: string | undefined): string[] | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  return text.split(',').map((item) => item.trim()).filter(Boolean);
}

/** The management API beside an AMQP URL: same host and credentials, port 15672. */
export function defaultManagementUrl(amqpUrl: string): string {
  const amqp = new URL(amqpUrl);
  const management = new URL(`http://${amqp.hostname.includes(':') ? `[${amqp.hostname}]` : amqp.hostname}:15672`);
  management.username = amqp.username || 'guest';
  management.password = amqp.password || 'guest';
  return management.toString();
}

function parseRoles(text: string | undefined): readonly Role[] {
  if (text === undefined || text.trim() === '' || text.trim() === 'all') return SLOT_ROLES;
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


/**
 * A process that runs projections without the query API cannot hear the read-your-writes requests of the
 * query processes, which wait by polling the stored checkpoint, and a catching-up projection moves it only
 * when it writes what it holds: held longer than those requests wait, a position already projected would
 * be answered 503. There, unless KEPLER_CATCHUP_STALENESS_MS says otherwise, the hold lasts at most half
 * the requests' wait, leaving the other half for the write and the poll. Where the query API runs beside
 * the projections, its requests reach them (ProjectionRunner.awaitPosition) and the hold keeps its bound.
 */
function unheardCatchUpStaleness(config: KeplerConfig, env: NodeJS.ProcessEnv): Pick<KeplerConfig, 'catchUpStalenessMs'> {
  if (wholeNumberSetting(env.KEPLER_CATCHUP_STALENESS_MS, 'KEPLER_CATCHUP_STALENESS_MS') !== undefined || !config.roles.includes('projections') || config.roles.includes('query-api')) return {};
  return { catchUpStalenessMs: Math.floor(config.readYourWritesTimeoutMs / 2) };
}
