// Every exchange, queue and binding Kepler uses on RabbitMQ, declared in one
// place. Declaring is idempotent: every component declares on each (re)connect,
// and declaring again with the same arguments changes nothing.
//
//   legacy publishers ──► kepler.feed (topic, key = source in lower case)
//                             │  alternate exchange, while no slot is live:
//                             │      kepler.feed.unrouted (fanout) ──► queue kepler.feed.unrouted
//                             │  '#', only for the live slot:
//                             ▼
//                         queue kepler.feed.blue    queue kepler.feed.green
//                             │  nack(requeue=false) = can never be processed:
//                             ▼
//                         kepler.feed.dlx (fanout) ──► queue kepler.feed.dead
//
//   publisher of slot S ──► kepler.events.S (topic) ──'#', only for the live slot──► kepler.events (topic)
//                                                                                     ▲ integration consumers bind here
//
// Blue/green: both slots' queues and exchanges always exist. The live slot is
// the one whose feed queue is bound to kepler.feed and whose events exchange is
// bound to kepler.events; the idle slot runs against its own queue and its own
// exchange (smoke tests publish to kepler.feed.<idle> through the default
// exchange, and may bind a queue to kepler.events.<idle>). switchLiveSlot()
// makes a slot live: a binding change, made before the old one is broken.
import type { Channel, ConfirmChannel } from 'amqplib';

export const SLOTS = ['blue', 'green'] as const;
export type Slot = (typeof SLOTS)[number];

export const DEFAULT_PREFIX = 'kepler';

export type QueueType = 'quorum' | 'classic';

export interface TopologyNames {
  prefix: string;
  /** Topic exchange the legacy systems publish CX1 lines to; routing key = source in lower case. */
  feedExchange: string;
  /** Alternate exchange of the feed exchange: catches what arrives while no slot is live. */
  unroutedExchange: string;
  unroutedQueue: string;
  /** Each slot's feed queue; the live slot's is bound to the feed exchange. */
  feedQueues: Record<Slot, string>;
  /** Dead-letter exchange of the feed queues (fanout) and its queue. */
  deadLetterExchange: string;
  deadLetterQueue: string;
  /** Topic exchange integration consumers bind to; routing key = integration event type. */
  eventsExchange: string;
  /** Each slot's publisher publishes here; the live slot's is bound to the events exchange. */
  slotEventsExchanges: Record<Slot, string>;
}

export function topologyNames(prefix: string = DEFAULT_PREFIX): TopologyNames {
  if (!/^[A-Za-z0-9_.-]+$/.test(prefix)) throw new Error(`invalid AMQP name prefix ${JSON.stringify(prefix)}`);
  return {
    prefix,
    feedExchange: `${prefix}.feed`,
    unroutedExchange: `${prefix}.feed.unrouted`,
    unroutedQueue: `${prefix}.feed.unrouted`,
    feedQueues: { blue: `${prefix}.feed.blue`, green: `${prefix}.feed.green` },
    deadLetterExchange: `${prefix}.feed.dlx`,
    deadLetterQueue: `${prefix}.feed.dead`,
    eventsExchange: `${prefix}.events`,
    slotEventsExchanges: { blue: `${prefix}.events.blue`, green: `${prefix}.events.green` },
  };
}

export function isSlot(value: string): value is Slot {
  return (SLOTS as readonly string[]).includes(value);
}

export function otherSlot(slot: Slot): Slot {
  return slot === 'blue' ? 'green' : 'blue';
}

export interface TopologyOptions {
  /**
   * Queue type of every queue (default quorum: replicated, and the recommended
   * durable type). Changing it for existing queues fails (PRECONDITION_FAILED):
   * queues cannot change type in place.
   */
  queueType?: QueueType;
}

/**
 * Kepler marks what it creates with this argument (value: the name prefix), on
 * exchanges, queues and bindings, so the topology reconciler tells its own
 * objects from anyone else's. RabbitMQ keeps unknown x- arguments and ignores
 * them in routing, and does not compare them when a queue is declared again.
 */
export const OWNER_ARGUMENT = 'x-kepler-owner';

/**
 * The header naming the slot that produced a message. Not an x- name: a headers
 * exchange ignores x- keys when it matches, and a slot's traffic must be routable by it.
 */
export const SLOT_HEADER = 'kepler-slot';

export type Arguments = Record<string, unknown>;

export interface ExchangeDeclaration {
  name: string;
  type: 'topic' | 'fanout' | 'direct' | 'headers';
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
  arguments: Arguments;
}

export interface QueueDeclaration {
  name: string;
  durable: boolean;
  autoDelete: boolean;
  arguments: Arguments;
}

export interface BindingDeclaration {
  /** The exchange messages come from. */
  source: string;
  destination: string;
  destinationType: 'queue' | 'exchange';
  routingKey: string;
  arguments: Arguments;
}

/** The arguments every binding Kepler makes carries. */
export function ownedBindingArguments(names: TopologyNames): Arguments {
  return { [OWNER_ARGUMENT]: names.prefix };
}

/**
 * The exchanges and queues Kepler always has, whichever slot is live, and the
 * bindings that never change: as data, so that declaring them on connect and
 * the reconciler's desired topology are the same thing.
 */
export function standingObjects(names: TopologyNames, options: TopologyOptions = {}): { exchanges: ExchangeDeclaration[]; queues: QueueDeclaration[]; bindings: BindingDeclaration[] } {
  const owner = { [OWNER_ARGUMENT]: names.prefix };
  const queueType = options.queueType ?? 'quorum';
  const exchange = (name: string, type: ExchangeDeclaration['type'], args: Arguments = {}): ExchangeDeclaration => ({
    name,
    type,
    durable: true,
    autoDelete: false,
    internal: false,
    arguments: { ...args, ...owner },
  });
  const queue = (name: string, args: Arguments = {}): QueueDeclaration => ({ name, durable: true, autoDelete: false, arguments: { 'x-queue-type': queueType, ...args, ...owner } });
  // Single active consumer: replicas of a slot take over from each other, and lines are taken in feed order.
  // Quorum queues dead-letter at least once (the broker keeps the message until the DLQ confirmed it);
  // that strategy requires reject-publish overflow, which never triggers as the queue has no length limit.
  const deadLettering = queueType === 'quorum' ? { 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' } : {};
  const bind = (source: string, destination: string): BindingDeclaration => ({ source, destination, destinationType: 'queue', routingKey: '', arguments: ownedBindingArguments(names) });
  return {
    exchanges: [
      exchange(names.deadLetterExchange, 'fanout'),
      exchange(names.unroutedExchange, 'fanout'),
      exchange(names.feedExchange, 'topic', { 'alternate-exchange': names.unroutedExchange }),
      exchange(names.eventsExchange, 'topic'),
      ...SLOTS.map((slot) => exchange(names.slotEventsExchanges[slot], 'topic')),
    ],
    queues: [
      queue(names.deadLetterQueue),
      queue(names.unroutedQueue),
      ...SLOTS.map((slot) => queue(names.feedQueues[slot], { 'x-dead-letter-exchange': names.deadLetterExchange, 'x-single-active-consumer': true, ...deadLettering })),
    ],
    bindings: [bind(names.deadLetterExchange, names.deadLetterQueue), bind(names.unroutedExchange, names.unroutedQueue)],
  };
}

/** The bindings that make `slot` receive the feed and publish events: what "routed" means. */
export function slotBindings(names: TopologyNames, slot: Slot): { feed: BindingDeclaration; events: BindingDeclaration } {
  const args = ownedBindingArguments(names);
  return {
    feed: { source: names.feedExchange, destination: names.feedQueues[slot], destinationType: 'queue', routingKey: '#', arguments: args },
    events: { source: names.slotEventsExchanges[slot], destination: names.eventsExchange, destinationType: 'exchange', routingKey: '#', arguments: args },
  };
}

/** Declares the exchanges and queues and the standing bindings, idempotently. Does not change which slot is live. */
export async function declareTopology(channel: Channel, names: TopologyNames, options: TopologyOptions = {}): Promise<void> {
  const objects = standingObjects(names, options);
  for (const e of objects.exchanges) await channel.assertExchange(e.name, e.type, { durable: e.durable, autoDelete: e.autoDelete, internal: e.internal, arguments: e.arguments });
  for (const q of objects.queues) await channel.assertQueue(q.name, { durable: q.durable, autoDelete: q.autoDelete, arguments: q.arguments });
  for (const b of objects.bindings) await bind(channel, b);
}

export async function bind(channel: Channel, b: BindingDeclaration): Promise<void> {
  if (b.destinationType === 'queue') await channel.bindQueue(b.destination, b.source, b.routingKey, b.arguments);
  else await channel.bindExchange(b.destination, b.source, b.routingKey, b.arguments);
}

export async function unbind(channel: Channel, b: BindingDeclaration): Promise<void> {
  if (b.destinationType === 'queue') await channel.unbindQueue(b.destination, b.source, b.routingKey, b.arguments);
  else await channel.unbindExchange(b.destination, b.source, b.routingKey, b.arguments);
}

export interface SwitchOptions {
  /**
   * Runs once both slots are bound, before the old slot is unbound. Give it
   * the wait for the old slot's publisher to pass the event-store head (see
   * README): every event is then published through a live binding at least once.
   */
  beforeUnbind?: () => Promise<void>;
}

export interface SwitchReport {
  live: Slot;
  /** Messages moved from the unrouted queue to the feed exchange. */
  movedUnrouted: number;
}

/**
 * Makes `live` the live slot: binds its feed queue and events exchange, then
 * unbinds the other slot's (make before break, so no message published
 * meanwhile is lost; one published in between reaches both slots, which is
 * harmless since ingestion is idempotent). Then republishes, with confirms,
 * what waited in the unrouted queue. What the old slot's queue still holds is
 * consumed by the old slot: retire it once its queue is empty. Idempotent.
 * `channel` must not be used for anything else meanwhile (its acks are multiple).
 */
export async function switchLiveSlot(channel: ConfirmChannel, names: TopologyNames, live: Slot, options: SwitchOptions = {}): Promise<SwitchReport> {
  const next = slotBindings(names, live);
  const previous = slotBindings(names, otherSlot(live));
  await bind(channel, next.feed);
  await bind(channel, next.events);
  await options.beforeUnbind?.();
  await unbind(channel, previous.feed);
  await unbind(channel, previous.events);
  const movedUnrouted = await moveMessages(channel, names.unroutedQueue, names.feedExchange, { slot: live });
  return { live, movedUnrouted };
}

/**
 * Republishes the messages ready in `queue` to `exchange` (same routing key,
 * properties and headers), acknowledging them only once the broker confirmed
 * the copies: at least once. Takes at most what was ready when it started.
 * Uses basic.get, so not for the feed queues (single active consumer). With
 * `slot`, each copy carries the kepler-slot header of the slot that moved it on.
 */
export async function moveMessages(channel: ConfirmChannel, queue: string, exchange: string, options: { chunk?: number; slot?: Slot } = {}): Promise<number> {
  const chunk = options.chunk ?? 200;
  const { messageCount } = await channel.checkQueue(queue);
  let moved = 0;
  while (moved < messageCount) {
    let last: Awaited<ReturnType<Channel['get']>> = false;
    let taken = 0;
    for (; taken < Math.min(chunk, messageCount - moved); taken++) {
      const message = await channel.get(queue, { noAck: false });
      if (message === false) break;
      const { properties: p } = message;
      channel.publish(exchange, message.fields.routingKey, message.content, {
        headers: options.slot ? { ...p.headers, [SLOT_HEADER]: options.slot } : p.headers,
        persistent: p.deliveryMode === 2,
        ...(p.messageId !== undefined && { messageId: String(p.messageId) }),
        ...(p.correlationId !== undefined && { correlationId: String(p.correlationId) }),
        ...(p.contentType !== undefined && { contentType: String(p.contentType) }),
        ...(p.type !== undefined && { type: String(p.type) }),
        ...(p.appId !== undefined && { appId: String(p.appId) }),
        ...(typeof p.timestamp === 'number' && { timestamp: p.timestamp }),
      });
      last = message;
    }
    if (last === false) break;
    await channel.waitForConfirms();
    channel.ack(last, true);
    moved += taken;
    if (taken < chunk) break;
  }
  // A round trip on this channel, so the acks above have reached the broker before the caller closes
  // the connection: amqplib can write a connection's close ahead of a channel's pending frames, and an
  // ack lost that way leaves every moved message in the queue, to be moved again next time.
  await channel.checkQueue(queue);
  return moved;
}

/** Deletes everything declareTopology declares (tests, and retiring a prefix). */
export async function deleteTopology(channel: Channel, names: TopologyNames): Promise<void> {
  for (const slot of SLOTS) await channel.deleteQueue(names.feedQueues[slot]);
  await channel.deleteQueue(names.deadLetterQueue);
  await channel.deleteQueue(names.unroutedQueue);
  for (const exchange of [
    names.feedExchange,
    names.unroutedExchange,
    names.deadLetterExchange,
    ...SLOTS.map((slot) => names.slotEventsExchanges[slot]),
    names.eventsExchange,
  ]) {
    await channel.deleteExchange(exchange);
  }
}
