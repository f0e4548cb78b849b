// The desired topology, derived from the configuration (prefix, queue type) and the
// slot registry (which slots the broker routes to): data, not declarations.
import { slotBindings, standingObjects, topologyNames, type QueueType, type Slot } from '../messaging/index.js';
import type { PolicyDeclaration, Topology } from './model.js';

export interface DesiredOptions {
  prefix: string;
  queueType?: QueueType;
  /** How often a feed message may be delivered before it is dead-lettered (quorum queues only). */
  deliveryLimit?: number;
}

export const DEFAULT_DELIVERY_LIMIT = 50;

/** Which slots the broker routes to (the slot registry's answer). */
export interface Routing {
  feed: readonly Slot[];
  events: readonly Slot[];
}

export function desiredTopology(routing: Routing, options: DesiredOptions): Topology {
  const names = topologyNames(options.prefix);
  const standing = standingObjects(names, { queueType: options.queueType ?? 'quorum' });
  const bindings = [...standing.bindings];
  for (const slot of routing.feed) bindings.push(slotBindings(names, slot).feed);
  for (const slot of routing.events) bindings.push(slotBindings(names, slot).events);
  const policies: PolicyDeclaration[] = [];
  if ((options.queueType ?? 'quorum') === 'quorum') {
    // A line that kills its consumer every time would hold the single active consumer forever:
    // past the limit the broker dead-letters it, where it is kept for an operator.
    policies.push({
      name: `${options.prefix}.feed-delivery-limit`,
      pattern: `^${escapeRegExp(options.prefix)}\\.feed\\.(blue|green)$`,
      applyTo: 'queues',
      priority: 0,
      definition: { 'delivery-limit': options.deliveryLimit ?? DEFAULT_DELIVERY_LIMIT },
    });
  }
  return { exchanges: standing.exchanges, queues: standing.queues, bindings, policies };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
