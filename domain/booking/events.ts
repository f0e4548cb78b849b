import type { TradeTerms } from '../records.js';
import type { ConfirmationStatus, Price, Side, Source, TradeRef } from '../values.js';

interface BookingEventBase {
  tradeRef: TradeRef;
  /** Id of the input (event or command) this answered; makes redelivery a no-op. */
  inputId: string;
}

/** Where a standing allocation or confirmation came from; decides which record stands. */
export interface Provenance {
  source: Source;
  sourceSequence: number;
  /** Global position of the received record: orders records of different sources. */
  position: number;
}

export interface BookedAllocation {
  allocationId: string;
  account: string;
  quantity: number;
}

/** What a booking put on the books: enough to reverse it without looking anything up. */
export interface BookingSnapshot {
  version: number;
  isin: string;
  side: Side;
  allocations: BookedAllocation[];
}

export interface TradeVersionNoted extends BookingEventBase {
  type: 'TradeVersionNoted';
  version: number;
  terms: TradeTerms;
}

export interface TradeCancellationNoted extends BookingEventBase {
  type: 'TradeCancellationNoted';
  version: number;
}

export interface AllocationNoted extends BookingEventBase {
  type: 'AllocationNoted';
  allocationId: string;
  account: string;
  /** 0: the allocation is withdrawn. */
  quantity: number;
  provenance: Provenance;
}

export interface ConfirmationNoted extends BookingEventBase {
  type: 'ConfirmationNoted';
  status: ConfirmationStatus;
  quantity: number;
  price: Price;
  reason: string;
  provenance: Provenance;
}

/**
 * A feed record that was the highest its feed had sent, but arrived before an
 * API record that already stands. It changes nothing but the feed's high-water
 * mark, so a lower sequence arriving later cannot take over.
 */
export interface FeedRecordOutranked extends BookingEventBase {
  type: 'FeedRecordOutranked';
  /** The allocation id, or null for the confirmation. */
  allocationId: string | null;
  provenance: Provenance;
}

export interface HoldPlaced extends BookingEventBase {
  type: 'HoldPlaced';
  reason: string;
}

export interface HoldReleased extends BookingEventBase {
  type: 'HoldReleased';
}

export interface TradeBooked extends BookingEventBase, BookingSnapshot {
  type: 'TradeBooked';
}

export interface BookingReversed extends BookingEventBase, BookingSnapshot {
  type: 'BookingReversed';
  reason: string;
}

/** Still booked at the same version, but the quantities now sit in other accounts. */
export interface BookedAllocationsChanged extends BookingEventBase, BookingSnapshot {
  type: 'BookedAllocationsChanged';
  previous: BookedAllocation[];
}

export type BookingEvent =
  | TradeVersionNoted
  | TradeCancellationNoted
  | AllocationNoted
  | ConfirmationNoted
  | FeedRecordOutranked
  | HoldPlaced
  | HoldReleased
  | TradeBooked
  | BookingReversed
  | BookedAllocationsChanged;

export const BOOKING_EVENT_TYPES: readonly BookingEvent['type'][] = [
  'TradeVersionNoted',
  'TradeCancellationNoted',
  'AllocationNoted',
  'ConfirmationNoted',
  'FeedRecordOutranked',
  'HoldPlaced',
  'HoldReleased',
  'TradeBooked',
  'BookingReversed',
  'BookedAllocationsChanged',
];

export function bookingStream(tradeRef: TradeRef): string {
  return `booking-${tradeRef}`;
}
