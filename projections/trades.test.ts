// The trades read model's allocations: the active ones, in allocation-id order, however the
// booking manager noted them (new, replaced, withdrawn, withdrawn again, in any order).
import { describe, expect, it } from 'vitest';
import { Rng } from '../bench/feed-generator.js';
import type { Booking } from '../domain/index.js';
import type { RecordedEvent } from '../eventstore/index.js';
import { tradesProjection, type TradeView } from './trades.js';

const REF = 'BLOCK-1';

function noted(position: number, allocationId: string, account: string, quantity: number): RecordedEvent {
  const data: Booking.AllocationNoted = {
    type: 'AllocationNoted',
    tradeRef: REF,
    inputId: `input-${position}`,
    allocationId,
    account,
    quantity,
    provenance: { source: 'ALLOC', sourceSequence: position, position },
  };
  return { id: `event-${position}`, type: data.type, data, metadata: { correlationId: REF }, stream: `booking-${REF}`, revision: position - 1, position, recordedAt: new Date(0) };
}

/** As the runner stores it: the projected fields, as of the event's position. */
function applied(doc: TradeView | null, event: RecordedEvent): TradeView {
  return { ...tradesProjection.apply(doc, event, REF)!, asOf: event.position };
}

function project(events: readonly RecordedEvent[]): TradeView['allocations'] {
  return events.reduce<TradeView | null>(applied, null)!.allocations;
}

describe('trades read model: allocations', () => {
  it('lists the active allocations by allocation id, whatever order they were noted in', () => {
    expect(project([noted(1, 'C', 'FUND-C', 30), noted(2, 'A', 'FUND-A', 10), noted(3, 'B', 'FUND-B', 20)])).toEqual([
      { allocationId: 'A', account: 'FUND-A', quantity: 10 },
      { allocationId: 'B', account: 'FUND-B', quantity: 20 },
      { allocationId: 'C', account: 'FUND-C', quantity: 30 },
    ]);
  });

  it('replaces an allocation noted again, and drops one withdrawn with quantity 0', () => {
    expect(project([noted(1, 'A', 'FUND-A', 10), noted(2, 'B', 'FUND-B', 20), noted(3, 'A', 'FUND-Z', 15), noted(4, 'B', 'FUND-B', 0)])).toEqual([
      { allocationId: 'A', account: 'FUND-Z', quantity: 15 },
    ]);
  });

  it('ignores the withdrawal of an allocation it does not list', () => {
    expect(project([noted(1, 'B', 'FUND-B', 20), noted(2, 'A', 'FUND-A', 0), noted(3, 'C', 'FUND-C', 0)])).toEqual([{ allocationId: 'B', account: 'FUND-B', quantity: 20 }]);
  });

  it('agrees with a plain model over thousands of random notes', () => {
    const rng = new Rng(42);
    const model = new Map<string, { account: string; quantity: number }>();
    const events: RecordedEvent[] = [];
    for (let position = 1; position <= 5_000; position++) {
      const allocationId = `AL${String(rng.int(0, 800)).padStart(4, '0')}`;
      const quantity = rng.chance(0.25) ? 0 : rng.int(1, 1_000);
      const account = `FUND-${rng.int(0, 50)}`;
      events.push(noted(position, allocationId, account, quantity));
      if (quantity > 0) model.set(allocationId, { account, quantity });
      else model.delete(allocationId);
    }
    const expected = [...model]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([allocationId, a]) => ({ allocationId, ...a }));
    expect(project(events)).toEqual(expected);
  });

  it('leaves the document it was given as it was', () => {
    const before = applied(null, noted(1, 'A', 'FUND-A', 10));
    const listed = before.allocations;
    applied(before, noted(2, 'B', 'FUND-B', 20));
    applied(before, noted(3, 'A', 'FUND-A', 0));
    expect(listed).toEqual([{ allocationId: 'A', account: 'FUND-A', quantity: 10 }]);
  });
});

/**
 * The documents as the projection built them with spreads, before it changed one copy in place: the
 * stored JSON must stay the same text, key order included, for every kind of event and any order.
 */
function spreadReference(doc: TradeView | null, event: RecordedEvent): Omit<TradeView, 'asOf'> {
  const view = (doc ?? tradesProjection.apply(null, { ...event, data: { type: 'none' }, metadata: {} } as unknown as RecordedEvent, REF)!) as TradeView;
  const data = event.data as { type: string; version: number; terms: object; status: 'AFFIRMED'; quantity: number; price: string; reason: string };
  const next = (() => {
    switch (data.type) {
      case 'VersionPending':
        return { ...view, pendingVersions: [...new Set([...view.pendingVersions, data.version])].sort((a, b) => a - b) };
      case 'VersionApplied':
        return { ...view, ...data.terms, version: data.version, pendingVersions: view.pendingVersions.filter((v) => v !== data.version) };
      case 'TradeCancelled':
        return { ...view, version: data.version, cancelled: true, pendingVersions: view.pendingVersions.filter((v) => v !== data.version) };
      case 'VersionRejectedAfterCancellation':
        return { ...view, pendingVersions: view.pendingVersions.filter((v) => v !== data.version) };
      case 'ConfirmationNoted':
        return { ...view, confirmation: { status: data.status, quantity: data.quantity, price: data.price, reason: data.reason } };
      case 'TradeBooked':
      case 'BookedAllocationsChanged':
        return { ...view, bookedVersion: data.version };
      case 'BookingReversed':
        return { ...view, bookedVersion: null };
      case 'HoldPlaced':
        return { ...view, onHold: true };
      case 'HoldReleased':
        return { ...view, onHold: false };
      default:
        return view;
    }
  })();
  const status = next.cancelled ? 'CANCELLED' : next.bookedVersion !== null ? 'BOOKED' : next.version === 0 ? 'AWAITING_TRADE' : 'PENDING';
  return { ...next, status, lastChangedBy: event.metadata.actor ?? null };
}

describe('trades read model: documents', () => {
  it('writes the same JSON as the spreads did, key order included, over random histories of every event', () => {
    const rng = new Rng(7);
    const types = ['VersionPending', 'VersionApplied', 'TradeCancelled', 'VersionRejectedAfterCancellation', 'ConfirmationNoted', 'TradeBooked', 'BookedAllocationsChanged', 'BookingReversed', 'HoldPlaced', 'HoldReleased'];
    for (let history = 0; history < 200; history++) {
      // Some start from a document stored before lastChangedBy was kept: the key then goes last, after asOf.
      let doc: TradeView | null = null;
      let reference: TradeView | null = null;
      if (rng.chance(0.3)) {
        const { lastChangedBy: _, ...old } = applied(null, noted(1, 'A', 'FUND-A', 10));
        doc = reference = old as TradeView;
      }
      for (let position = 2; position < 12; position++) {
        const type = types[rng.int(0, types.length - 1)]!;
        const version = rng.int(1, 4);
        const data =
          type === 'VersionApplied'
            ? { type, version, terms: { account: `ACC-${version}`, isin: 'US0378331005', side: 'BUY', quantity: 100 * version, price: '1.5', currency: 'USD', tradeDate: '2026-11-27', settleDate: '2026-11-30', counterparty: 'C' } }
            : type === 'ConfirmationNoted'
              ? { type, status: 'AFFIRMED', quantity: 100, price: '1.5', reason: '' }
              : { type, version };
        const actor = rng.chance(0.5) ? { subject: 'alice', roles: ['trader'] } : undefined;
        const event = { ...noted(position, 'A', 'FUND-A', 10), type, data, metadata: { correlationId: REF, ...(actor && { actor }) } } as unknown as RecordedEvent;
        const before = JSON.stringify(doc);
        const next: TradeView = { ...tradesProjection.apply(doc, event, REF)!, asOf: position } as TradeView;
        expect(JSON.stringify(doc)).toBe(before); // the document it was given, unchanged
        reference = { ...spreadReference(reference, event), asOf: position } as TradeView;
        expect(JSON.stringify(next)).toBe(JSON.stringify(reference));
        // Stamped by apply itself (stampsAsOf), the very text the runner's copy stored before.
        expect(JSON.stringify(tradesProjection.apply(doc, event, REF))).toBe(JSON.stringify(next));
        doc = next;
      }
    }
  });
});

describe('trades read model: asOf', () => {
  it('stamps its documents itself, asOf last in a new one and kept in its place in a stored one, wherever a store put it', () => {
    expect(tradesProjection.stampsAsOf).toBe(true);
    const made = tradesProjection.apply(null, noted(3, 'A', 'FUND-A', 10), REF)!;
    expect(Object.keys(made).at(-1)).toBe('asOf');
    expect((made as TradeView).asOf).toBe(3);
    // A document as a store that orders keys its own way (PostgreSQL's jsonb) hands it back: asOf first.
    const { asOf: _, ...rest } = made as TradeView;
    const reordered = { asOf: 3, ...rest } as TradeView;
    const next = tradesProjection.apply(reordered, noted(4, 'B', 'FUND-B', 20), REF)!;
    expect(Object.keys(next)).toEqual(Object.keys(reordered));
    expect((next as TradeView).asOf).toBe(4);
    expect(reordered.asOf).toBe(3); // the document it was given, unchanged
    // One with a key this projection does not make (a field of another release) keeps it, in its place.
    const extra = { ...(made as TradeView), note: 'kept' } as TradeView;
    const after = tradesProjection.apply(extra, noted(5, 'C', 'FUND-C', 30), REF)!;
    expect(Object.keys(after)).toEqual(Object.keys(extra));
    expect(JSON.stringify(after)).toBe(JSON.stringify({ ...extra, allocations: (after as TradeView).allocations, asOf: 5 }));
  });
});
