export { openEventStore, openReadStore, migrateStores, StoreOpenError, type OpenOptions, type MigrationOutcome } from './open.js';
export { storesConfig, describeStore, type EventStoreConfig, type ReadStoreConfig, type StoresConfig, type StoresFileSettings, type PostgresSettings, type TlsFiles } from './config.js';
export { readTlsFiles, esdbConnectionString, TlsFileError } from './tls.js';
