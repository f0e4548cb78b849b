// Store opening lives in stores/, below app/ and regression/, which both use it. What
// app/ adds is wiring: every event store a process opens is measured through the same
// decorator of the port (telemetry), whichever adapter it is.
import type { Logger } from 'pino';
import type { EventStore } from '../eventstore/index.js';
import type { AmqpTls } from '../messaging/index.js';
import { openEventStore as openStore, readTlsFiles, type EventStoreConfig, type OpenOptions } from '../stores/index.js';
import { InstrumentedEventStore } from '../telemetry/index.js';
import type { AmqpConfig } from './config.js';

export { openReadStore, type OpenOptions } from '../stores/index.js';

/** The CA, client certificate and key every connection to the broker uses (amqp.tls), read; none without it. */
export async function amqpTls(amqp: AmqpConfig): Promise<AmqpTls | undefined> {
  return amqp.tls && (await readTlsFiles(amqp.tls, 'amqp.tls'));
}

/** OpenTelemetry's db.system.name of each adapter (EventStoreDB has none registered). */
const DB_SYSTEM: Record<EventStoreConfig['kind'], string> = { sqlite: 'sqlite', postgres: 'postgresql', eventstoredb: 'eventstoredb' };

export async function openEventStore(config: EventStoreConfig, options: OpenOptions = {}): Promise<EventStore> {
  return new InstrumentedEventStore(await openStore(config, options), DB_SYSTEM[config.kind]);
}

/** How this process waits for its stores: as configured, saying on the log what it waits for and what it lost. */
export function waitingOptions(config: { storeWaitMs?: number }, logger: Logger): OpenOptions {
  return {
    ...(config.storeWaitMs !== undefined && { storeWaitMs: config.storeWaitMs }),
    onWaiting: ({ store, attempt, error, waitedMs }) => logger.warn({ store, attempt, waitedMs, error }, `waiting for ${store}`),
    onConnectionLost: ({ store, what, attempt, error }) => logger.warn({ store, what, attempt, error }, `lost a connection to ${store}; trying again`),
  };
}
