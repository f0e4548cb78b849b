// Bookings: per trade reference, what the booking process manager noted and
// decided: allocations and confirmations noted, holds, bookings, reversals.
import { Booking } from '../../domain/index.js';
import { defineReconciler, eventPayloads, keyEventsBy, sortArrayBy, stripIds, stripPositions } from '../reconciler.js';

export const bookingsReconciler = defineReconciler({
  name: 'bookings',
  version: '1',
  description: 'Booking decisions (noted inputs, bookings, reversals, holds), per trade reference.',
  select: { eventTypes: Booking.BOOKING_EVENT_TYPES },
  normalise: [
    eventPayloads(),
    // inputId names the environment's own events; provenance.position is its own store's order.
    stripIds(),
    stripPositions(),
    keyEventsBy({
      TradeVersionNoted: (d) => d.version as number,
      TradeCancellationNoted: (d) => d.version as number,
      AllocationNoted: (d) => d.allocationId as string,
      TradeBooked: (d) => d.version as number,
      BookingReversed: (d) => d.version as number,
      BookedAllocationsChanged: (d) => d.version as number,
    }),
    sortArrayBy('events[].data.allocations', 'allocationId'),
    sortArrayBy('events[].data.previous', 'allocationId'),
  ],
});
