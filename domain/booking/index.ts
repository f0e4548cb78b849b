export * from './events.js';
export { activeAllocations, bookability, react, reactAndEvolve, type Bookability, type BookingDecisionError, type BookingInput, type Reaction } from './react.js';
export { evolve, initialBookingState, supersedes, type BookingState, type BookingTerms, type StandingAllocation, type StandingConfirmation } from './state.js';
export { bookingInputOfTradeEvent } from './inputs.js';
export type { HandledInputs } from './handled-inputs.js';
export type { StandingAllocations } from './standing-allocations.js';
