export { PostgresReadStore, READ_STORE_MIGRATIONS, type PostgresReadStoreOptions } from './postgres-read-store.js';
