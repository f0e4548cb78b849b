// Blue/green slots: the registry of which slot is live and routed (the single source of
// truth), slot affinity of trades, and cut-over plans. Carrying out cut-overs, drains and the
// status needs the broker: that half is slots/operations.ts, loaded only by the commands that use it.
export * from './registry.js';
export * from './affinity.js';
export * from './cutover.js';
