import type { TradeTerms } from '../records.js';
import type { ConfirmationStatus, Price, Side, TradeRef } from '../values.js';
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
 * What the booking rules read of a trade's terms: the quantity and price the allocations and the
 * confirmation must match, and the ISIN and side a booking puts on the books. The rest of the terms
 * (accounts, dates, counterparty, currency) no decision here reads, and the booking manager keeps
 * hundreds of thousands of these states: all nine, with their strings, were about a third of a
 * booking's state.
 */
export interface BookingTerms {
  quantity: number;
  price: Price;
  isin: string;
  side: Side;
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
  /** The trade's effective version and the terms the rules read (of the last version before a cancellation). */
  trade: { version: number; terms: BookingTerms | null } | null;
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

/**
 * The state after the event: each case says what the event changes, and the new state is one
 * literal naming every field. (Copied with spreads, `{ ...state, hold }`, a state kept four fields
 * in the object and the rest in an array beside it, 120 bytes where 96 do, and every event copied
 * it twice.)
 */
export function evolve(state: BookingState, event: BookingEvent): BookingState {
  let { trade, cancelled, allocations, allocatedQuantity, confirmation, hold, booking } = state;
  switch (event.type) {
    case 'TradeVersionNoted':
      trade = { version: event.version, terms: bookingTermsOf(event.terms) };
      break;
    case 'TradeCancellationNoted':
      trade = { version: event.version, terms: trade?.terms ?? null };
      cancelled = true;
      break;
    case 'AllocationNoted': {
      const standing = allocations.get(event.allocationId);
      allocations = allocations.set(
        event.allocationId,
        new Allocation(event.account, event.quantity, event.provenance, ownMarksOrBeyond(standing?.highestSequence, event.provenance)),
      );
      allocatedQuantity = allocatedQuantity - BigInt(standing?.quantity ?? 0) + BigInt(event.quantity);
      break;
    }
    case 'ConfirmationNoted':
      confirmation = new Confirmation(
        event.status,
        event.quantity,
        event.price,
        event.reason,
        event.provenance,
        ownMarksOrBeyond(confirmation?.highestSequence, event.provenance),
      );
      break;
    case 'FeedRecordOutranked': {
      if (event.allocationId === null) {
        const c = confirmation;
        if (c) confirmation = new Confirmation(c.status, c.quantity, c.price, c.reason, c.provenance, beyondOwn(heard(c.highestSequence, event.provenance), c.provenance));
        break;
      }
      const allocation = allocations.get(event.allocationId);
      if (allocation) {
        const highest = beyondOwn(heard(allocation.highestSequence, event.provenance), allocation.provenance);
        allocations = allocations.set(event.allocationId, new Allocation(allocation.account, allocation.quantity, allocation.provenance, highest));
      }
      break;
    }
    case 'HoldPlaced':
      hold = { reason: event.reason };
      break;
    case 'HoldReleased':
      hold = null;
      break;
    case 'TradeBooked':
    case 'BookedAllocationsChanged':
      booking = snapshotOf(event);
      break;
    case 'BookingReversed':
      booking = null;
      break;
  }
  return { tradeRef: event.tradeRef, trade, cancelled, allocations, allocatedQuantity, confirmation, hold, booking, handledInputs: state.handledInputs.add(event.inputId) };
}

/** The terms a version noted brings, as far as the booking rules read them. */
export function bookingTermsOf(terms: TradeTerms): BookingTerms {
  return { quantity: terms.quantity, price: terms.price, isin: terms.isin, side: terms.side };
}

/**
 * A standing allocation or confirmation: where it came from, and its feeds' high-water marks.
 *
 * Where it came from is kept in three fields of its own rather than as the input's Provenance
 * object, 48 bytes for each of the three or so standing records of each of the hundreds of
 * thousands of bookings the manager keeps; `provenance` reads the same.
 *
 * The marks are kept only when its own provenance does not already say them. In nearly every
 * booking each feed sent one record per allocation and one confirmation, so the marks are the
 * standing record's own sequence: an object for that, per record, was about 56 bytes of every
 * booking (a heap snapshot at 100,000 trades: 300,000 of them). `highestSequence` reads the same.
 */
abstract class StandingRecord {
  private readonly source: Provenance['source'];
  private readonly sourceSequence: number;
  private readonly position: number;

  constructor(
    provenance: Provenance,
    /** null: the marks are the provenance's own (see ownMarks). */
    private readonly marks: Readonly<Record<string, number>> | null,
  ) {
    this.source = provenance.source;
    this.sourceSequence = provenance.sourceSequence;
    this.position = provenance.position;
  }

  get provenance(): Provenance {
    return { source: this.source, sourceSequence: this.sourceSequence, position: this.position };
  }

  get highestSequence(): Readonly<Record<string, number>> {
    return this.marks ?? ownMarks(this.provenance);
  }
}

class Allocation extends StandingRecord implements StandingAllocation {
  constructor(
    readonly account: string,
    readonly quantity: number,
    provenance: Provenance,
    marks: Readonly<Record<string, number>> | null,
  ) {
    super(provenance, marks);
  }
}

class Confirmation extends StandingRecord implements StandingConfirmation {
  constructor(
    readonly status: ConfirmationStatus,
    readonly quantity: number,
    readonly price: Price,
    readonly reason: string,
    provenance: Provenance,
    marks: Readonly<Record<string, number>> | null,
  ) {
    super(provenance, marks);
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
