// Integration events out: published with confirms from a durable checkpoint on
// the event store (the outbox), at least once; consumers dedupe by message-id.
import { join } from 'node:path';
import type { ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deterministicId, SqliteEventStore, type EventData, type StreamAppend } from '../../eventstore/index.js';
import { INTEGRATION_ROUTING_KEYS, IntegrationPublisher, publisherCaughtUp, switchLiveSlot, type IntegrationEventBody } from '../../messaging/index.js';
import { tempDir } from '../support/feed.js';
import { connectionCloser, forceCloseConnections, rabbitMq, TestBroker, uniquePrefix, waitFor } from './rabbit.js';

const url = await rabbitMq();
const closer = url ? await connectionCloser() : undefined;
const CHECKPOINT = 'publisher:blue';
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/** Per trade: what the processors would write, published or not. Returns the ids that must be published. */
async function appendTrades(store: SqliteEventStore, from: number, count: number): Promise<string[]> {
  const published: string[] = [];
  const appends: StreamAppend[] = [];
  const event = (stream: string, type: string, ref: string, n: number, data: object = {}): EventData => {
    const id = deterministicId(stream, type, n);
    if (INTEGRATION_ROUTING_KEYS[type]) published.push(id);
    return {
      id,
      type,
      data: { type, tradeRef: ref, inputId: `in-${n}`, ...data },
      metadata: { correlationId: ref, causationId: `cause-${n}`, ...(n % 2 === 0 && { traceparent: TRACEPARENT }) },
    };
  };
  for (let n = from; n < from + count; n++) {
    const ref = `P${n}`;
    appends.push({ stream: `core-${n}`, expectedRevision: 'no_stream', events: [event(`core-${n}`, 'NewTradeReceived', ref, n)] });
    appends.push({ stream: `trade-${ref}`, expectedRevision: 'no_stream', events: [event(`trade-${ref}`, 'VersionApplied', ref, n, { version: 1 })] });
    const booking = [event(`booking-${ref}`, 'AllocationNoted', ref, n), event(`booking-${ref}`, 'TradeBooked', ref, n, { version: 1 })];
    if (n % 3 === 0) booking.push(event(`booking-${ref}`, 'BookingReversed', ref, n, { version: 1, reason: 'amended' }));
    appends.push({ stream: `booking-${ref}`, expectedRevision: 'no_stream', events: booking });
    if (n % 5 === 0) appends.push({ stream: `trade-${ref}-x`, expectedRevision: 'no_stream', events: [event(`trade-${ref}-x`, 'TradeCancelled', ref, n, { version: 2 })] });
  }
  for (const outcome of await store.appendMany(appends)) expect(outcome.ok).toBe(true);
  return published;
}

describe.skipIf(!url)('integration publisher', () => {
  let broker: TestBroker;
  let store: SqliteEventStore;
  let received: ConsumeMessage[] = [];
  const prefix = uniquePrefix('publisher');
  const cleanups: Array<() => Promise<void>> = [];
  let instances = 0;
  const publisher = (extra: Partial<ConstructorParameters<typeof IntegrationPublisher>[0]> = {}) => {
    const p = new IntegrationPublisher({
      url: url!,
      store,
      slot: 'blue',
      prefix,
      batchSize: 50,
      connectionName: `${prefix}.publisher.${++instances}`,
      backoff: { initialDelayMs: 50, maxDelayMs: 200 },
      ...extra,
    });
    cleanups.push(() => p.stop());
    return p;
  };
  const uniqueIds = () => new Set(received.map((m) => String(m.properties.messageId)));

  beforeAll(async () => {
    broker = await TestBroker.open(url!, prefix);
    store = SqliteEventStore.open(join(tempDir('kepler-amqp-pub-'), 'events.db'));
    await switchLiveSlot(broker.channel, broker.names, 'blue');
    // An integration consumer: its own queue on the events exchange.
    const queue = await broker.queue(`${prefix}.consumer`);
    await broker.channel.bindQueue(queue, broker.names.eventsExchange, '#');
    await broker.channel.consume(queue, (m) => m && received.push(m), { noAck: true });
  });

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await broker?.cleanup();
    await store?.close();
  });

  it('stores its checkpoint only after the broker confirmed, and publishes again from it', async () => {
    const ids = await appendTrades(store, 0, 60);
    // A queue that refuses everything: the broker nacks every publish while it is bound.
    const blocker = await broker.queue(`${prefix}.blocker`, { 'x-max-length': 0, 'x-overflow': 'reject-publish' });
    await broker.channel.bindQueue(blocker, broker.names.eventsExchange, '#');

    const confirmedAt: Array<{ position: number; checkpoint: number | null }> = [];
    const first = publisher({ onConfirmed: async ({ position }) => void confirmedAt.push({ position, checkpoint: await store.readCheckpoint(CHECKPOINT) }) });
    void first.run();
    await waitFor('two failed attempts', () => first.status.reconnects >= 2, 10_000);
    expect(first.status.lastError).toMatch(/nack/i);
    expect(await store.readCheckpoint(CHECKPOINT)).toBeNull();
    expect(confirmedAt).toEqual([]);
    expect(received.length).toBeGreaterThan(0); // routed to our queue, yet not confirmed

    await broker.channel.deleteQueue(blocker);
    const head = await store.headPosition();
    await waitFor('the checkpoint to reach the head', async () => (await store.readCheckpoint(CHECKPOINT)) === head, 10_000);
    // Confirmed first, checkpoint after: when a batch was confirmed, the checkpoint was still behind it.
    expect(confirmedAt.length).toBeGreaterThan(1);
    for (const { position, checkpoint } of confirmedAt) expect(checkpoint ?? 0).toBeLessThan(position);

    // At least once: the same events more than once; deduplicated by message-id, exactly the set.
    await waitFor('every event to arrive', () => uniqueIds().size === ids.length, 5000);
    expect(received.length).toBeGreaterThan(ids.length);
    expect(uniqueIds()).toEqual(new Set(ids));
    await first.stop();
  });

  it('carries message-id, correlation id, traceparent and a JSON body, routed by event type', () => {
    const one = new Map(received.map((m) => [String(m.properties.messageId), m]));
    const types = new Set<string>();
    for (const [id, message] of one) {
      const body = JSON.parse(message.content.toString('utf8')) as IntegrationEventBody;
      types.add(body.type);
      expect(body.id).toBe(id);
      expect(message.fields.routingKey).toBe(INTEGRATION_ROUTING_KEYS[body.type]);
      expect(message.fields.exchange).toBe(broker.names.slotEventsExchanges.blue);
      expect(message.properties).toMatchObject({ correlationId: body.correlationId, type: body.type, contentType: 'application/json', deliveryMode: 2, appId: 'kepler' });
      const even = Number(body.correlationId.slice(1)) % 2 === 0;
      expect(message.properties.headers?.traceparent).toBe(even ? TRACEPARENT : undefined);
      expect(body.traceparent).toBe(even ? TRACEPARENT : null);
      expect(body.causationId).toMatch(/^cause-/);
    }
    expect(types).toEqual(new Set(['VersionApplied', 'TradeBooked', 'BookingReversed', 'TradeCancelled']));
  });

  it('a restarted publisher resumes from its checkpoint', async () => {
    received = [];
    const ids = await appendTrades(store, 100, 20);
    const second = publisher();
    void second.run();
    const head = await store.headPosition();
    await waitFor('the checkpoint to reach the head', async () => (await store.readCheckpoint(CHECKPOINT)) === head, 10_000);
    await waitFor('the new events to arrive', () => received.length >= ids.length, 5000);
    // Nothing before the checkpoint again, nothing twice: no failure in between.
    expect(received.map((m) => String(m.properties.messageId)).sort()).toEqual([...ids].sort());
    await second.stop();
  });

  it.skipIf(!closer)('reconnects when RabbitMQ drops its connection mid-stream, and publishes the unfinished batch again', async () => {
    received = [];
    const ids = await appendTrades(store, 1000, 100);
    let batches = 0;
    let checkpointAtClose: number | null = null;
    const third = publisher({
      onConfirmed: async () => {
        if (++batches !== 2) return;
        // Batch 2 is confirmed, its checkpoint not yet stored: the broker drops the connection.
        checkpointAtClose = await store.readCheckpoint(CHECKPOINT);
        expect(await forceCloseConnections(`${prefix}.publisher.${instances}`, closer!)).toBe(1);
        await new Promise((resolve) => setTimeout(resolve, 200));
      },
    });
    void third.run();
    const head = await store.headPosition();
    await waitFor('the checkpoint to reach the head', async () => (await store.readCheckpoint(CHECKPOINT)) === head, 20_000);
    await waitFor('every event to arrive', () => ids.every((id) => uniqueIds().has(id)), 5000);
    expect(third.status.reconnects).toBe(1);
    expect(third.status.lastError).toMatch(/CONNECTION_FORCED/);
    expect(checkpointAtClose).not.toBeNull();
    // The batch confirmed but not checkpointed was published again after reconnecting.
    expect(received.length).toBeGreaterThan(ids.length);
    expect(uniqueIds()).toEqual(new Set(ids));
    await third.stop();
  });

  it('switching the live slot hands publishing over: no gap, and the new slot does not replay history', async () => {
    received = [];
    const blue = publisher();
    void blue.run();
    const head = await store.headPosition();
    await waitFor('blue to be caught up', async () => (await store.readCheckpoint(CHECKPOINT)) === head, 10_000);
    // Green comes up idle, from blue's checkpoint; what it publishes goes to its own exchange only.
    const green = publisher({ slot: 'green' });
    void green.run();
    await waitFor('green to follow the store', () => green.status.connected && green.status.position === head, 10_000);

    const during = appendTrades(store, 2000, 10);
    await switchLiveSlot(broker.channel, broker.names, 'green', { beforeUnbind: publisherCaughtUp(store, 'blue', { timeoutMs: 10_000 }) });
    const after = await appendTrades(store, 2100, 10);
    const ids = [...(await during), ...after];
    const last = await store.headPosition();
    await waitFor('both publishers to pass the head', async () => (await store.readCheckpoint('publisher:green')) === last && (await store.readCheckpoint(CHECKPOINT)) === last, 10_000);
    await waitFor('every new event to arrive', () => ids.every((id) => uniqueIds().has(id)), 5000);
    expect(uniqueIds()).toEqual(new Set(ids));
    // After the switch only green's exchange reaches consumers.
    const afterSwitch = received.filter((m) => Number(JSON.parse(m.content.toString('utf8')).correlationId.slice(1)) >= 2100);
    expect(afterSwitch.length).toBe(after.length);
    expect(new Set(afterSwitch.map((m) => m.fields.exchange))).toEqual(new Set([broker.names.slotEventsExchanges.green]));
    await Promise.all([blue.stop(), green.stop()]);
  });
});
