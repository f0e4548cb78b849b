// Opening the stores a configuration names. The real servers' clients are
// loaded only when configured, so the embedded platform starts without them.
//
// A server that is not there yet (a database still starting, a network not up)
// is waited for, with backoff, saying on the log what is awaited, until
// `storeWaitMs`; then opening fails with an error that names the store. Nothing
// waits in silence.
import type { EventStore } from '../eventstore/index.js';
import { StoreUnavailableError } from '../eventstore/index.js';
import type { ReadStore } from '../readstore/index.js';
import { describeStore, type EventStoreConfig, type ReadStoreConfig } from './config.js';
import { esdbConnectionString, readTlsFiles } from './tls.js';

export interface OpenOptions {
  /** Default 30 s. */
  storeWaitMs?: number;
  /** Hears each failed attempt while waiting: who is awaited, and why it did not answer. */
  onWaiting?: (notice: { store: string; attempt: number; error: string; waitedMs: number }) => void;
  /** Hears each connection an open store lost and is trying again (a subscription's reads, its LISTEN connection). */
  onConnectionLost?: (notice: { store: string; what: string; attempt: number; error: string }) => void;
  /**
   * False: an embedded (SQLite) store is read through a smaller page cache, not a memory map, and
   * the operating system's cache does the rest. For a connection that reads the whole store as it
   * follows it: mapped, every page read stays in the process's resident memory.
   */
  memoryMapped?: boolean;
}

/** What a connection that is not memory-mapped reads with (see OpenOptions.memoryMapped). */
const UNMAPPED = { mmapBytes: 0, pageCacheKiB: 16_384 };

/** Opening failed for good; the message says which store and why. */
export class StoreOpenError extends Error {
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = 'StoreOpenError';
  }
}

export async function openEventStore(config: EventStoreConfig, options: OpenOptions = {}): Promise<EventStore> {
  switch (config.kind) {
    case 'sqlite': {
      const { SqliteEventStore } = await import('../eventstore/sqlite/index.js');
      return SqliteEventStore.open(config.path, { backgroundCheckpoints: true, ...(options.memoryMapped === false && UNMAPPED) });
    }
    case 'postgres': {
      const { PostgresEventStore } = await import('../eventstore/postgres/index.js');
      const store = `the event store at ${describeStore(config)}`;
      const onConnectionError = (error: unknown, attempt: number, what: string) =>
        options.onConnectionLost?.({ store, what, attempt, error: error instanceof Error ? error.message : String(error) });
      return waitFor(store, options, () => PostgresEventStore.connect(config.url, { ...config.settings, migrate: config.migrate, onConnectionError }));
    }
    case 'eventstoredb': {
      const { EsdbEventStore } = await import('../eventstore/eventstoredb/index.js');
      return waitFor(`the event store at ${describeStore(config)}`, options, () => EsdbEventStore.connect(esdbConnectionString(config.url, config.tls)));
    }
  }
}

export async function openReadStore(config: ReadStoreConfig, options: OpenOptions = {}): Promise<ReadStore> {
  switch (config.kind) {
    case 'sqlite': {
      const { SqliteReadStore } = await import('../readstore/sqlite/index.js');
      return SqliteReadStore.open(config.path, options.memoryMapped === false ? UNMAPPED : {});
    }
    case 'postgres': {
      const { PostgresReadStore } = await import('../readstore/postgres/index.js');
      return waitFor(`the read store at ${describeStore(config)}`, options, () => PostgresReadStore.connect(config.url, { ...config.settings, migrate: config.migrate }));
    }
    case 'mongodb': {
      const { MongoReadStore } = await import('../readstore/mongodb/index.js');
      const tls = config.tls && (await readTlsFiles(config.tls, 'readStore.tls'));
      const storeOptions = { ...(config.poolSize !== undefined && { poolSize: config.poolSize }), ...(tls && { client: { tls: true, ...tls } }) };
      return waitFor(`the read store at ${describeStore(config)}`, options, () => MongoReadStore.connect(config.url, config.database, storeOptions));
    }
  }
}

/** Tries `open` until it succeeds, fails for a reason waiting cannot mend, or the wait is over. */
async function waitFor<T>(what: string, options: OpenOptions, open: () => Promise<T>): Promise<T> {
  const budget = options.storeWaitMs ?? 30_000;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await open();
    } catch (error) {
      const waitedMs = Date.now() - started;
      const reason = error instanceof Error ? error.message : String(error);
      if (!isWorthWaitingFor(error)) throw new StoreOpenError(`cannot open ${what}: ${reason}`, { cause: error });
      if (waitedMs >= budget) throw new StoreOpenError(`${what} did not answer within ${Math.round(waitedMs / 1000)} s: ${reason}`, { cause: error });
      options.onWaiting?.({ store: what, attempt, error: reason, waitedMs });
      await new Promise((resolve) => setTimeout(resolve, Math.min(Math.max(0, budget - waitedMs), Math.min(5_000, 250 * 2 ** (attempt - 1)))));
    }
  }
}

function isWorthWaitingFor(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return true;
  const name = (error as { name?: unknown } | null)?.name;
  // The drivers' own words for "no server answered": MongoDB's server selection, EventStoreDB's gRPC channel.
  return name === 'MongoServerSelectionError' || name === 'MongoNetworkError' || name === 'MongoNetworkTimeoutError' || name === 'UnavailableError';
}

/** What `kepler migrate` did to each store. */
export interface MigrationOutcome {
  store: string;
  applied: Array<{ version: number; name: string }>;
  current: number | null;
}

/** Applies pending schema migrations to the stores that have them (PostgreSQL); the others need none. */
export async function migrateStores(config: { eventStore: EventStoreConfig; readStore: ReadStoreConfig }, options: OpenOptions = {}): Promise<MigrationOutcome[]> {
  const outcomes: MigrationOutcome[] = [];
  const { eventStore, readStore } = config;
  if (eventStore.kind === 'postgres') {
    const { PostgresEventStore } = await import('../eventstore/postgres/index.js');
    const store = `the event store at ${describeStore(eventStore)}`;
    outcomes.push({ store, ...(await waitFor(store, options, () => PostgresEventStore.migrate(eventStore.url, eventStore.settings))) });
  }
  if (readStore.kind === 'postgres') {
    const { PostgresReadStore } = await import('../readstore/postgres/index.js');
    const store = `the read store at ${describeStore(readStore)}`;
    outcomes.push({ store, ...(await waitFor(store, options, () => PostgresReadStore.migrate(readStore.url, readStore.settings))) });
  }
  return outcomes;
}
