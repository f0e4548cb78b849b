// The real booking manager, run against a store until it has booked one trade: the tests of the
// four-eyes race use it to land a booking exactly where the race needs one.
import { pino } from 'pino';
import type { EventStore } from '../../eventstore/index.js';
import { bookingManager, ProcessorRunner } from '../../processors/index.js';

/** Runs the booking manager until `booking-{tradeRef}` holds a TradeBooked, then stops it. */
export async function bookedByTheBookingManager(store: EventStore, tradeRef: string): Promise<void> {
  const runner = new ProcessorRunner(store, bookingManager, pino({ level: 'silent' }));
  const running = runner.run();
  const deadline = Date.now() + 10_000;
  while (!(await store.readStream(`booking-${tradeRef}`)).some((e) => e.type === 'TradeBooked')) {
    if (Date.now() > deadline) throw new Error(`${tradeRef} was not booked`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await runner.stop();
  await running;
}
