// Messages carry their slot in kepler-slot, a name a headers exchange matches on (it ignores x- keys).
import { afterAll, describe, expect, it } from 'vitest';
import { integrationMessage, SLOT_HEADER } from '../../messaging/index.js';
import { rabbitMq, TestBroker, uniquePrefix, waitFor } from './rabbit.js';

const url = await rabbitMq();

describe.skipIf(!url)('the kepler-slot header', () => {
  let broker: TestBroker | undefined;
  afterAll(async () => {
    await broker?.channel.deleteExchange(`${broker.names.prefix}.by-slot`).catch(() => {});
    await broker?.cleanup();
  });

  it("routes one slot's integration events through a headers exchange", async () => {
    broker = await TestBroker.open(url!, uniquePrefix('slot-header'));
    const { channel, names } = broker;
    const bySlot = `${names.prefix}.by-slot`;
    await channel.assertExchange(bySlot, 'headers', { durable: false, autoDelete: false });
    await channel.bindExchange(bySlot, names.eventsExchange, '#');
    const greenOnly = await broker.queue(`${names.prefix}.green-only`);
    await channel.bindQueue(greenOnly, bySlot, '', { 'x-match': 'all', [SLOT_HEADER]: 'green' });
    const received: string[] = [];
    await channel.consume(greenOnly, (m) => m && received.push(String(m.properties.headers?.[SLOT_HEADER])), { noAck: true });

    const event = (n: number) => ({
      id: `00000000-0000-5000-8000-00000000000${n}`,
      type: 'TradeBooked',
      stream: `booking-T${n}`,
      revision: 0,
      position: n,
      recordedAt: new Date(),
      data: {},
      metadata: { correlationId: `T${n}` },
    });
    for (const [n, slot] of [[1, 'blue'], [2, 'green'], [3, 'blue'], [4, 'green']] as const) {
      const message = integrationMessage(event(n), slot)!;
      expect(message.options.headers?.[SLOT_HEADER]).toBe(slot);
      channel.publish(names.eventsExchange, message.routingKey, message.content, message.options);
    }
    await channel.waitForConfirms();
    await waitFor('green messages', () => received.length === 2, 5000);
    expect(received).toEqual(['green', 'green']);
  });
});
