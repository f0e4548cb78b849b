// Store opening lives in stores/, below app/ and regression/, which both use it.
export { openEventStore, openReadStore, type OpenOptions } from '../stores/index.js';
