// The topology role: on an interval it repairs drift of what Kepler owns, counts what it did,
// and two instances running at once converge instead of fighting.
import { afterAll, describe, expect, it } from 'vitest';
import { slotBindings, standingObjects, topologyNames, unbind } from '../../messaging/index.js';
import { observe, TopologyReconciler } from '../../topology/index.js';
import { rabbitMq, waitFor } from '../messaging/rabbit.js';
import { TestVhost } from './broker.js';

const url = await rabbitMq();
const vhost = url ? await TestVhost.create('role') : undefined;
afterAll(() => vhost?.delete());

describe.skipIf(!vhost)('the topology role', () => {
  it('two instances bring a broker in line, put back a binding deleted by hand, and agree while the routing changes', async () => {
    const names = topologyNames('kepler');
    let routing = { feed: ['blue' as const], events: ['blue' as const] } as { feed: Array<'blue' | 'green'>; events: Array<'blue' | 'green'> };
    const target = { access: vhost!.access, prefix: 'kepler' };
    const instances = [1, 2].map(() => new TopologyReconciler(target, async () => routing, { intervalMs: 100 }));
    for (const instance of instances) instance.start();
    try {
      const bindingsOf = async () => (await observe(vhost!.access, 'kepler')).topology.bindings.map((b) => `${b.source}>${b.destination}`);
      await waitFor('the topology to be declared', async () => (await bindingsOf()).includes(`${names.feedExchange}>${names.feedQueues.blue}`), 20_000, 100);

      await vhost!.withChannel((channel) => unbind(channel, standingObjects(names).bindings[0]!));
      await waitFor('the binding to come back', async () => (await bindingsOf()).includes(`${names.deadLetterExchange}>${names.deadLetterQueue}`), 20_000, 100);

      // The routing moves to green while both run: both follow, and end on the same state.
      routing = { feed: ['blue', 'green'], events: ['blue', 'green'] };
      await waitFor('green to be bound', async () => (await bindingsOf()).includes(`${names.feedExchange}>${names.feedQueues.green}`), 20_000, 100);
      routing = { feed: ['green'], events: ['green'] };
      await waitFor('blue to be unbound', async () => !(await bindingsOf()).includes(`${names.feedExchange}>${names.feedQueues.blue}`), 20_000, 100);
      const settled = await observe(vhost!.access, 'kepler');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect((await observe(vhost!.access, 'kepler')).digest).toBe(settled.digest);
      const green = slotBindings(names, 'green');
      expect(settled.topology.bindings).toEqual(expect.arrayContaining([expect.objectContaining({ destination: green.feed.destination }), expect.objectContaining({ source: green.events.source })]));

      const repairs = instances.reduce((n, i) => n + i.status.repairs, 0);
      expect(repairs).toBeGreaterThan(0);
      for (const instance of instances) {
        expect(instance.status.checks).toBeGreaterThan(3);
        expect(instance.status.lastError).toBeNull();
      }
    } finally {
      await Promise.all(instances.map((i) => i.stop()));
    }
  }, 90_000);
});
