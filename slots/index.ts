// Blue/green slots: the registry of which slot is live and routed (the single source of
// truth), slot affinity of trades, and cut-over plans.
export * from './registry.js';
export * from './affinity.js';
export * from './cutover.js';
export * from './operations.js';
