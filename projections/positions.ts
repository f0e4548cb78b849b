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

/**
 * One booking change's deltas by key, with the keys as keysOf gives them: worked out once per event (keysOf
 * and then apply, once per key, ask for them), in numbers while every sum stays exact as one (a delta that
 * could pass 2^53 is a bigint, as positionDeltas gives them all).
 */
interface EventDeltas {
  readonly keys: readonly string[];
  readonly byKey: Map<string, { account: string; isin: string; delta: number | bigint }>;
}

const deltasByEvent = new WeakMap<RecordedEvent, EventDeltas>();
function deltasOf(event: RecordedEvent): EventDeltas {
  let deltas = deltasByEvent.get(event);
  if (!deltas) {
    const change = event.data as BookingChange;
    const byKey: EventDeltas['byKey'] = numberDeltas(change) ?? positionDeltas(change);
    deltas = { keys: [...byKey.keys()], byKey };
    deltasByEvent.set(event, deltas);
  }
  return deltas;
}

/**
 * positionDeltas in numbers, the same keys in the same order and the same sums, or null when a quantity or
 * a sum is not a safe integer (then BigInt's, which is exact for any): BigInt arithmetic and its
 * conversions cost several times as much, once per allocation of every booking change of a catch-up.
 */
function numberDeltas(change: BookingChange): Map<string, { account: string; isin: string; delta: number }> | null {
  const sign = change.side === 'BUY' ? 1 : -1;
  const deltas = new Map<string, { account: string; isin: string; delta: number }>();
  const add = (allocations: readonly Booking.BookedAllocation[], factor: number): boolean => {
    for (const allocation of allocations) {
      const key = positionKey(allocation.account, change.isin);
      const current = deltas.get(key) ?? { account: allocation.account, isin: change.isin, delta: 0 };
      current.delta += factor * sign * allocation.quantity;
      if (!Number.isSafeInteger(allocation.quantity) || !Number.isSafeInteger(current.delta)) return false;
      deltas.set(key, current);
    }
    return true;
  };
  if (change.type === 'TradeBooked') return add(change.allocations, 1) ? deltas : null;
  if (change.type === 'BookingReversed') return add(change.allocations, -1) ? deltas : null;
  return add(change.previous, -1) && add(change.allocations, 1) ? deltas : null;
}

/** A stored quantity as a number when it is a safe integer written as BigInt's toString writes it (or a number, as before quantities were strings); else null. */
function quantityNumber(quantity: unknown): number | null {
  if (typeof quantity === 'number') return Number.isSafeInteger(quantity) ? quantity : null;
  if (typeof quantity !== 'string' || !CANONICAL_INTEGER.test(quantity)) return null;
  const value = Number(quantity);
  return Number.isSafeInteger(value) ? value : null;
}

/** Decimal integers as BigInt's toString writes them (no sign on zero, no leading zeros), short enough to be read exactly or found unsafe. */
const CANONICAL_INTEGER = /^(?:0|-?[1-9][0-9]{0,15})$/;

export const positionsProjection: ProjectionDefinition<PositionView> = {
  name: 'positions',
  indexes: ['account', 'isin', 'nonZero'],
  filter: { eventTypes: ['TradeBooked', 'BookingReversed', 'BookedAllocationsChanged'] },
  keysOf: (event: RecordedEvent) => deltasOf(event).keys,
  stampsAsOf: true,
  apply(doc, event, key) {
    const change = deltasOf(event).byKey.get(key)!;
    const held = doc?.quantity ?? 0;
    if (typeof change.delta === 'number') {
      const before = quantityNumber(held);
      const sum = before === null ? null : before + change.delta;
      if (sum !== null && Number.isSafeInteger(sum)) {
        // The same text and flag as the bigint sum's below (a safe integer's decimal digits are BigInt's; -0 prints as 0 and is not non-zero).
        return { account: change.account, isin: change.isin, quantity: String(sum), nonZero: sum !== 0, asOf: event.position };
      }
    }
    // A document written before quantities were strings holds a number: BigInt reads both.
    const quantity = BigInt(held) + BigInt(change.delta);
    // asOf last, as the runner would stamp it.
    return { account: change.account, isin: change.isin, quantity: quantity.toString(), nonZero: quantity !== 0n, asOf: event.position };
  },
};
