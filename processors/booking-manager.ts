import { Booking, Trade, type AllocationReceived, type ConfirmationReceived } from '../domain/index.js';
import type { RecordedEvent } from '../eventstore/index.js';
import type { ProcessorDefinition } from './processor.js';

const INPUT_TYPES = ['VersionApplied', 'TradeCancelled', 'AllocationReceived', 'ConfirmationReceived'];

/** Correlates trade versions, allocations and confirmations per trade reference, and books. */
export const bookingManager: ProcessorDefinition<Booking.BookingState, Booking.BookingEvent, Booking.BookingInput> = {
  name: 'booking-manager',
  streamPrefix: 'booking-',
  filter: { eventTypes: INPUT_TYPES },
  route(event: RecordedEvent) {
    const input = toBookingInput(event);
    return input ? { stream: Booking.bookingStream(event.metadata.correlationId), input } : null;
  },
  initialState: Booking.initialBookingState,
  // A day's allocation and confirmation files come back to every trade of the core file, long after
  // it: reading the bookings again then (measured: 60 % more CPU on the processors' thread with a
  // fifth of the trades kept) costs more than keeping them.
  cacheSize: 200_000,
  evolve: Booking.evolve,
  decide: Booking.react,
  // react evolves by what it notes to book on it: the runner keeps that state rather than evolving again.
  decideAndEvolve: Booking.reactAndEvolve,
};

function toBookingInput(event: RecordedEvent): Booking.BookingInput | null {
  switch (event.type) {
    case 'VersionApplied':
    case 'TradeCancelled':
      return Booking.bookingInputOfTradeEvent(event.data as Trade.TradeEvent, event.id);
    case 'AllocationReceived': {
      const { record, origin } = event.data as AllocationReceived;
      return { type: 'AllocationReceived', inputId: event.id, record, provenance: { source: origin.source, sourceSequence: origin.sourceSequence, position: event.position } };
    }
    case 'ConfirmationReceived': {
      const { record, origin } = event.data as ConfirmationReceived;
      return { type: 'ConfirmationReceived', inputId: event.id, record, provenance: { source: origin.source, sourceSequence: origin.sourceSequence, position: event.position } };
    }
    default:
      return null;
  }
}
