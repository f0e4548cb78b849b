// The broker closes the consumer's connection mid-stream (as an operator, a
// restart or a network cut would): the consumer reconnects and finishes, with
// nothing lost and nothing doubled.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../eventstore/index.js';
import { FeedConsumer, publishFile, switchLiveSlot } from '../../messaging/index.js';
import { tempDir } from '../support/feed.js';
import { ingestAsFiles, writeTestFeed } from './feeds.js';
import { allEvents, connectionCloser, forceCloseConnections, intakeStreams, rabbitMq, TestBroker, uniquePrefix, waitFor } from './rabbit.js';

const url = await rabbitMq();
const closer = url ? await connectionCloser() : undefined;

describe.skipIf(!url || !closer)('feed consumer when RabbitMQ closes its connection', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('reconnects with backoff and finishes the stream', async () => {
    const prefix = uniquePrefix('reconnect');
    const broker = await TestBroker.open(url!, prefix);
    cleanups.push(() => broker.cleanup());
    await switchLiveSlot(broker.channel, broker.names, 'blue');
    const queue = broker.names.feedQueues.blue;
    const feed = writeTestFeed(300);
    const reference = await ingestAsFiles(feed);
    cleanups.push(() => reference.store.close());
    for (const path of feed.paths) await publishFile(broker.channel, broker.names.feedExchange, path);

    const store = SqliteEventStore.open(join(tempDir('kepler-amqp-reconnect-'), 'events.db'));
    cleanups.push(() => store.close());
    const connectionName = `${prefix}.consumer`;
    let batches = 0;
    let closedAt: number | null = null;
    const consumer: FeedConsumer = new FeedConsumer({
      url: url!,
      store,
      slot: 'blue',
      prefix,
      prefetch: 100,
      maxBatch: 50,
      connectionName,
      backoff: { initialDelayMs: 50, maxDelayMs: 500 },
      onDurable: async () => {
        if (++batches !== 3) return;
        // Mid-stream, with this batch durable and not yet acknowledged, the broker drops the connection.
        expect(await forceCloseConnections(connectionName, closer!)).toBe(1);
        await waitFor('the consumer to notice', () => !consumer.status.connected, 5000, 5);
        closedAt = consumer.status.messages;
      },
    });
    cleanups.push(() => consumer.stop());
    void consumer.run();

    const expected = await intakeStreams(reference.store, { exceptTypes: ['TrailerMismatched'] });
    await waitFor(
      'the consumer to take everything after reconnecting',
      async () => (await broker.messageCount(queue)) === 0 && (await intakeStreams(store)).size === expected.size,
      30_000,
      100,
    );
    await consumer.stop();
    expect(await broker.messageCount(queue)).toBe(0);

    expect(closedAt).not.toBeNull();
    expect(closedAt!).toBeLessThan(consumer.status.messages);
    expect(consumer.status).toMatchObject({ reconnects: 1, lastError: expect.stringMatching(/CONNECTION_FORCED|closed/i) });
    expect(consumer.status.redelivered).toBeGreaterThan(0);
    expect(consumer.status.duplicates).toBeGreaterThan(0);

    const actual = await intakeStreams(store);
    expect(actual).toEqual(expected);
    for (const [stream, events] of actual) expect(events.length, stream).toBe(1);
    const ids = (await allEvents(store)).map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
