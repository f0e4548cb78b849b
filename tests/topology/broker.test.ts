// The planner's properties against the real RabbitMQ: random broker states in fresh
// virtual hosts, planned, applied, planned again, and undone by the inverses.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { applyActions, applyPlan, converge, desiredTopology, inversePlan, observe, Ownership, planTopology, type Topology } from '../../topology/index.js';
import { rabbitMq } from '../messaging/rabbit.js';
import { brokerArbitrary, routingArbitrary } from './arbitraries.js';
import { TestVhost } from './broker.js';

const url = await rabbitMq();
const PREFIX = 'kp';
const vhosts: TestVhost[] = [];
afterAll(async () => {
  for (const vhost of vhosts) await vhost.delete().catch(() => {});
});

const foreignOf = (topology: Topology) => {
  const ownership = new Ownership(PREFIX);
  return {
    queues: topology.queues.filter((q) => !ownership.queue(q)).map((q) => q.name).sort(),
    bindings: topology.bindings.filter((b) => !ownership.binding(b)).map((b) => `${b.source}>${b.destination}:${b.routingKey}`).sort(),
  };
};

describe.skipIf(!url)('topology planner against RabbitMQ', () => {
  it('over random broker states: plan → apply → plan is empty, the inverses restore the broker, nothing unowned is deleted', async () => {
    await fc.assert(
      fc.asyncProperty(brokerArbitrary(PREFIX), routingArbitrary, fc.boolean(), async (state, routing, prune) => {
        const vhost = await TestVhost.create('prop');
        if (!vhost) return;
        vhosts.push(vhost);
        try {
          await vhost.materialise(state);
          const before = await observe(vhost.access, PREFIX);
          const target = { access: vhost.access, prefix: PREFIX };
          const desired = desiredTopology(routing, { prefix: PREFIX });

          // Inverses first, from the state as it was: carry the plan out once, then undo it.
          const plan = planTopology(desired, before.topology, { prefix: PREFIX, vhost: vhost.name, prune });
          const report = await applyPlan(plan, vhost.access);
          await applyActions(inversePlan(report.applied.map((action) => plan.ops.find((op) => op === action)!)), vhost.access);
          expect((await observe(vhost.access, PREFIX)).digest).toBe(before.digest);

          // Then to the end: plan, apply (as many rounds as it takes), plan again.
          const result = await converge(target, async () => routing, { prune });
          expect(result.remaining.ops.filter((op) => !op.blocked)).toEqual([]);
          expect(foreignOf((await observe(vhost.access, PREFIX)).topology)).toEqual(foreignOf(before.topology));
        } finally {
          await vhost.delete();
          vhosts.splice(vhosts.indexOf(vhost), 1);
        }
      }),
      { numRuns: 8, endOnFailure: true },
    );
  }, 180_000);
});
