// The feed over AMQP ends in the same event-store content as file ingestion of
// the same lines; what can never be processed is recorded and dead-lettered.
import { join } from 'node:path';
import { connect } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LineRejected } from '../../domain/index.js';
import { SqliteEventStore } from '../../eventstore/index.js';
import { formatDetail } from '../../ingestion/cx1/index.js';
import { FeedConsumer, UnpublishableFileError, publishFile, switchLiveSlot } from '../../messaging/index.js';
import { exceptionIdOf, exceptionsProjection } from '../../projections/index.js';
import { tempDir, terms, trd, writeFeedFile } from '../support/feed.js';
import { ingestAsFiles, totals, writeTestFeed, type WrittenFeed } from './feeds.js';
import { allEvents, intakeStreams, rabbitMq, TestBroker, uniquePrefix, waitFor } from './rabbit.js';

const url = await rabbitMq();

describe.skipIf(!url)('CX1 feed over AMQP', () => {
  let broker: TestBroker;
  let store: SqliteEventStore;
  let consumer: FeedConsumer;
  let feed: WrittenFeed;
  let reference: Awaited<ReturnType<typeof ingestAsFiles>>;
  const prefix = uniquePrefix('feed');

  beforeAll(async () => {
    broker = await TestBroker.open(url!, prefix);
    store = SqliteEventStore.open(join(tempDir('kepler-amqp-'), 'events.db'));
    feed = writeTestFeed(150);
    reference = await ingestAsFiles(feed);
  });

  afterAll(async () => {
    await consumer?.stop();
    await broker?.cleanup();
    await store?.close();
    await reference?.store.close();
  });

  it('ends in the same event-store content as file ingestion, duplicates and bad lines included', async () => {
    const [first, ...rest] = feed.paths;
    // Before any slot is live, messages wait in the unrouted queue; making blue live moves them on, in order.
    const published = [await publishFile(broker.channel, broker.names.feedExchange, first!)];
    expect(await broker.messageCount(broker.names.unroutedQueue)).toBe(published[0]!.published);
    expect(await switchLiveSlot(broker.channel, broker.names, 'blue')).toEqual({ live: 'blue', movedUnrouted: published[0]!.published });

    consumer = new FeedConsumer({ url: url!, store, slot: 'blue', prefix, prefetch: 100, connectionName: `${prefix}.consumer` });
    void consumer.run();
    await consumer.whenConsuming();
    for (const path of rest) published.push(await publishFile(broker.channel, broker.names.feedExchange, path));
    const messages = published.reduce((n, p) => n + p.published, 0);
    await waitFor('the consumer to take every message', () => consumer.status.messages >= messages);
    await waitFor('the feed queue to be empty', async () => (await broker.messageCount(broker.names.feedQueues.blue)) === 0);

    // The trailer is the one thing a file has and a message stream has not.
    const expected = await intakeStreams(reference.store, { exceptTypes: ['TrailerMismatched'] });
    const actual = await intakeStreams(store);
    expect([...actual.keys()]).toEqual([...expected.keys()]);
    expect(actual).toEqual(expected);
    for (const [stream, events] of actual) expect(events.length, stream).toBe(1);

    const codes = [...actual.values()].flat().filter((e) => e.type === 'LineRejected').map((e) => (e.data as LineRejected).code);
    expect(new Set(codes)).toEqual(new Set(['INVALID_RECORD', 'SOURCE_MISMATCH', 'SEQUENCE_CONFLICT']));

    const files = totals(reference.summaries);
    expect(consumer.status).toMatchObject({ messages, accepted: files.accepted, duplicates: files.duplicates, rejected: files.rejected, deadLettered: 0 });
    expect(files.duplicates).toBeGreaterThan(10);
  });

  it('records what can never be processed as UNPROCESSABLE_MESSAGE, lists it as an exception, and dead-letters it', async () => {
    const line = formatDetail(990001, { type: 'TRD', tradeRef: 'U1', version: 1, terms: terms() });
    const bad: Array<Record<string, unknown> | undefined> = [
      undefined,
      { 'x-source': 'API', 'x-file': 'CORE_U.cx1', 'x-line': 2 },
      { 'x-source': 'CORE', 'x-file': 'CORE_U.cx1', 'x-line': 'three' },
    ];
    const before = consumer.status.deadLettered;
    for (const headers of bad) broker.channel.publish(broker.names.feedExchange, 'core', Buffer.from(line, 'latin1'), { persistent: true, headers });
    // The same unprocessable message again: dead-lettered again, recorded once.
    broker.channel.publish(broker.names.feedExchange, 'core', Buffer.from(line, 'latin1'), { persistent: true });
    await broker.channel.waitForConfirms();
    await waitFor('the bad messages to be dead-lettered', async () => (await broker.messageCount(broker.names.deadLetterQueue)) === 4);
    expect(consumer.status.deadLettered - before).toBe(4);

    const dead = await broker.channel.get(broker.names.deadLetterQueue, { noAck: true });
    expect(dead && dead.content.toString('latin1')).toBe(line);
    expect(dead && dead.properties.headers?.['x-death']?.[0]).toMatchObject({ reason: 'rejected', queue: broker.names.feedQueues.blue });

    const rejected = (await allEvents(store)).filter((e) => e.type === 'LineRejected' && (e.data as LineRejected).code === 'UNPROCESSABLE_MESSAGE');
    expect(rejected).toHaveLength(3);
    const details = rejected.map((e) => (e.data as LineRejected).detail).sort();
    expect(details[0]).toMatch(/invalid header x-line "three"/);
    expect(details[1]).toMatch(/invalid header x-source "API"/);
    expect(details[2]).toMatch(/missing header x-source; missing header x-file; missing header x-line/);
    for (const event of rejected) {
      expect((event.data as LineRejected).raw).toBe(line);
      // What the exceptions read model makes of it.
      expect(exceptionsProjection.apply(null, event, exceptionIdOf(event))).toMatchObject({ code: 'UNPROCESSABLE_MESSAGE', raw: line, tradeRef: 'U1', resolved: false });
    }
  });

  it('switching slots is a binding change: the idle slot has its own queue', async () => {
    const line = (n: number) => formatDetail(990100 + n, { type: 'TRD', tradeRef: `S${n}`, version: 1, terms: terms() });
    const publish = (n: number) => broker.channel.publish(broker.names.feedExchange, 'core', Buffer.from(line(n), 'latin1'), { headers: { 'x-source': 'CORE', 'x-file': 'CORE_S.cx1', 'x-line': n + 1 } });
    await switchLiveSlot(broker.channel, broker.names, 'green');
    publish(1);
    await broker.channel.waitForConfirms();
    expect(await broker.messageCount(broker.names.feedQueues.green)).toBe(1);
    await switchLiveSlot(broker.channel, broker.names, 'blue');
    publish(2);
    await broker.channel.waitForConfirms();
    await waitFor('blue to take line 2', async () => (await store.readStream('core-990102')).length === 1);
    expect(await broker.messageCount(broker.names.feedQueues.green)).toBe(1);
    expect(await store.readStream('core-990101')).toEqual([]);
  });

  it('a slot switch whose connection closes at once has still taken the waiting messages out of the unrouted queue', async () => {
    const other = await TestBroker.open(url!, uniquePrefix('move'));
    try {
      for (let i = 0; i < 5; i++) other.channel.publish(other.names.feedExchange, 'core', Buffer.from(`line ${i}`));
      await other.channel.waitForConfirms();
      await waitFor('the unrouted queue to hold them', async () => (await other.messageCount(other.names.unroutedQueue)) === 5);
      const connection = await connect(url!);
      const channel = await connection.createConfirmChannel();
      expect(await switchLiveSlot(channel, other.names, 'blue')).toEqual({ live: 'blue', movedUnrouted: 5 });
      await connection.close();
      expect(await other.messageCount(other.names.unroutedQueue)).toBe(0);
      expect(await other.messageCount(other.names.feedQueues.blue)).toBe(5);
    } finally {
      await other.cleanup();
    }
  });

  it('refuses to publish a file whose meaning messages cannot carry', async () => {
    const dir = tempDir('kepler-amqp-bad-');
    const headless = writeFeedFile(dir, { name: 'CORE_NOHDR.cx1', source: 'CORE', header: 'NOT A HEADER', lines: [trd(1, 'X1')] });
    await expect(publishFile(broker.channel, broker.names.feedExchange, headless)).rejects.toThrow(UnpublishableFileError);
  });
});
