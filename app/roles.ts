// The roles a Kepler process may run, apart from the configuration that reads
// them (config.ts): the CLI names them in its help before any command is chosen,
// and loading config.ts there would load the stores, the event store and
// better-sqlite3 before `kepler ingest` could start its intake thread.
export const ROLES = ['ingestion', 'processors', 'projections', 'command-api', 'query-api', 'publisher', 'gateway', 'topology'] as const;
export type Role = (typeof ROLES)[number];
/** What a process runs when no roles are named: a whole slot. The gateway and the topology reconciler run where they are named. */
export const SLOT_ROLES: readonly Role[] = ['ingestion', 'processors', 'projections', 'command-api', 'query-api', 'publisher'];
