import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OWNER_ARGUMENT } from '../messaging/index.js';
import { applyToModel, brokerArbitrary, routingArbitrary } from '../tests/topology/arbitraries.js';
import { bindingKey, desiredTopology, digestOf, EMPTY_TOPOLOGY, inversePlan, Ownership, planTopology, scoped, type Topology } from './index.js';

const PREFIX = 'kp';
const options = { prefix: PREFIX, vhost: '/' };
const sameTopology = (a: Topology, b: Topology) => expect(digestOf(scoped(a, new Ownership(PREFIX)))).toBe(digestOf(scoped(b, new Ownership(PREFIX))));
const carryOut = (broker: Topology, plan: ReturnType<typeof planTopology>) => plan.ops.filter((op) => !op.blocked).reduce(applyToModel, broker);

describe('topology planner', () => {
  it('on an empty broker, declares everything, exchanges and queues before the bindings that need them', () => {
    const plan = planTopology(desiredTopology({ feed: ['blue'], events: ['blue'] }, { prefix: PREFIX }), EMPTY_TOPOLOGY, options);
    const actions = plan.ops.map((op) => op.action);
    expect(actions.lastIndexOf('declare-queue')).toBeLessThan(actions.indexOf('bind'));
    expect(plan.ops.every((op) => op.risk === 'low')).toBe(true);
    expect(plan.ops.filter((op) => op.action === 'bind').map((op) => op.action === 'bind' && op.binding.destination)).toContain('kp.feed.blue');
  });

  it('moves the feed by binding the new slot before unbinding the old one', () => {
    const blue = carryOut(EMPTY_TOPOLOGY, planTopology(desiredTopology({ feed: ['blue'], events: ['blue'] }, { prefix: PREFIX }), EMPTY_TOPOLOGY, options));
    const plan = planTopology(desiredTopology({ feed: ['green'], events: ['green'] }, { prefix: PREFIX }), blue, options);
    expect(plan.ops.map((op) => op.action)).toEqual(['bind', 'bind', 'unbind', 'unbind']);
    expect(plan.ops.find((op) => op.action === 'unbind')!.risk).toBe('medium');
  });

  it('never replaces the queue the feed is routed to: that waits for a cut-over', () => {
    const desired = desiredTopology({ feed: ['blue'], events: [] }, { prefix: PREFIX });
    const broker = carryOut(EMPTY_TOPOLOGY, planTopology(desired, EMPTY_TOPOLOGY, options));
    const classic = desiredTopology({ feed: ['blue'], events: [] }, { prefix: PREFIX, queueType: 'classic' });
    const plan = planTopology(classic, broker, options);
    const blue = plan.ops.find((op) => op.action === 'replace-queue' && op.queue.name === 'kp.feed.blue')!;
    expect(blue.blocked).toMatch(/cut over/);
    const green = plan.ops.find((op) => op.action === 'replace-queue' && op.queue.name === 'kp.feed.green')!;
    expect(green.blocked).toBeUndefined();
  });

  it('deletes nothing that is not its own, and its own leftovers only when pruning', () => {
    const owner = { [OWNER_ARGUMENT]: PREFIX };
    const broker: Topology = {
      ...EMPTY_TOPOLOGY,
      queues: [
        { name: 'kp.smoke', durable: true, autoDelete: false, arguments: {} },
        { name: 'kp.old', durable: true, autoDelete: false, arguments: owner },
      ],
    };
    const desired = desiredTopology({ feed: [], events: [] }, { prefix: PREFIX });
    const kept = planTopology(desired, broker, options);
    expect(kept.ops.some((op) => op.action === 'delete-queue')).toBe(false);
    expect(kept.kept).toEqual(['queue kp.old']);
    const pruned = planTopology(desired, broker, { ...options, prune: true });
    expect(pruned.ops.filter((op) => op.action === 'delete-queue').map((op) => op.action === 'delete-queue' && op.queue.name)).toEqual(['kp.old']);
  });

  describe('over random broker states', () => {
    it('plan, apply, plan again: nothing left to do', () => {
      fc.assert(
        fc.property(brokerArbitrary(PREFIX), routingArbitrary, fc.boolean(), (broker, routing, prune) => {
          const desired = desiredTopology(routing, { prefix: PREFIX });
          const after = carryOut(broker, planTopology(desired, broker, { ...options, prune }));
          // A replaced queue loses its bindings: one more round puts them back, as `apply` does.
          const again = planTopology(desired, carryOut(after, planTopology(desired, after, { ...options, prune })), { ...options, prune });
          expect(again.ops.filter((op) => !op.blocked)).toEqual([]);
        }),
        { numRuns: 300 },
      );
    });

    it('applying the inverses restores the broker', () => {
      fc.assert(
        fc.property(brokerArbitrary(PREFIX), routingArbitrary, fc.boolean(), (broker, routing, prune) => {
          const plan = planTopology(desiredTopology(routing, { prefix: PREFIX }), broker, { ...options, prune });
          const ops = plan.ops.filter((op) => !op.blocked && op.action !== 'replace-queue' && op.action !== 'replace-exchange' && op.action !== 'delete-queue' && op.action !== 'delete-exchange');
          const restored = inversePlan(ops).reduce(applyToModel, ops.reduce(applyToModel, broker));
          sameTopology(restored, broker);
        }),
        { numRuns: 300 },
      );
    });

    it('never deletes, unbinds or replaces what Kepler does not own', () => {
      fc.assert(
        fc.property(brokerArbitrary(PREFIX), routingArbitrary, fc.boolean(), (broker, routing, prune) => {
          const ownership = new Ownership(PREFIX);
          const plan = planTopology(desiredTopology(routing, { prefix: PREFIX }), broker, { ...options, prune });
          for (const op of plan.ops) {
            if (op.action === 'unbind') expect(ownership.binding(op.binding)).toBe(true);
            if (op.action === 'delete-queue' || (op.action === 'replace-queue' && !op.blocked)) expect(ownership.queue(op.action === 'delete-queue' ? op.queue : op.previous)).toBe(true);
            if (op.action === 'delete-exchange') expect(ownership.exchange(op.exchange)).toBe(true);
          }
          // And what the plan leaves of someone else's is all there after it ran.
          const after = carryOut(broker, plan);
          const foreign = (t: Topology) => [...t.queues.filter((q) => !ownership.queue(q)).map((q) => q.name), ...t.bindings.filter((b) => !ownership.binding(b)).map(bindingKey)].sort();
          expect(foreign(after)).toEqual(foreign(broker));
        }),
        { numRuns: 300 },
      );
    });
  });
});
