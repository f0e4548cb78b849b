// The event store's port and the events' ids, without any store: what only
// prepares events loads this (the intake thread, which parses feeds for a writer
// on another thread), and not the SQLite adapter with better-sqlite3, about
// 40 ms of a thread's start.
export * from './port.js';
export { deterministicId } from './ids.js';
