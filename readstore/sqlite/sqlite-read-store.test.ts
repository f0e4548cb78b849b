import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readStoreContract } from '../contract.js';
import { SqliteReadStore } from './sqlite-read-store.js';

readStoreContract('SQLite', async () => SqliteReadStore.open(join(mkdtempSync(join(tmpdir(), 'kepler-rs-')), 'read.db')));
