import type { TradeTerms } from '../records.js';
import type { ConfirmationStatus, Price, TradeRef } from '../values.js';
import type { BookingEvent, BookingSnapshot, Provenance } from './events.js';

export interface StandingAllocation {
  account: string;
  quantity: number;
  provenance: Provenance;
}

export interface StandingConfirmation {
  status: ConfirmationStatus;
  quantity: number;
  price: Price;
  reason: string;
  provenance: Provenance;
}

export interface BookingState {
  tradeRef: TradeRef | null;
  /** The trade's effective version and its terms (of the last version before a cancellation). */
  trade: { version: number; terms: TradeTerms | null } | null;
  cancelled: boolean;
  allocations: ReadonlyMap<string, StandingAllocation>;
  confirmation: StandingConfirmation | null;
  hold: { reason: string } | null;
  booking: BookingSnapshot | null;
  handledInputs: ReadonlySet<string>;
}

export const initialBookingState: BookingState = {
  tradeRef: null,
  trade: null,
  cancelled: false,
  allocations: new Map(),
  confirmation: null,
  hold: null,
  booking: null,
  handledInputs: new Set(),
};

export function evolve(state: BookingState, event: BookingEvent): BookingState {
  const next: BookingState = {
    ...state,
    tradeRef: event.tradeRef,
    handledInputs: state.handledInputs.has(event.inputId) ? state.handledInputs : new Set(state.handledInputs).add(event.inputId),
  };
  switch (event.type) {
    case 'TradeVersionNoted':
      return { ...next, trade: { version: event.version, terms: event.terms } };
    case 'TradeCancellationNoted':
      return { ...next, trade: { version: event.version, terms: state.trade?.terms ?? null }, cancelled: true };
    case 'AllocationNoted':
      return {
        ...next,
        allocations: new Map(state.allocations).set(event.allocationId, {
          account: event.account,
          quantity: event.quantity,
          provenance: event.provenance,
        }),
      };
    case 'ConfirmationNoted':
      return {
        ...next,
        confirmation: { status: event.status, quantity: event.quantity, price: event.price, reason: event.reason, provenance: event.provenance },
      };
    case 'HoldPlaced':
      return { ...next, hold: { reason: event.reason } };
    case 'HoldReleased':
      return { ...next, hold: null };
    case 'TradeBooked':
    case 'BookedAllocationsChanged':
      return { ...next, booking: snapshotOf(event) };
    case 'BookingReversed':
      return { ...next, booking: null };
  }
}

function snapshotOf(event: BookingSnapshot): BookingSnapshot {
  return { version: event.version, isin: event.isin, side: event.side, allocations: event.allocations };
}

/**
 * Which of two records for the same allocation (or confirmation) stands. Within
 * one source the highest source sequence wins whatever the arrival order; across
 * sources (a feed and the API) the later arrival in the event store's order wins.
 */
export function supersedes(candidate: Provenance, standing: Provenance): boolean {
  return candidate.source === standing.source
    ? candidate.sourceSequence > standing.sourceSequence
    : candidate.position > standing.position;
}
