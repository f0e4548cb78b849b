// Reconnection delays: the same backoff the store adapters use.
export { backoffDelay, DEFAULT_BACKOFF, sleep, type BackoffOptions } from '../eventstore/index.js';
