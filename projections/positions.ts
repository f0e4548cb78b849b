import type { Booking } from '../domain/index.js';
import type { RecordedEvent } from '../eventstore/index.js';
import type { Projected, ProjectionDefinition } from './projection.js';

export interface PositionView extends Projected {
  account: string;
  isin: string;
  /**
   * Signed, as a decimal integer string: a position adds up quantities that are each
   * exact as a number, but whose sum can pass 2^53.
   */
  quantity: string;
  /** Lets queries skip flat positions without a range filter. */
  nonZero: boolean;
}

type BookingChange = Booking.TradeBooked | Booking.BookingReversed | Booking.BookedAllocationsChanged;

export function positionKey(account: string, isin: string): string {
  return JSON.stringify([account, isin]);
}

/** Signed quantity per (account, ISIN) that one booking change moves. */
export function positionDeltas(change: BookingChange): Map<string, { account: string; isin: string; delta: bigint }> {
  const sign = change.side === 'BUY' ? 1n : -1n;
  const deltas = new Map<string, { account: string; isin: string; delta: bigint }>();
  const add = (allocations: readonly Booking.BookedAllocation[], factor: bigint) => {
    for (const allocation of allocations) {
      const key = positionKey(allocation.account, change.isin);
      const current = deltas.get(key) ?? { account: allocation.account, isin: change.isin, delta: 0n };
      current.delta += factor * sign * BigInt(allocation.quantity);
      deltas.set(key, current);
    }
  };
  if (change.type === 'TradeBooked') add(change.allocations, 1n);
  else if (change.type === 'BookingReversed') add(change.allocations, -1n);
  else {
    add(change.previous, -1n);
    add(change.allocations, 1n);
  }
  return deltas;
}

/** keysOf and then apply, once per key, ask for the same event's deltas: work them out once. */
const deltasByEvent = new WeakMap<RecordedEvent, ReturnType<typeof positionDeltas>>();
function deltasOf(event: RecordedEvent): ReturnType<typeof positionDeltas> {
  let deltas = deltasByEvent.get(event);
  if (!deltas) {
    deltas = positionDeltas(event.data as BookingChange);
    deltasByEvent.set(event, deltas);
  }
  return deltas;
}

export const positionsProjection: ProjectionDefinition<PositionView> = {
  name: 'positions',
  indexes: ['account', 'isin', 'nonZero'],
  filter: { eventTypes: ['TradeBooked', 'BookingReversed', 'BookedAllocationsChanged'] },
  keysOf: (event: RecordedEvent) => [...deltasOf(event).keys()],
  stampsAsOf: true,
  apply(doc, event, key) {
    const change = deltasOf(event).get(key)!;
    // A document written before quantities were strings holds a number: BigInt reads both.
    const quantity = BigInt(doc?.quantity ?? 0) + change.delta;
    // asOf last, as the runner would stamp it.
    return { account: change.account, isin: change.isin, quantity: quantity.toString(), nonZero: quantity !== 0n, asOf: event.position };
  },
};
