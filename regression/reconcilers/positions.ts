// Positions: per (account, ISIN), the positions read model.
//
// Positions are not per trade, so their correlation ID is `ACCOUNT|ISIN` (an
// ISIN never holds '|'; the account is everything before the last '|'). A
// booking change of a trade touches the positions of its allocations'
// accounts in the trade's ISIN: those are the correlation IDs it reveals.
import type { Booking } from '../../domain/index.js';
import { positionDeltas, positionKey } from '../../projections/index.js';
import { defineReconciler, stripPositions, type CorrelatedEvent } from '../reconciler.js';

export const POSITION_CHANGE_TYPES = ['TradeBooked', 'BookingReversed', 'BookedAllocationsChanged'] as const;

export function positionCorrelationId(account: string, isin: string): string {
  return `${account}|${isin}`;
}

export function splitPositionCorrelationId(correlationId: string): { account: string; isin: string } {
  const at = correlationId.lastIndexOf('|');
  return { account: correlationId.slice(0, at), isin: correlationId.slice(at + 1) };
}

type BookingChange = Booking.TradeBooked | Booking.BookingReversed | Booking.BookedAllocationsChanged;

export const positionsReconciler = defineReconciler({
  name: 'positions',
  version: '1',
  description: 'The positions read model, per ACCOUNT|ISIN.',
  select: {
    readModels: {
      positions: (correlationId: string) => {
        const { account, isin } = splitPositionCorrelationId(correlationId);
        return positionKey(account, isin);
      },
    },
  },
  correlate: {
    eventTypes: POSITION_CHANGE_TYPES,
    keys: (event: CorrelatedEvent) => [...positionDeltas(event.data as BookingChange).values()].map((d) => positionCorrelationId(d.account, d.isin)),
  },
  normalise: [stripPositions()],
});
