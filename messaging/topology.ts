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
import type { Channel, ConfirmChannel, Options } from 'amqplib';

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

/** Declares the whole topology, idempotently. Does not change which slot is live. */
export async function declareTopology(channel: Channel, names: TopologyNames, options: TopologyOptions = {}): Promise<void> {
  const queue = (extra: Options.AssertQueue = {}, args: Record<string, unknown> = {}): Options.AssertQueue => ({
    durable: true,
    ...extra,
    arguments: { 'x-queue-type': options.queueType ?? 'quorum', ...args },
  });
  await channel.assertExchange(names.deadLetterExchange, 'fanout', { durable: true });
  await channel.assertQueue(names.deadLetterQueue, queue());
  await channel.bindQueue(names.deadLetterQueue, names.deadLetterExchange, '');

  await channel.assertExchange(names.unroutedExchange, 'fanout', { durable: true });
  await channel.assertQueue(names.unroutedQueue, queue());
  await channel.bindQueue(names.unroutedQueue, names.unroutedExchange, '');

  await channel.assertExchange(names.feedExchange, 'topic', { durable: true, alternateExchange: names.unroutedExchange });
  for (const slot of SLOTS) {
    // Single active consumer: replicas of a slot take over from each other, and lines are taken in feed order.
    // Quorum queues dead-letter at least once (the broker keeps the message until the DLQ confirmed it);
    // that strategy requires reject-publish overflow, which never triggers as the queue has no length limit.
    const deadLettering = (options.queueType ?? 'quorum') === 'quorum' ? { 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' } : {};
    await channel.assertQueue(
      names.feedQueues[slot],
      queue({ deadLetterExchange: names.deadLetterExchange }, { 'x-single-active-consumer': true, ...deadLettering }),
    );
  }

  await channel.assertExchange(names.eventsExchange, 'topic', { durable: true });
  for (const slot of SLOTS) {
    await channel.assertExchange(names.slotEventsExchanges[slot], 'topic', { durable: true });
  }
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
  const idle = otherSlot(live);
  await channel.bindQueue(names.feedQueues[live], names.feedExchange, '#');
  await channel.bindExchange(names.eventsExchange, names.slotEventsExchanges[live], '#');
  await options.beforeUnbind?.();
  await channel.unbindQueue(names.feedQueues[idle], names.feedExchange, '#');
  await channel.unbindExchange(names.eventsExchange, names.slotEventsExchanges[idle], '#');
  const movedUnrouted = await moveMessages(channel, names.unroutedQueue, names.feedExchange);
  return { live, movedUnrouted };
}

/**
 * Republishes the messages ready in `queue` to `exchange` (same routing key,
 * properties and headers), acknowledging them only once the broker confirmed
 * the copies: at least once. Takes at most what was ready when it started.
 * Uses basic.get, so not for the feed queues (single active consumer).
 */
export async function moveMessages(channel: ConfirmChannel, queue: string, exchange: string, chunk = 200): Promise<number> {
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
        headers: p.headers,
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
