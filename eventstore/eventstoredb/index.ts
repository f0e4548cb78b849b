export { EsdbEventStore, type EsdbEventStoreOptions } from './esdb-event-store.js';
export { CHECKPOINT_STREAM_PREFIX, checkpointStreamName, toEsdbStreamName, fromEsdbStreamName } from './mapping.js';
