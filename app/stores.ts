import type { EventStore } from '../eventstore/index.js';
import { InstrumentedEventStore } from '../telemetry/index.js';
import type { ReadStore } from '../readstore/index.js';
import type { EventStoreConfig, ReadStoreConfig } from './config.js';

// The real servers' clients are loaded only when configured, so the embedded
// platform starts without them. Every event store is measured through the same
// decorator of the port (telemetry), whichever adapter it is.

export async function openEventStore(config: EventStoreConfig): Promise<EventStore> {
  if (config.kind === 'sqlite') {
    const { SqliteEventStore } = await import('../eventstore/sqlite/index.js');
    return new InstrumentedEventStore(SqliteEventStore.open(config.path, { backgroundCheckpoints: true }), 'sqlite');
  }
  const { EsdbEventStore } = await import('../eventstore/eventstoredb/index.js');
  return new InstrumentedEventStore(await EsdbEventStore.connect(config.url), 'eventstoredb');
}

export async function openReadStore(config: ReadStoreConfig): Promise<ReadStore> {
  if (config.kind === 'sqlite') {
    const { SqliteReadStore } = await import('../readstore/sqlite/index.js');
    return SqliteReadStore.open(config.path);
  }
  const { MongoReadStore } = await import('../readstore/mongodb/index.js');
  return MongoReadStore.connect(config.url, config.database);
}
