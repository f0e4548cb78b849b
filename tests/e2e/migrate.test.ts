// `kepler migrate` through the CLI, and a process that may not migrate refusing an old schema.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/feed.js';
import { runCli } from '../support/kepler.js';
import { createTestDatabase } from '../support/postgres.js';
import { tryStartServer } from '../support/servers.js';

const database = await tryStartServer('PostgreSQL', () => createTestDatabase('migrate'));
afterAll(async () => {
  await database?.drop();
});

describe.skipIf(!database)('kepler migrate', () => {
  it('an old schema stops a process that may not migrate; kepler migrate brings both stores up to date, once', async () => {
    const env = { KEPLER_EVENTSTORE_URL: database!.url, KEPLER_READSTORE_URL: database!.url, KEPLER_MIGRATE_ON_START: '0', KEPLER_STORE_WAIT_MS: '0' };
    const dataDir = join(tempDir(), 'data');
    const refused = await runCli(['serve', '--data-dir', dataDir, '--port', '0'], { env });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('lacks schema migrations 1, 2, 3: run `kepler migrate`');

    const first = await runCli(['migrate'], { env });
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('the event store at ');
    expect(first.stdout).toContain('applied 1 (events, checkpoints and the append function), 2 (one checkpoint name written by several writes of a group), 3 (appends conditional on another stream), at version 3');
    expect(first.stdout).toContain('applied 1 (read-model checkpoints and settings), at version 1');
    const second = await runCli(['migrate'], { env });
    expect(second.stdout).toMatch(/the event store at .*: up to date, at version 3/);
    expect(second.stdout).toMatch(/the read store at .*: up to date, at version 1/);

    const history = await runCli(['history', '--data-dir', dataDir, 'NOPE'], { env });
    expect(history.stderr).toContain('nothing is known of NOPE');
  });

  it('says there is nothing to migrate on the embedded stores', async () => {
    const result = await runCli(['migrate'], { env: { KEPLER_EVENTSTORE_URL: '', KEPLER_DATA_DIR: join(tempDir(), 'data') } });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('nothing to migrate');
  });
});
