export * from './events.js';
export { decide, type ReceiveVersion, type TradeCommand, type TradeDecisionError } from './decide.js';
export { evolve, fingerprintOf, initialTradeState, type ReceivedVersion, type TradeState } from './state.js';
