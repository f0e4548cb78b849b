// Commands from the API on the same aggregates as the feed, and how API and feed records rank.
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { Booking, Trade, type RecordOrigin, type TradeTerms } from './index.js';

const TERMS: TradeTerms = {
  account: 'ACC', isin: 'US0378331005', side: 'BUY', quantity: 100, price: '10.5',
  currency: 'USD', tradeDate: '2026-11-27', settleDate: '2026-11-30', counterparty: 'CP',
};
const API: RecordOrigin = { source: 'API', sourceSequence: 0 };

function apply(state: Trade.TradeState, command: Trade.TradeCommand) {
  const decision = Trade.decide(command, state);
  return { decision, state: E.isRight(decision) ? decision.right.reduce(Trade.evolve, state) : state };
}

describe('trade commands from the API', () => {
  it('capture is version 1; amend and cancel take the next version', () => {
    let { state } = apply(Trade.initialTradeState, { type: 'CaptureTrade', inputId: 'c1', tradeRef: 'R', terms: TERMS, origin: API });
    expect(state.effectiveVersion).toBe(1);
    ({ state } = apply(state, { type: 'AmendTrade', inputId: 'a1', tradeRef: 'R', terms: { ...TERMS, quantity: 5 }, origin: API }));
    expect(state.effectiveVersion).toBe(2);
    expect(state.terms?.quantity).toBe(5);
    ({ state } = apply(state, { type: 'CancelTrade', inputId: 'x1', tradeRef: 'R', reason: 'dup', origin: API }));
    expect(state.cancelledAtVersion).toBe(3);
  });

  it('refuses a second capture, an amendment of a missing trade and of a cancelled one', () => {
    const { state } = apply(Trade.initialTradeState, { type: 'CaptureTrade', inputId: 'c1', tradeRef: 'R', terms: TERMS, origin: API });
    expect(apply(state, { type: 'CaptureTrade', inputId: 'c2', tradeRef: 'R', terms: TERMS, origin: API }).decision).toEqual(E.left(expect.objectContaining({ code: 'TRADE_EXISTS' })));
    expect(apply(Trade.initialTradeState, { type: 'AmendTrade', inputId: 'a', tradeRef: 'R', terms: TERMS, origin: API }).decision).toEqual(E.left(expect.objectContaining({ code: 'TRADE_NOT_FOUND' })));
    const cancelled = apply(state, { type: 'CancelTrade', inputId: 'x', tradeRef: 'R', reason: '', origin: API }).state;
    expect(apply(cancelled, { type: 'AmendTrade', inputId: 'a', tradeRef: 'R', terms: TERMS, origin: API }).decision).toEqual(E.left(expect.objectContaining({ code: 'TRADE_CANCELLED' })));
  });

  it('answers a retried command (same input id) with nothing new instead of refusing it', () => {
    const capture: Trade.TradeCommand = { type: 'CaptureTrade', inputId: 'same', tradeRef: 'R', terms: TERMS, origin: API };
    const { state } = apply(Trade.initialTradeState, capture);
    expect(Trade.decide(capture, state)).toEqual(E.right([]));
  });

  it('an API amendment closes a feed gap: the waiting version applies on top', () => {
    let { state } = apply(Trade.initialTradeState, { type: 'CaptureTrade', inputId: 'c', tradeRef: 'R', terms: TERMS, origin: API });
    ({ state } = apply(state, { type: 'ReceiveVersion', inputId: 'feed-3', origin: { source: 'CORE', sourceSequence: 9 }, record: { type: 'AMD', tradeRef: 'R', version: 3, terms: { ...TERMS, quantity: 3 } } }));
    expect(state.pendingVersions).toEqual(new Set([3]));
    ({ state } = apply(state, { type: 'AmendTrade', inputId: 'a', tradeRef: 'R', terms: TERMS, origin: API }));
    expect(state.effectiveVersion).toBe(3);
  });
});

describe('ranking of allocation records from the feed and the API', () => {
  const alloc = (inputId: string, source: 'ALLOC' | 'API', sourceSequence: number, position: number, account: string): Booking.BookingInput => ({
    type: 'AllocationReceived',
    inputId,
    record: { type: 'ALC', tradeRef: 'R', allocationId: 'A1', account, quantity: 10 },
    provenance: { source, sourceSequence, position },
  });
  const run = (inputs: Booking.BookingInput[]) =>
    inputs.reduce((state, input) => {
      const decision = Booking.react(input, state);
      if (E.isLeft(decision)) throw new Error(decision.left.message);
      return decision.right.reduce(Booking.evolve, state);
    }, Booking.initialBookingState);

  it('the API replaces what stands; an older feed sequence arriving later does not take over', () => {
    const state = run([alloc('f500', 'ALLOC', 500, 1, 'FEED'), alloc('api', 'API', 0, 2, 'API'), alloc('f499', 'ALLOC', 499, 3, 'OLD')]);
    expect(state.allocations.get('A1')?.account).toBe('API');
  });

  it('a newer feed sequence arriving after the API record takes over', () => {
    const state = run([alloc('f500', 'ALLOC', 500, 1, 'FEED'), alloc('api', 'API', 0, 2, 'API'), alloc('f501', 'ALLOC', 501, 3, 'NEW')]);
    expect(state.allocations.get('A1')?.account).toBe('NEW');
  });

  it('a feed record heard only after a later API record is outranked, yet still raises its feed high-water mark', () => {
    // The API record sits at position 5; the feed's sequence 500 sits at position 4 but is heard afterwards.
    const state = run([alloc('api', 'API', 0, 5, 'API'), alloc('f500', 'ALLOC', 500, 4, 'FEED'), alloc('f499', 'ALLOC', 499, 6, 'OLD')]);
    expect(state.allocations.get('A1')?.account).toBe('API');
    expect(state.allocations.get('A1')?.highestSequence).toEqual({ ALLOC: 500 });
  });
});
