import type { Booking, Trade, TradeTerms } from '../domain/index.js';
import type { Actor, RecordedEvent } from '../eventstore/index.js';
import type { Projected, ProjectionDefinition } from './projection.js';

export type TradeStatus = 'AWAITING_TRADE' | 'PENDING' | 'BOOKED' | 'CANCELLED';

export interface TradeView extends Projected {
  tradeRef: string;
  status: TradeStatus;
  version: number;
  pendingVersions: number[];
  bookedVersion: number | null;
  account: string | null;
  isin: string | null;
  side: TradeTerms['side'] | null;
  quantity: number | null;
  price: string | null;
  currency: string | null;
  tradeDate: string | null;
  settleDate: string | null;
  counterparty: string | null;
  allocations: Array<{ allocationId: string; account: string; quantity: number }>;
  confirmation: { status: 'AFFIRMED' | 'REJECTED'; quantity: number; price: string; reason: string } | null;
  cancelled: boolean;
  onHold: boolean;
  /** Who made the last change, when a principal did through the API; null when a feed did. */
  lastChangedBy: Actor | null;
}

type TradeViewFields = Omit<TradeView, 'asOf'>;

const TRADE_TYPES = ['VersionPending', 'VersionApplied', 'TradeCancelled', 'VersionRejectedAfterCancellation'];
const BOOKING_TYPES = ['AllocationNoted', 'ConfirmationNoted', 'TradeBooked', 'BookingReversed', 'BookedAllocationsChanged', 'HoldPlaced', 'HoldReleased'];

export const tradesProjection: ProjectionDefinition<TradeView> = {
  name: 'trades',
  indexes: ['status', 'account', 'isin'],
  // The kepler_trades gauge, read at every scrape.
  counted: [{ name: 'byStatus', field: 'status' }],
  filter: { eventTypes: [...TRADE_TYPES, ...BOOKING_TYPES] },
  keysOf: (event) => [event.metadata.correlationId],
  stampsAsOf: true,
  apply(doc, event, tradeRef) {
    // One copy per event, changed in place: the spreads it replaces (three copies of twenty fields) built the
    // same keys in the same order, since assigning a key keeps its place and a new one goes last, as in a spread.
    const view: TradeViewFields & Partial<Projected> = doc ? copyOf(doc) : emptyTrade(tradeRef);
    applyEvent(view, event);
    view.status = statusOf(view);
    view.lastChangedBy = event.metadata.actor ?? null;
    // Stamped here (stampsAsOf), as the runner's copy did it: in its place in a stored document's copy, else
    // last, after whatever the terms added; so the stored JSON is the same, without a second copy per event.
    view.asOf = event.position;
    return view;
  },
};

/** A document's keys in the order this projection makes them: the fields, then asOf (see apply). */
const DOCUMENT_KEYS: readonly string[] = [...Object.keys(emptyTrade('')), 'asOf'];

/**
 * A copy of a document to change for the next event, its keys in the document's order. A literal of the
 * twenty fields when the keys are in the order this projection makes them (each document it made since
 * lastChangedBy was kept, as written and as read back from a store that keeps the order): V8 makes it at
 * once, every field in the object. Else (an older document, a store that orders keys its own way, as
 * PostgreSQL's jsonb does) Object.assign, which adds them one by one in the document's order. Object.assign
 * on all of them cost more than the second copy it saved (BENCHMARKS.md, twelfth and thirteenth sessions):
 * adding twenty keys to {} through it, asOf among them, turns the copy into a dictionary (V8 gives up fast
 * properties for an object that has many added by a keyed store), and every copy, serialisation and
 * lookup of it after that is slow; the runner's copy got away with it by adding asOf by name.
 */
function copyOf(doc: TradeView): TradeViewFields & Projected {
  let i = 0;
  for (const key in doc) if (key !== DOCUMENT_KEYS[i++]) return Object.assign({}, doc);
  if (i !== DOCUMENT_KEYS.length) return Object.assign({}, doc);
  return {
    tradeRef: doc.tradeRef,
    status: doc.status,
    version: doc.version,
    pendingVersions: doc.pendingVersions,
    bookedVersion: doc.bookedVersion,
    account: doc.account,
    isin: doc.isin,
    side: doc.side,
    quantity: doc.quantity,
    price: doc.price,
    currency: doc.currency,
    tradeDate: doc.tradeDate,
    settleDate: doc.settleDate,
    counterparty: doc.counterparty,
    allocations: doc.allocations,
    confirmation: doc.confirmation,
    cancelled: doc.cancelled,
    onHold: doc.onHold,
    lastChangedBy: doc.lastChangedBy,
    asOf: doc.asOf,
  };
}

function emptyTrade(tradeRef: string): TradeViewFields {
  return {
    tradeRef,
    status: 'AWAITING_TRADE',
    version: 0,
    pendingVersions: [],
    bookedVersion: null,
    account: null,
    isin: null,
    side: null,
    quantity: null,
    price: null,
    currency: null,
    tradeDate: null,
    settleDate: null,
    counterparty: null,
    allocations: [],
    confirmation: null,
    cancelled: false,
    onHold: false,
    lastChangedBy: null,
  };
}

/** The event applied to `view`, a copy of its own: the lists it changes are replaced, never changed in place. */
function applyEvent(view: TradeViewFields, event: RecordedEvent): void {
  const data = event.data as Trade.TradeEvent | Booking.BookingEvent;
  switch (data.type) {
    case 'VersionPending':
      view.pendingVersions = [...new Set([...view.pendingVersions, data.version])].sort((a, b) => a - b);
      return;
    case 'VersionApplied': {
      const pending = view.pendingVersions;
      Object.assign(view, data.terms);
      view.version = data.version;
      view.pendingVersions = pending.filter((v) => v !== data.version);
      return;
    }
    case 'TradeCancelled':
      view.version = data.version;
      view.cancelled = true;
      view.pendingVersions = view.pendingVersions.filter((v) => v !== data.version);
      return;
    case 'VersionRejectedAfterCancellation':
      view.pendingVersions = view.pendingVersions.filter((v) => v !== data.version);
      return;
    case 'AllocationNoted':
      view.allocations = withAllocation(view.allocations, data);
      return;
    case 'ConfirmationNoted':
      view.confirmation = { status: data.status, quantity: data.quantity, price: data.price, reason: data.reason };
      return;
    case 'TradeBooked':
    case 'BookedAllocationsChanged':
      view.bookedVersion = data.version;
      return;
    case 'BookingReversed':
      view.bookedVersion = null;
      return;
    case 'HoldPlaced':
      view.onHold = true;
      return;
    case 'HoldReleased':
      view.onHold = false;
      return;
  }
}

type ViewAllocation = TradeView['allocations'][number];

/**
 * The active allocations, kept in allocation-id order, with one of them set (or, at
 * quantity 0, withdrawn). Found by bisection rather than filtered and sorted again:
 * a block trade notes thousands of allocations, one event at a time. The list is
 * still copied once per event, so that applying an event never changes the
 * document it was given; that copy is what remains of the cost of a block trade
 * (BENCHMARKS.md).
 */
function withAllocation(allocations: readonly ViewAllocation[], noted: Booking.AllocationNoted): ViewAllocation[] {
  let low = 0;
  let high = allocations.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (allocations[middle]!.allocationId < noted.allocationId) low = middle + 1;
    else high = middle;
  }
  const standing = allocations[low]?.allocationId === noted.allocationId;
  if (noted.quantity > 0) return allocations.toSpliced(low, standing ? 1 : 0, { allocationId: noted.allocationId, account: noted.account, quantity: noted.quantity });
  return standing ? allocations.toSpliced(low, 1) : [...allocations];
}

function statusOf(view: TradeViewFields): TradeStatus {
  return view.cancelled ? 'CANCELLED' : view.bookedVersion !== null ? 'BOOKED' : view.version === 0 ? 'AWAITING_TRADE' : 'PENDING';
}
