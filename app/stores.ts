// Store opening lives in stores/, below app/ and regression/, which both use it.
import type { Logger } from 'pino';
import type { OpenOptions } from '../stores/index.js';

export { openEventStore, openReadStore, readTlsFiles, type OpenOptions } from '../stores/index.js';

/** How this process waits for its stores: as configured, saying on the log what it waits for and what it lost. */
export function waitingOptions(config: { storeWaitMs?: number }, logger: Logger): OpenOptions {
  return {
    ...(config.storeWaitMs !== undefined && { storeWaitMs: config.storeWaitMs }),
    onWaiting: ({ store, attempt, error, waitedMs }) => logger.warn({ store, attempt, waitedMs, error }, `waiting for ${store}`),
    onConnectionLost: ({ store, what, attempt, error }) => logger.warn({ store, what, attempt, error }, `lost a connection to ${store}; trying again`),
  };
}
