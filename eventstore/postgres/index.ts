export { PostgresEventStore, type PostgresEventStoreOptions } from './postgres-event-store.js';
export { creatingDatabase, poolConfig, redactUrl, isTransient, toStoreError, type PostgresOptions } from './connection.js';
export { EVENT_STORE_MIGRATIONS, migrate, pendingMigrations, type Migration, type MigrationReport } from './schema.js';
