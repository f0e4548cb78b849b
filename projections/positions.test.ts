// The positions projection adds quantities in numbers while every sum is exact as one, and in BigInt
// otherwise: its documents must be those the BigInt arithmetic alone makes (the projection as it was,
// written out here), whatever the quantities, near 2^53 and past it, and whatever an older document
// holds (a number, from before quantities were strings).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Booking } from '../domain/index.js';
import { UNREAD_METADATA, type RecordedEvent } from '../eventstore/index.js';
import { positionDeltas, positionsProjection, type PositionView } from './positions.js';

type BookingChange = Booking.TradeBooked | Booking.BookingReversed | Booking.BookedAllocationsChanged;

/** The projection's keys and document in BigInt alone, as it computed them before. */
const reference = {
  keysOf: (change: BookingChange) => [...positionDeltas(change).keys()],
  apply(doc: PositionView | null, change: BookingChange, key: string, position: number): PositionView {
    const delta = positionDeltas(change).get(key)!;
    const quantity = BigInt(doc?.quantity ?? 0) + delta.delta;
    return { account: delta.account, isin: delta.isin, quantity: quantity.toString(), nonZero: quantity !== 0n, asOf: position };
  },
};

const SAFE = Number.MAX_SAFE_INTEGER;
const quantity = fc.oneof(fc.integer({ min: 0, max: 1_000 }), fc.integer({ min: 0, max: 10 ** 12 }), fc.constantFrom(0, SAFE, SAFE - 1, 2 ** 52, Math.floor(SAFE / 2) + 1));
// Accounts with characters JSON escapes, as keys are their JSON.
const account = fc.constantFrom('ACC-1', 'ACC-2', 'ACC "3"', 'ACC\\4', 'ACC-é');
const allocations = fc.array(fc.record({ allocationId: fc.constantFrom('A1', 'A2', 'A3'), account, quantity }), { maxLength: 3 });
const isin = fc.constantFrom('DE0007164600', 'GB0002634946');
const side = fc.constantFrom<'BUY' | 'SELL'>('BUY', 'SELL');
const change: fc.Arbitrary<BookingChange> = fc.oneof(
  fc.record({ type: fc.constant('TradeBooked' as const), isin, side, allocations }),
  fc.record({ type: fc.constant('BookingReversed' as const), isin, side, allocations }),
  fc.record({ type: fc.constant('BookedAllocationsChanged' as const), isin, side, allocations, previous: allocations }),
) as unknown as fc.Arbitrary<BookingChange>;
// What a document may hold already: nothing, a string as written now, a number as written before strings.
const stored = fc.oneof(fc.constant(null), fc.bigInt({ min: -(2n ** 60n), max: 2n ** 60n }).map(String), fc.integer({ min: -SAFE, max: SAFE }), fc.constantFrom('9007199254740991', '-9007199254740992', '0'));

const event = (data: BookingChange, position: number): RecordedEvent =>
  ({ id: `e${position}`, type: data.type, data, metadata: UNREAD_METADATA, stream: 'booking-T1', revision: 0, position, recordedAt: new Date(0) }) as RecordedEvent;

describe('positionsProjection', () => {
  it('makes the keys and documents the BigInt arithmetic alone makes, whatever the quantities and what a document held', () => {
    fc.assert(
      fc.property(fc.array(change, { minLength: 1, maxLength: 8 }), fc.array(stored, { minLength: 8, maxLength: 8 }), (changes, held) => {
        const docs = new Map<string, PositionView | null>();
        const expected = new Map<string, PositionView | null>();
        changes.forEach((data, i) => {
          const recorded = event(data, i + 1);
          const keys = positionsProjection.keysOf(recorded);
          expect(keys).toEqual(reference.keysOf(data));
          keys.forEach((key, k) => {
            const start = held[(i + k) % held.length];
            const before = docs.get(key) ?? (start === null ? null : ({ account: 'x', isin: 'y', quantity: start, nonZero: true, asOf: 0 } as unknown as PositionView));
            const doc = positionsProjection.apply(before, recorded, key);
            const want = reference.apply(expected.get(key) ?? before, data, key, i + 1);
            expect(JSON.stringify(doc)).toBe(JSON.stringify(want));
            docs.set(key, doc as PositionView);
            expected.set(key, want);
          });
        });
      }),
      { numRuns: 500 },
    );
  });

  it('names an event its keys once, the same list each time it is asked (keysOf, then apply per key)', () => {
    const recorded = event({ type: 'TradeBooked', isin: 'DE0007164600', side: 'BUY', allocations: [{ allocationId: 'A1', account: 'ACC-1', quantity: 5 }] } as unknown as BookingChange, 1);
    expect(positionsProjection.keysOf(recorded)).toBe(positionsProjection.keysOf(recorded));
  });
});
