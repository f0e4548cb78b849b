import { readFile } from 'node:fs/promises';
import type { EventStore } from '../eventstore/index.js';
import type { ReadStore } from '../readstore/index.js';
import type { EventStoreConfig, ReadStoreConfig, TlsFiles } from './config.js';

// The real servers' clients are loaded only when configured, so the embedded
// platform starts without them.

export async function openEventStore(config: EventStoreConfig): Promise<EventStore> {
  if (config.kind === 'sqlite') {
    const { SqliteEventStore } = await import('../eventstore/sqlite/index.js');
    return SqliteEventStore.open(config.path, { backgroundCheckpoints: true });
  }
  const { EsdbEventStore } = await import('../eventstore/eventstoredb/index.js');
  return EsdbEventStore.connect(esdbConnectionString(config.url, config.tls));
}

export async function openReadStore(config: ReadStoreConfig): Promise<ReadStore> {
  if (config.kind === 'sqlite') {
    const { SqliteReadStore } = await import('../readstore/sqlite/index.js');
    return SqliteReadStore.open(config.path);
  }
  const { MongoReadStore } = await import('../readstore/mongodb/index.js');
  const tls = config.tls && (await readTlsFiles(config.tls));
  return MongoReadStore.connect(config.url, config.database, tls ? { client: { tls: true, ...tls } } : {});
}

/** The PEM files of a TLS client, read. */
export async function readTlsFiles(files: TlsFiles): Promise<{ ca?: Buffer; cert?: Buffer; key?: Buffer }> {
  return {
    ...(files.ca !== undefined && { ca: await readFile(files.ca) }),
    ...(files.cert !== undefined && { cert: await readFile(files.cert) }),
    ...(files.key !== undefined && { key: await readFile(files.key) }),
  };
}

/** EventStoreDB takes its TLS files in the connection string (tlsCAFile, userCertFile, userKeyFile). */
export function esdbConnectionString(url: string, tls: TlsFiles | undefined): string {
  if (!tls) return url;
  const [base, query = ''] = url.split('?', 2) as [string, string?];
  const params = new URLSearchParams(query);
  params.set('tls', 'true');
  if (tls.ca !== undefined) params.set('tlsCAFile', tls.ca);
  if (tls.cert !== undefined) params.set('userCertFile', tls.cert);
  if (tls.key !== undefined) params.set('userKeyFile', tls.key);
  return `${base}?${params.toString()}`;
}
