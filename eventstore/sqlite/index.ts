export { SqliteEventStore } from './sqlite-event-store.js';
export { useWriteAheadLog } from './wal.js';
export { INSERT_EVENT, openEventDatabase, type EventDatabase, type EventRow, type SqliteEventStoreOptions } from './event-database.js';
