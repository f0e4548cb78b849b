// A store that is not there: serve says what it waits for, then stops with an error naming it. Never a silent hang.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/feed.js';
import { runCli } from '../support/kepler.js';
import { closedPort } from '../support/servers.js';

describe('kepler serve with an event store that does not answer', () => {
  it('logs what it waits for, then exits non-zero naming the store (no password)', async () => {
    const port = await closedPort();
    const started = Date.now();
    const result = await runCli(['serve', '--data-dir', join(tempDir(), 'data'), '--port', '0'], {
      env: { KEPLER_EVENTSTORE_URL: `postgres://kepler:hunter2@127.0.0.1:${port}/kepler`, KEPLER_STORE_WAIT_MS: '1500' },
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`waiting for the event store at postgres://kepler:***@127.0.0.1:${port}/kepler`);
    expect(result.stderr).toMatch(/the event store at postgres:\/\/kepler:\*\*\*@127\.0\.0\.1:\d+\/kepler did not answer within \d+ s/);
    expect(result.stderr).not.toContain('hunter2');
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
