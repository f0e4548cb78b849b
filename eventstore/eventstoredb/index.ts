export {
  EsdbEventStore,
  type EsdbEventStoreOptions,
  CHECKPOINT_STREAM_PREFIX,
  checkpointStreamName,
  toEsdbStreamName,
  fromEsdbStreamName,
} from './esdb-event-store.js';
