// The domain: pure values, records, decisions and their events. No I/O here.

/**
 * The version of the events' shapes. Raise it when an event changes in a way
 * older code cannot read; a release candidate records it, so a promotion shows
 * when it changes.
 */
export const EVENT_SCHEMA_VERSION = 1;
export * from './feed.js';
export * as Trade from './trade/index.js';
export * as Booking from './booking/index.js';
export * as Approvals from './approvals/index.js';
