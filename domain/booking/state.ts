import type { TradeTerms } from '../records.js';
import type { ConfirmationStatus, Price, TradeRef } from '../values.js';
import type { BookingEvent, BookingSnapshot, Provenance } from './events.js';
import { HandledInputs } from './handled-inputs.js';
import { StandingAllocations } from './standing-allocations.js';

export interface StandingAllocation {
  account: string;
  quantity: number;
  provenance: Provenance;
  /** Highest source sequence heard per feed for this allocation, whichever record stands. */
  highestSequence: Readonly<Record<string, number>>;
}

export interface StandingConfirmation {
  status: ConfirmationStatus;
  quantity: number;
  price: Price;
  reason: string;
  provenance: Provenance;
  highestSequence: Readonly<Record<string, number>>;
}

/**
 * A block trade can be allocated to thousands of accounts, and every allocation is
 * an input: the allocations and the inputs handled become persistent collections
 * when they grow, so that evolving by one event costs about the same whatever their
 * size, and the allocated quantity is kept as it changes rather than added up for
 * each input. While small (most trades) they are compact instead: the booking
 * manager keeps hundreds of thousands of these states in memory.
 * (Copying native collections per event and adding up per input made a trade with
 * 20,000 allocations take 83 s to book.)
 */
export interface BookingState {
  tradeRef: TradeRef | null;
  /** The trade's effective version and its terms (of the last version before a cancellation). */
  trade: { version: number; terms: TradeTerms | null } | null;
  cancelled: boolean;
  /** Compact while few, persistent when many: see StandingAllocations. */
  allocations: StandingAllocations;
  /**
   * The quantities of the standing allocations, added up as they change. A bigint:
   * each quantity is exact as a number, but a running total of them can pass 2^53
   * on the way and would not come back exact.
   */
  allocatedQuantity: bigint;
  confirmation: StandingConfirmation | null;
  hold: { reason: string } | null;
  booking: BookingSnapshot | null;
  /** Compact: see HandledInputs. */
  handledInputs: HandledInputs;
}

export const initialBookingState: BookingState = {
  tradeRef: null,
  trade: null,
  cancelled: false,
  allocations: StandingAllocations.empty,
  allocatedQuantity: 0n,
  confirmation: null,
  hold: null,
  booking: null,
  handledInputs: HandledInputs.empty,
};

export function evolve(state: BookingState, event: BookingEvent): BookingState {
  const next: BookingState = { ...state, tradeRef: event.tradeRef, handledInputs: state.handledInputs.add(event.inputId) };
  switch (event.type) {
    case 'TradeVersionNoted':
      return { ...next, trade: { version: event.version, terms: event.terms } };
    case 'TradeCancellationNoted':
      return { ...next, trade: { version: event.version, terms: state.trade?.terms ?? null }, cancelled: true };
    case 'AllocationNoted': {
      const standing = state.allocations.get(event.allocationId);
      return {
        ...next,
        allocations: state.allocations.set(
          event.allocationId,
          new Allocation(event.account, event.quantity, event.provenance, ownMarksOrBeyond(standing?.highestSequence, event.provenance)),
        ),
        allocatedQuantity: state.allocatedQuantity - BigInt(standing?.quantity ?? 0) + BigInt(event.quantity),
      };
    }
    case 'ConfirmationNoted':
      return {
        ...next,
        confirmation: new Confirmation(
          event.status,
          event.quantity,
          event.price,
          event.reason,
          event.provenance,
          ownMarksOrBeyond(state.confirmation?.highestSequence, event.provenance),
        ),
      };
    case 'FeedRecordOutranked': {
      if (event.allocationId === null) {
        const c = state.confirmation;
        if (!c) return next;
        return { ...next, confirmation: new Confirmation(c.status, c.quantity, c.price, c.reason, c.provenance, beyondOwn(heard(c.highestSequence, event.provenance), c.provenance)) };
      }
      const allocation = state.allocations.get(event.allocationId);
      if (!allocation) return next;
      const highest = beyondOwn(heard(allocation.highestSequence, event.provenance), allocation.provenance);
      return { ...next, allocations: state.allocations.set(event.allocationId, new Allocation(allocation.account, allocation.quantity, allocation.provenance, highest)) };
    }
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

/**
 * Standing records keep their feeds' high-water marks only when their own provenance does not
 * already say them. In nearly every booking each feed sent one record per allocation and one
 * confirmation, so the marks are the standing record's own sequence: an object for that, per
 * record, was about 56 bytes of every one of the hundreds of thousands of bookings the manager
 * keeps (a heap snapshot at 100,000 trades: 300,000 of them). `highestSequence` reads the same.
 */
class Allocation implements StandingAllocation {
  constructor(
    readonly account: string,
    readonly quantity: number,
    readonly provenance: Provenance,
    /** null: the marks are the provenance's own (see ownMarks). */
    private readonly marks: Readonly<Record<string, number>> | null,
  ) {}

  get highestSequence(): Readonly<Record<string, number>> {
    return this.marks ?? ownMarks(this.provenance);
  }
}

class Confirmation implements StandingConfirmation {
  constructor(
    readonly status: ConfirmationStatus,
    readonly quantity: number,
    readonly price: Price,
    readonly reason: string,
    readonly provenance: Provenance,
    private readonly marks: Readonly<Record<string, number>> | null,
  ) {}

  get highestSequence(): Readonly<Record<string, number>> {
    return this.marks ?? ownMarks(this.provenance);
  }
}

/** The high-water marks a record says by itself: its own feed's sequence (an API record says none). */
function ownMarks(provenance: Provenance): Readonly<Record<string, number>> {
  return provenance.source === 'API' ? {} : { [provenance.source]: provenance.sourceSequence };
}

/** The marks, or null when they are exactly what the record's own provenance says. */
function beyondOwn(marks: Readonly<Record<string, number>>, provenance: Provenance): Readonly<Record<string, number>> | null {
  let feeds = 0;
  for (const feed in marks) {
    feeds++;
    if (feed !== provenance.source || marks[feed] !== provenance.sourceSequence) return marks;
  }
  return feeds === (provenance.source === 'API' ? 0 : 1) ? null : marks;
}

/**
 * A new record's marks: beyondOwn(heard(highest, provenance), provenance), without building the marks
 * object when nothing was heard before it from a feed (every allocation and confirmation a feed sends
 * once): they are then the record's own, and null. Built with a computed key and walked by for-in,
 * then dropped, that object was the costliest part of noting an allocation.
 */
function ownMarksOrBeyond(highest: Readonly<Record<string, number>> | undefined, provenance: Provenance): Readonly<Record<string, number>> | null {
  // heard() keeps the highest of 0 and the sequence: the record's own marks only from 0 up (not NaN).
  if (highest === undefined && provenance.source !== 'API' && provenance.sourceSequence >= 0) return null;
  return beyondOwn(heard(highest, provenance), provenance);
}

function snapshotOf(event: BookingSnapshot): BookingSnapshot {
  return { version: event.version, isin: event.isin, side: event.side, allocations: event.allocations };
}

function heard(highest: Readonly<Record<string, number>> | undefined, provenance: Provenance): Readonly<Record<string, number>> {
  if (provenance.source === 'API') return highest ?? {};
  return { ...highest, [provenance.source]: Math.max(highest?.[provenance.source] ?? 0, provenance.sourceSequence) };
}

/**
 * Whether a record for an allocation (or the confirmation) replaces the one that
 * stands. Within one feed the highest source sequence wins, whatever the arrival
 * order. An API command is decided on the state as it is now, so it always
 * replaces what stands. A feed record replaces an API one only if it arrived
 * after it and is still the highest sequence its feed has sent for that record.
 */
export function supersedes(candidate: Provenance, standing: Ranked): boolean {
  if (candidate.source === 'API') return true;
  return isHighestOfItsFeed(candidate, standing) && (standing.provenance.source === candidate.source || candidate.position > standing.provenance.position);
}

export function isHighestOfItsFeed(candidate: Provenance, standing: Ranked): boolean {
  return candidate.source !== 'API' && candidate.sourceSequence > (standing.highestSequence[candidate.source] ?? 0);
}

interface Ranked {
  provenance: Provenance;
  highestSequence: Readonly<Record<string, number>>;
}
