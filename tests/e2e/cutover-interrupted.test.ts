// A cut-over step changes the slot registry, then is recorded as carried out. A
// run killed in between leaves a change the plan does not know of; a rollback
// must undo it too, or the platform stays half cut over after "rolled back".
// Real RabbitMQ in a fresh virtual host, the CLI as an operator runs it; the kill
// is reproduced by making the registry change of the next step by hand.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../eventstore/index.js';
import { applyChange, nextStep, readRegistry, recordRouting } from '../../slots/index.js';
import { loadCutover } from '../../slots/operations.js';
import { MANAGEMENT_URL, rabbitMq } from '../messaging/rabbit.js';
import { tempDir } from '../support/feed.js';
import { runCli } from '../support/kepler.js';
import { TestVhost } from '../topology/broker.js';

const url = await rabbitMq();
const vhost = url ? await TestVhost.create('interrupted') : undefined;
afterAll(() => vhost?.delete());

describe.skipIf(!vhost)('a cut-over interrupted between a registry change and its record', () => {
  const dataDir = join(tempDir('kepler-interrupted-'), 'data');
  const slot = (...args: string[]) => runCli(['slot', ...args], { env: { KEPLER_AMQP_URL: vhost!.amqpUrl, KEPLER_AMQP_MANAGEMENT_URL: MANAGEMENT_URL, KEPLER_DATA_DIR: dataDir } });
  const withStore = async <T>(work: (store: SqliteEventStore) => Promise<T>): Promise<T> => {
    const store = SqliteEventStore.open(join(dataDir, 'events.db'));
    try {
      return await work(store);
    } finally {
      await store.close();
    }
  };

  it('is rolled back whole: the change of the step that was never recorded is undone too', async () => {
    const live = await slot('live', 'blue');
    expect(live.code, live.stdout + live.stderr).toBe(0);
    const before = await withStore(async (store) => (await readRegistry(store)).routing);
    expect(before.live).toBe('blue');

    const halted = await slot('cutover', 'green', '--until-step', '1');
    // Halted where it was asked to halt: not a failure.
    expect(halted.code, halted.stdout + halted.stderr).toBe(0);
    expect(halted.stdout).toMatch(/: halted \(1\/\d+ steps\)/);
    const id = /cut-over (\S+): blue → green/.exec(halted.stdout)![1]!;

    // The next step's change reaches the registry; the process dies before recording the step.
    await withStore(async (store) => {
      const { state } = await loadCutover(store, id);
      const next = nextStep(state)!;
      expect(next).toMatchObject({ index: 1, direction: 'forward' });
      const registry = await readRegistry(store);
      await recordRouting(store, applyChange(registry.routing, next.step.change), { expectedRevision: registry.revision, cutoverId: id, step: `forward:${next.index}` });
    });

    const rolledBack = await slot('rollback', id);
    expect(rolledBack.code, rolledBack.stdout + rolledBack.stderr).toBe(0);
    expect(rolledBack.stdout).toContain('changed the registry before the run stopped');
    await withStore(async (store) => {
      expect((await readRegistry(store)).routing).toEqual(before);
      expect((await loadCutover(store, id)).state).toMatchObject({ status: 'rolled-back', done: 2, reverted: 2 });
    });
  });
});
