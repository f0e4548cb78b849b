export * from './port.js';
export { SqliteReadStore } from './sqlite/index.js';
