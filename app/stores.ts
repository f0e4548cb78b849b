import type { EventStore } from '../eventstore/index.js';
import type { ReadStore } from '../readstore/index.js';
import type { EventStoreConfig, ReadStoreConfig } from './config.js';

// The real servers' clients are loaded only when configured, so the embedded
// platform starts without them.

export async function openEventStore(config: EventStoreConfig): Promise<EventStore> {
  if (config.kind === 'sqlite') {
    const { SqliteEventStore } = await import('../eventstore/sqlite/index.js');
    return SqliteEventStore.open(config.path, { backgroundCheckpoints: true });
  }
  const { EsdbEventStore } = await import('../eventstore/eventstoredb/index.js');
  return EsdbEventStore.connect(config.url);
}

export async function openReadStore(config: ReadStoreConfig): Promise<ReadStore> {
  if (config.kind === 'sqlite') {
    const { SqliteReadStore } = await import('../readstore/sqlite/index.js');
    return SqliteReadStore.open(config.path);
  }
  const { MongoReadStore } = await import('../readstore/mongodb/index.js');
  return MongoReadStore.connect(config.url, config.database);
}
