// The PostgreSQL adapter against the machine's server, on a database of its own:
// the shared contract, unchanged, then what only PostgreSQL can get wrong.
import { afterAll } from 'vitest';
import { createTestDatabase } from '../../tests/support/postgres.js';
import { tryStartServer } from '../../tests/support/servers.js';
import { eventStoreContract } from '../contract.js';
import { PostgresEventStore } from './index.js';

const database = await tryStartServer('PostgreSQL', () => createTestDatabase('es_contract'));
afterAll(async () => {
  await database?.drop();
});

if (database) eventStoreContract('PostgreSQL', () => PostgresEventStore.connect(database.url, { poolSize: 4 }));
