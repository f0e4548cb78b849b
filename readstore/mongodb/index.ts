export {
  MongoReadStore,
  CHECKPOINTS_COLLECTION,
  SETTINGS_COLLECTION,
  type MongoReadStoreOptions,
} from './mongo-read-store.js';
