export * from './port.js';
export { deterministicId } from './ids.js';
export { SqliteEventStore, useWriteAheadLog } from './sqlite/index.js';
export { redactUrl } from './urls.js';
export { wholeNumberSetting } from './settings.js';
export { backoffDelay, DEFAULT_BACKOFF, sleep, type BackoffOptions } from './backoff.js';
