// The shared read-store contract on the machine's PostgreSQL, on a database of its own.
import { afterAll } from 'vitest';
import { createTestDatabase } from '../../tests/support/postgres.js';
import { tryStartServer } from '../../tests/support/servers.js';
import { readStoreContract } from '../contract.js';
import { PostgresReadStore } from './index.js';

const database = await tryStartServer('PostgreSQL', () => createTestDatabase('rs_contract'));
afterAll(async () => {
  await database?.drop();
});

if (database) readStoreContract('PostgreSQL', () => PostgresReadStore.connect(database.url, { poolSize: 4 }));
