// Random broker states for the planner's property tests: some of what Kepler wants,
// some of it changed, owned leftovers, and objects that belong to someone else.
import fc from 'fast-check';
import { OWNER_ARGUMENT, SLOTS, type Slot } from '../../messaging/index.js';
import { bindingKey, desiredTopology, type Action, type BindingDeclaration, type QueueDeclaration, type Topology } from '../../topology/index.js';

export const routingArbitrary = fc.record({
  feed: fc.subarray([...SLOTS] as Slot[]),
  events: fc.subarray([...SLOTS] as Slot[]),
});

/** A broker state around what `prefix` wants under some routing. */
export function brokerArbitrary(prefix: string): fc.Arbitrary<Topology> {
  return fc
    .record({
      routing: routingArbitrary,
      keepExchanges: fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }),
      keepQueues: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
      keepBindings: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
      keepPolicy: fc.boolean(),
      changedPolicy: fc.boolean(),
      ownedLeftovers: fc.uniqueArray(fc.constantFrom('old-a', 'old-b', 'old-c'), { maxLength: 3 }),
      foreignQueues: fc.uniqueArray(fc.constantFrom('audit', 'smoke', 'x'), { maxLength: 3 }),
      foreignBindings: fc.boolean(),
      handBinding: fc.boolean(),
    })
    .map((r) => {
      const base = desiredTopology(r.routing, { prefix });
      const exchanges = base.exchanges.filter((_, i) => r.keepExchanges[i % 7]);
      const queues: QueueDeclaration[] = base.queues.filter((_, i) => r.keepQueues[i % 4]);
      const exchangeNames = new Set(exchanges.map((e) => e.name));
      const queueNames = new Set(queues.map((q) => q.name));
      // A binding exists only between objects that exist.
      const bindings: BindingDeclaration[] = base.bindings.filter(
        (b, i) => r.keepBindings[i % 6] && exchangeNames.has(b.source) && (b.destinationType === 'queue' ? queueNames : exchangeNames).has(b.destination),
      );
      const owner = { [OWNER_ARGUMENT]: prefix };
      for (const name of r.ownedLeftovers) {
        queues.push({ name: `${prefix}.${name}`, durable: true, autoDelete: false, arguments: { 'x-queue-type': 'classic', ...owner } });
        exchanges.push({ name: `${prefix}.${name}.x`, type: 'fanout', durable: true, autoDelete: false, internal: false, arguments: { ...owner } });
        bindings.push({ source: `${prefix}.${name}.x`, destination: `${prefix}.${name}`, destinationType: 'queue', routingKey: '', arguments: owner });
      }
      // Someone else's queues, with Kepler's prefix or not, bound to Kepler's exchanges or not.
      for (const name of r.foreignQueues) {
        queues.push({ name: `${prefix}.${name}`, durable: true, autoDelete: false, arguments: {} });
        queues.push({ name: `elsewhere.${name}`, durable: true, autoDelete: false, arguments: {} });
        if (r.foreignBindings && exchangeNames.has(`${prefix}.events`)) {
          bindings.push({ source: `${prefix}.events`, destination: `elsewhere.${name}`, destinationType: 'queue', routingKey: 'trade.#', arguments: {} });
        }
      }
      // A binding made by hand, without the mark, to a slot queue: not Kepler's.
      if (r.handBinding && exchangeNames.has(`${prefix}.feed`) && queueNames.has(`${prefix}.feed.green`)) {
        bindings.push({ source: `${prefix}.feed`, destination: `${prefix}.feed.green`, destinationType: 'queue', routingKey: 'core', arguments: {} });
      }
      const policies = r.keepPolicy ? base.policies.map((p) => (r.changedPolicy ? { ...p, definition: { 'delivery-limit': 7 } } : p)) : [];
      return { exchanges, queues, bindings, policies };
    });
}

/**
 * The broker as a value (tests only): what each action does to it, as RabbitMQ does
 * it (deleting a queue or an exchange takes its bindings with it).
 */
export function applyToModel(topology: Topology, action: Action): Topology {
  const t = { exchanges: [...topology.exchanges], queues: [...topology.queues], bindings: [...topology.bindings], policies: [...topology.policies] };
  const dropBindingsOf = (name: string) => t.bindings.filter((b) => b.source !== name && b.destination !== name);
  switch (action.action) {
    case 'declare-exchange':
      if (!t.exchanges.some((e) => e.name === action.exchange.name)) t.exchanges.push(action.exchange);
      return t;
    case 'delete-exchange':
      return { ...t, exchanges: t.exchanges.filter((e) => e.name !== action.exchange.name), bindings: dropBindingsOf(action.exchange.name) };
    case 'replace-exchange':
      return { ...t, exchanges: [...t.exchanges.filter((e) => e.name !== action.exchange.name), action.exchange], bindings: dropBindingsOf(action.exchange.name) };
    case 'declare-queue':
      if (!t.queues.some((q) => q.name === action.queue.name)) t.queues.push(action.queue);
      return t;
    case 'delete-queue':
      return { ...t, queues: t.queues.filter((q) => q.name !== action.queue.name), bindings: t.bindings.filter((b) => !(b.destinationType === 'queue' && b.destination === action.queue.name)) };
    case 'replace-queue':
      return {
        ...t,
        queues: [...t.queues.filter((q) => q.name !== action.queue.name), action.queue],
        bindings: t.bindings.filter((b) => !(b.destinationType === 'queue' && b.destination === action.queue.name)),
      };
    case 'bind':
      if (!t.bindings.some((b) => bindingKey(b) === bindingKey(action.binding))) t.bindings.push(action.binding);
      return t;
    case 'unbind':
      return { ...t, bindings: t.bindings.filter((b) => bindingKey(b) !== bindingKey(action.binding)) };
    case 'set-policy':
      return { ...t, policies: [...t.policies.filter((p) => p.name !== action.policy.name), action.policy] };
    case 'delete-policy':
      return { ...t, policies: t.policies.filter((p) => p.name !== action.policy.name) };
  }
}
