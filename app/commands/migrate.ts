import type { KeplerConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { waitingOptions } from '../stores.js';
import { migrateStores } from '../../stores/index.js';

/** `kepler migrate`: brings the configured PostgreSQL stores' schemas up to date; the other stores need nothing. */
export async function migrateCommand(config: KeplerConfig): Promise<number> {
  const outcomes = await migrateStores(config, waitingOptions(config, createLogger('kepler-migrate')));
  if (outcomes.length === 0) process.stdout.write('nothing to migrate: no store runs on PostgreSQL (SQLite creates its tables itself)\n');
  for (const outcome of outcomes) {
    const applied = outcome.applied.map((m) => `${m.version} (${m.name})`).join(', ');
    process.stdout.write(`${outcome.store}: ${applied ? `applied ${applied}` : 'up to date'}, at version ${outcome.current}\n`);
  }
  return 0;
}
