// The planner: the operations that make the broker match the desired topology. Pure.
//
// Ownership rules: only objects Kepler owns are ever deleted or replaced; a binding
// is changed by creating the new one before deleting the old, so routing never has a
// gap; a queue is never deleted while it holds messages (the executor checks again,
// with the broker's own count, just before); a queue whose immutable arguments must
// change is replaced only once nothing routes to it (after a cut-over to the other slot).
import {
  bindingKey,
  describeBinding,
  digestOf,
  Ownership,
  scoped,
  significant,
  type BindingDeclaration,
  type ExchangeDeclaration,
  type PolicyDeclaration,
  type QueueDeclaration,
  type Topology,
  canonical,
} from './model.js';

export type Action =
  | { action: 'declare-exchange'; exchange: ExchangeDeclaration }
  | { action: 'delete-exchange'; exchange: ExchangeDeclaration }
  | { action: 'replace-exchange'; exchange: ExchangeDeclaration; previous: ExchangeDeclaration }
  | { action: 'declare-queue'; queue: QueueDeclaration }
  | { action: 'delete-queue'; queue: QueueDeclaration }
  | { action: 'replace-queue'; queue: QueueDeclaration; previous: QueueDeclaration }
  | { action: 'bind'; binding: BindingDeclaration }
  | { action: 'unbind'; binding: BindingDeclaration }
  | { action: 'set-policy'; policy: PolicyDeclaration; previous: PolicyDeclaration | null }
  | { action: 'delete-policy'; policy: PolicyDeclaration };

/**
 * low: adds something; medium: changes routing or a policy; high: deletes or
 * replaces an object (a queue's messages cannot be restored by an inverse).
 */
export type Risk = 'low' | 'medium' | 'high';

export type Operation = Action & {
  risk: Risk;
  why: string;
  /** What undoes it. */
  inverse: Action;
  /** Set when the executor must refuse it until an operator acts (said how). */
  blocked?: string;
};

export interface Plan {
  /** Digest of the broker state (in Kepler's scope) the plan was made against. */
  basedOn: string;
  prefix: string;
  vhost: string;
  ops: Operation[];
  /** Owned objects nothing wants any more, left alone because the plan was made without prune. */
  kept: string[];
}

export interface PlanOptions {
  prefix: string;
  vhost: string;
  /** Also delete owned exchanges, queues and policies that are no longer desired. */
  prune?: boolean;
}

const ORDER: Record<Action['action'], number> = {
  'declare-exchange': 0,
  'replace-exchange': 1,
  'declare-queue': 2,
  'replace-queue': 3,
  'set-policy': 4,
  bind: 5,
  unbind: 6,
  'delete-policy': 7,
  'delete-queue': 8,
  'delete-exchange': 9,
};

export function planTopology(desired: Topology, broker: Topology, options: PlanOptions): Plan {
  const ownership = new Ownership(options.prefix);
  const actual = scoped(broker, ownership);
  const ops: Operation[] = [];
  const kept: string[] = [];

  const actualExchanges = new Map(actual.exchanges.map((e) => [e.name, e]));
  const desiredExchanges = new Map(desired.exchanges.map((e) => [e.name, e]));
  for (const exchange of desired.exchanges) {
    const present = actualExchanges.get(exchange.name);
    if (!present) ops.push({ action: 'declare-exchange', exchange, risk: 'low', why: 'missing', inverse: { action: 'delete-exchange', exchange } });
    else if (significant(present) !== significant(exchange)) {
      ops.push({
        action: 'replace-exchange',
        exchange,
        previous: present,
        risk: 'high',
        why: `type, flags or arguments differ: ${significant(present)} → ${significant(exchange)}`,
        inverse: { action: 'replace-exchange', exchange: present, previous: exchange },
        ...(!ownership.exchange(present) && { blocked: `exchange ${exchange.name} exists but was not created by Kepler: change it by hand` }),
      });
    }
  }

  const desiredBindings = new Map(desired.bindings.map((b) => [bindingKey(b), b]));
  const actualBindings = new Map(actual.bindings.map((b) => [bindingKey(b), b]));
  /** Bindings of someone else's that deleting an object would take with it. */
  const foreignBindingsOf = (name: string, type: 'queue' | 'exchange') =>
    actual.bindings.filter((b) => !ownership.binding(b) && ((b.destinationType === type && b.destination === name) || (type === 'exchange' && b.source === name)));

  const actualQueues = new Map(actual.queues.map((q) => [q.name, q]));
  const desiredQueues = new Map(desired.queues.map((q) => [q.name, q]));
  for (const queue of desired.queues) {
    const present = actualQueues.get(queue.name);
    if (!present) ops.push({ action: 'declare-queue', queue, risk: 'low', why: 'missing', inverse: { action: 'delete-queue', queue } });
    else if (significant(present) !== significant(queue)) {
      const routedTo = desired.bindings.some((b) => b.destinationType === 'queue' && b.destination === queue.name && !isStanding(b, desired, queue.name));
      const foreign = foreignBindingsOf(queue.name, 'queue');
      ops.push({
        action: 'replace-queue',
        queue,
        previous: present,
        risk: 'high',
        why: `immutable arguments differ: ${significant(present)} → ${significant(queue)}`,
        inverse: { action: 'replace-queue', queue: present, previous: queue },
        ...(!ownership.queue(present)
          ? { blocked: `queue ${queue.name} exists but was not created by Kepler: change it by hand` }
          : routedTo
            ? { blocked: `the feed is routed to ${queue.name}: cut over to the other slot, drain this one, then apply again` }
            : foreign.length > 0
              ? { blocked: `bindings Kepler did not make point at ${queue.name} (${foreign.map(describeBinding).join('; ')})` }
              : {}),
      });
    }
  }

  for (const policy of desired.policies) {
    const present = actual.policies.find((p) => p.name === policy.name) ?? null;
    if (!present) ops.push({ action: 'set-policy', policy, previous: null, risk: 'low', why: 'missing', inverse: { action: 'delete-policy', policy } });
    else if (canonical(present) !== canonical(policy)) {
      ops.push({ action: 'set-policy', policy, previous: present, risk: 'medium', why: 'definition differs', inverse: { action: 'set-policy', policy: present, previous: policy } });
    }
  }

  for (const [key, binding] of desiredBindings) {
    if (!actualBindings.has(key)) ops.push({ action: 'bind', binding, risk: 'low', why: `missing: ${describeBinding(binding)}`, inverse: { action: 'unbind', binding } });
  }
  // Routing is the reconciler's to keep: an owned binding nobody wants goes, prune or not.
  for (const [key, binding] of actualBindings) {
    if (desiredBindings.has(key) || !ownership.binding(binding)) continue;
    ops.push({ action: 'unbind', binding, risk: 'medium', why: `not desired: ${describeBinding(binding)}`, inverse: { action: 'bind', binding } });
  }

  for (const policy of actual.policies) {
    if (ownership.policy(policy) && !desired.policies.some((p) => p.name === policy.name)) {
      if (!options.prune) kept.push(`policy ${policy.name}`);
      else ops.push({ action: 'delete-policy', policy, risk: 'medium', why: 'not desired', inverse: { action: 'set-policy', policy, previous: null } });
    }
  }
  for (const queue of actual.queues) {
    if (!ownership.queue(queue) || desiredQueues.has(queue.name)) continue;
    const foreign = foreignBindingsOf(queue.name, 'queue');
    if (!options.prune) kept.push(`queue ${queue.name}`);
    else {
      ops.push({
        action: 'delete-queue',
        queue,
        risk: 'high',
        why: 'not desired',
        inverse: { action: 'declare-queue', queue },
        ...(foreign.length > 0 && { blocked: `bindings Kepler did not make point at it (${foreign.map(describeBinding).join('; ')})` }),
      });
    }
  }
  for (const exchange of actual.exchanges) {
    if (!ownership.exchange(exchange) || desiredExchanges.has(exchange.name)) continue;
    const foreign = foreignBindingsOf(exchange.name, 'exchange');
    if (!options.prune) kept.push(`exchange ${exchange.name}`);
    else {
      ops.push({
        action: 'delete-exchange',
        exchange,
        risk: 'high',
        why: 'not desired',
        inverse: { action: 'declare-exchange', exchange },
        ...(foreign.length > 0 && { blocked: `bindings Kepler did not make use it (${foreign.map(describeBinding).join('; ')})` }),
      });
    }
  }

  ops.sort((a, b) => ORDER[a.action] - ORDER[b.action]);
  return { basedOn: digestOf(actual), prefix: options.prefix, vhost: options.vhost, ops, kept };
}

/** A standing binding (dead letters, unrouted) is not routing: it does not block replacing its queue. */
function isStanding(binding: BindingDeclaration, desired: Topology, queue: string): boolean {
  return binding.routingKey === '' && desired.exchanges.some((e) => e.name === binding.source && e.type === 'fanout') && binding.destination === queue;
}

/** The operations that undo a plan carried out up to `done`, in the order to carry them out. */
export function inversePlan(ops: readonly Operation[]): Action[] {
  return [...ops].reverse().map((op) => op.inverse);
}

export function describeAction(action: Action): string {
  switch (action.action) {
    case 'declare-exchange':
    case 'delete-exchange':
    case 'replace-exchange':
      return `${action.action} ${action.exchange.name} (${action.exchange.type})`;
    case 'declare-queue':
    case 'delete-queue':
    case 'replace-queue':
      return `${action.action} ${action.queue.name}`;
    case 'bind':
    case 'unbind':
      return `${action.action} ${describeBinding(action.binding)}`;
    case 'set-policy':
    case 'delete-policy':
      return `${action.action} ${action.policy.name}`;
  }
}
