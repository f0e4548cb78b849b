export * from './events.js';
export { decide, isIntermediate, type AmendTrade, type CancelTrade, type CaptureTrade, type ReceiveVersion, type TradeCommand, type TradeDecisionError } from './decide.js';
export { effectiveVersionAfter, evolve, fingerprintOf, initialTradeState, type ReceivedVersion, type TradeState } from './state.js';
