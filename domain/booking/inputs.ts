import type { TradeEvent } from '../trade/events.js';
import { isIntermediate } from '../trade/decide.js';
import type { BookingInput } from './react.js';

/**
 * What the booking process manager hears from the trade aggregate. A version
 * applied on the way to a later one in the same decision was never the trade's
 * effective version, so it is not heard at all.
 */
export function bookingInputOfTradeEvent(event: TradeEvent, eventId: string): BookingInput | null {
  switch (event.type) {
    case 'VersionApplied':
      if (isIntermediate(event)) return null;
      return { type: 'TradeVersionApplied', inputId: eventId, tradeRef: event.tradeRef, version: event.version, terms: event.terms };
    case 'TradeCancelled':
      return { type: 'TradeCancelled', inputId: eventId, tradeRef: event.tradeRef, version: event.version };
    default:
      return null;
  }
}
