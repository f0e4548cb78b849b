export { openEventStore, openReadStore, StoreOpenError, type OpenOptions } from './open.js';
export { storesConfig, describeStore, type EventStoreConfig, type ReadStoreConfig, type StoresConfig, type StoresFileSettings, type PostgresSettings } from './config.js';
