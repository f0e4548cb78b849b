// The booking process manager against the CX1 contract, "What a trade becomes":
// allocations, confirmation, booking, reversal, positions.
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../bench/feed-generator.js';
import type { AllocationRecord, ConfirmationRecord, DetailRecord, TradeTerms, VersionRecord } from '../records.js';
import * as Trade from '../trade/index.js';
import { deciderHarness } from '../../tests/support/decider.js';
import type { FeedSource, Price } from '../values.js';
import {
  bookability,
  bookingInputOfTradeEvent,
  evolve,
  initialBookingState,
  react,
  reactAndEvolve,
  type BookedAllocation,
  type BookingEvent,
  type BookingInput,
  type BookingSnapshot,
  type BookingState,
} from './index.js';

// ---------------------------------------------------------------- fixtures

const REF = 'TR-0001';
const APPLE = 'US0378331005';
const BAE = 'GB0002634946';

function termsWith(overrides: Partial<TradeTerms> = {}): TradeTerms {
  return {
    account: 'ACC-1',
    isin: APPLE,
    side: 'BUY',
    quantity: 100,
    price: '123.45',
    currency: 'USD',
    tradeDate: '2026-03-02',
    settleDate: '2026-03-04',
    counterparty: 'CPTY-1',
    ...overrides,
  };
}

let nextInput = 1;
const inputId = (prefix: string): string => `${prefix}-${nextInput++}`;
let nextPosition = 1;
/** Source sequences handed out when a test does not care: always higher than the explicit ones tests use. */
let nextSequence = 1_000;

/** The trade aggregate says: the effective version is now `v`, with these terms. */
const version = (v: number, overrides: Partial<TradeTerms> = {}): BookingInput => ({
  type: 'TradeVersionApplied',
  inputId: inputId('trade'),
  tradeRef: REF,
  version: v,
  terms: termsWith(overrides),
});

/** The trade aggregate says: the effective version reached a cancellation at `v`. */
const cancellation = (v: number): BookingInput => ({ type: 'TradeCancelled', inputId: inputId('trade'), tradeRef: REF, version: v });

/** The ALLOC feed says: allocation `allocationId` puts `quantity` in `account` (0 withdraws it). */
function allocation(allocationId: string, account: string, quantity: number, sourceSequence: number = nextSequence++): BookingInput {
  const record: AllocationRecord = { type: 'ALC', tradeRef: REF, allocationId, account, quantity };
  return { type: 'AllocationReceived', inputId: inputId('alloc'), record, provenance: { source: 'ALLOC', sourceSequence, position: nextPosition++ } };
}

function confirmationOf(status: ConfirmationRecord['status'], quantity: number, price: Price, sourceSequence: number): BookingInput {
  const record: ConfirmationRecord = { type: 'CNF', tradeRef: REF, status, quantity, price, reason: status === 'REJECTED' ? 'mismatch' : '' };
  return { type: 'ConfirmationReceived', inputId: inputId('custody'), record, provenance: { source: 'CUSTODY', sourceSequence, position: nextPosition++ } };
}
/** The CUSTODY feed affirms (AF) the trade with this quantity and price. */
const affirmed = (quantity = 100, price: Price = '123.45', sourceSequence: number = nextSequence++): BookingInput =>
  confirmationOf('AFFIRMED', quantity, price, sourceSequence);
/** The CUSTODY feed rejects (RJ) the trade. */
const rejected = (quantity = 100, price: Price = '123.45', sourceSequence: number = nextSequence++): BookingInput =>
  confirmationOf('REJECTED', quantity, price, sourceSequence);

const hold = (reason = 'compliance review'): BookingInput => ({ type: 'PlaceHold', inputId: inputId('api'), tradeRef: REF, reason });
const release = (): BookingInput => ({ type: 'ReleaseHold', inputId: inputId('api'), tradeRef: REF });

/** Version 1 of 100 @ 123.45, allocated 60/40 to two accounts and affirmed: booked. */
const bookedTrade = (): BookingInput[] => [version(1), allocation('A1', 'ACC-1', 60), allocation('A2', 'ACC-2', 40), affirmed(100, '123.45')];

// ---------------------------------------------------------------- given / when / then

const { decideOrFail: reactOrFail, run, fold } = deciderHarness<BookingInput, BookingState, BookingEvent>({ decide: react, evolve, initialState: initialBookingState });

type Decision = Extract<BookingEvent, { type: 'TradeBooked' | 'BookingReversed' | 'BookedAllocationsChanged' }>;
const isDecision = (event: BookingEvent): event is Decision =>
  event.type === 'TradeBooked' || event.type === 'BookingReversed' || event.type === 'BookedAllocationsChanged';

/** The booking decisions only ("TradeBooked(2)"), the noting events left out. */
const decisions = (events: readonly BookingEvent[]): string[] => events.filter(isDecision).map((e) => `${e.type}(${e.version})`);

function given(...history: BookingInput[]) {
  const past = run(history);
  return {
    state: past.state,
    events: past.events,
    when(input: BookingInput) {
      const events = reactOrFail(input, past.state);
      const state = events.reduce(evolve, past.state);
      return {
        events,
        state,
        /** Asserts the booking decisions this input led to, in order; returns the state after them. */
        then(...expected: string[]): BookingState {
          expect(decisions(events)).toEqual(expected);
          return state;
        },
      };
    },
  };
}

const snapshot = (v: number, allocations: BookedAllocation[], isin = APPLE, side: TradeTerms['side'] = 'BUY'): BookingSnapshot => ({
  version: v,
  isin,
  side,
  allocations,
});
const SPLIT_60_40: BookedAllocation[] = [
  { allocationId: 'A1', account: 'ACC-1', quantity: 60 },
  { allocationId: 'A2', account: 'ACC-2', quantity: 40 },
];

// ---------------------------------------------------------------- positions

type Positions = Record<string, number>;
const positionKey = (account: string, isin: string): string => `${account} ${isin}`;

function addTo(positions: Positions, booking: BookingSnapshot, allocations: readonly BookedAllocation[], sign: 1 | -1): void {
  const direction = booking.side === 'BUY' ? 1 : -1;
  for (const a of allocations) {
    const key = positionKey(a.account, booking.isin);
    positions[key] = (positions[key] ?? 0) + sign * direction * a.quantity;
  }
}

const withoutZeros = (positions: Positions): Positions => Object.fromEntries(Object.entries(positions).filter(([, q]) => q !== 0));

/** Positions as a projection of the event stream would see them. */
function positionsFromEvents(events: readonly BookingEvent[]): Positions {
  const positions: Positions = {};
  for (const event of events) {
    if (event.type === 'TradeBooked') addTo(positions, event, event.allocations, 1);
    if (event.type === 'BookingReversed') addTo(positions, event, event.allocations, -1);
    if (event.type === 'BookedAllocationsChanged') {
      addTo(positions, event, event.previous, -1);
      addTo(positions, event, event.allocations, 1);
    }
  }
  return withoutZeros(positions);
}

/** Positions straight from what is currently booked. */
function positionsFromBooking(booking: BookingSnapshot | null): Positions {
  const positions: Positions = {};
  if (booking) addTo(positions, booking, booking.allocations, 1);
  return withoutZeros(positions);
}

// ---------------------------------------------------------------- booking conditions

describe('booking conditions: not cancelled, allocations add up to the quantity, standing AF with that quantity and price', () => {
  it('books the trade at its effective version when all conditions hold', () => {
    const { events, state } = given(version(1), allocation('A1', 'ACC-1', 60), allocation('A2', 'ACC-2', 40)).when(affirmed(100, '123.45'));
    expect(events.filter(isDecision)).toMatchObject([{ type: 'TradeBooked', tradeRef: REF, ...snapshot(1, SPLIT_60_40) }]);
    expect(state.booking).toEqual(snapshot(1, SPLIT_60_40));
  });

  it.each([0, 1, 2, 3])('books as soon as the last missing input arrives, whichever it is (input %i last)', (last) => {
    const inputs = bookedTrade();
    const [lastInput] = inputs.splice(last, 1);
    given(...inputs).when(lastInput!).then('TradeBooked(1)');
  });

  it('books with the ISIN and side of the effective version, for a sell as well', () => {
    const { state } = run([version(1, { isin: BAE, side: 'SELL' }), allocation('A1', 'ACC-1', 100), affirmed()]);
    expect(state.booking).toEqual(snapshot(1, [{ allocationId: 'A1', account: 'ACC-1', quantity: 100 }], BAE, 'SELL'));
  });

  it('does not book when the allocations add up to less than the quantity', () => {
    given(version(1), allocation('A1', 'ACC-1', 60), allocation('A2', 'ACC-2', 39)).when(affirmed()).then();
  });

  it('does not book when the allocations add up to more than the quantity', () => {
    given(version(1), allocation('A1', 'ACC-1', 60), allocation('A2', 'ACC-2', 41)).when(affirmed()).then();
  });

  it('does not book without any allocation', () => {
    given(version(1)).when(affirmed()).then();
  });

  it('does not book without a confirmation', () => {
    given(version(1), allocation('A1', 'ACC-1', 60)).when(allocation('A2', 'ACC-2', 40)).then();
  });

  it('does not book on a rejected (RJ) confirmation, even with the right quantity and price', () => {
    given(version(1), allocation('A1', 'ACC-1', 100)).when(rejected(100, '123.45')).then();
  });

  it('does not book when the affirmed quantity differs from the version quantity', () => {
    given(version(1), allocation('A1', 'ACC-1', 100)).when(affirmed(99, '123.45')).then();
  });

  it.each(['123.4', '123.46', '12.345', '0'])('does not book when the affirmed price (%s) differs from 123.45', (price) => {
    given(version(1), allocation('A1', 'ACC-1', 100)).when(affirmed(100, price)).then();
  });

  it.each<[Price]>([['100'], ['0.00000001'], ['9999999999.99999999'], ['10.5']])('prices are compared as canonical decimal strings: %s matches %s', (price) => {
    given(version(1, { price }), allocation('A1', 'ACC-1', 100)).when(affirmed(100, price)).then('TradeBooked(1)');
  });

  it('does not book a cancelled trade, even when allocations and confirmation fit', () => {
    given(version(1), cancellation(2), allocation('A1', 'ACC-1', 60), allocation('A2', 'ACC-2', 40)).when(affirmed()).then();
  });

  it('does not book a trade on hold', () => {
    given(version(1), hold(), allocation('A1', 'ACC-1', 60), allocation('A2', 'ACC-2', 40)).when(affirmed()).then();
  });

  it('bookability names the condition that fails', () => {
    const verdict = (inputs: BookingInput[]) => bookability(run(inputs).state);
    expect(verdict([allocation('A1', 'ACC-1', 100), affirmed()])).toMatchObject({ bookable: false });
    expect(verdict([version(1), allocation('A1', 'ACC-1', 90), affirmed()])).toMatchObject({ bookable: false, reason: expect.stringContaining('90') });
    expect(verdict([version(1), allocation('A1', 'ACC-1', 100), rejected()])).toMatchObject({ bookable: false, reason: expect.stringContaining('REJECTED') });
    expect(verdict([version(1), allocation('A1', 'ACC-1', 100)])).toMatchObject({ bookable: false });
    expect(verdict([version(1), cancellation(2), allocation('A1', 'ACC-1', 100), affirmed()])).toMatchObject({ bookable: false, reason: expect.stringContaining('cancel') });
    expect(verdict([version(1), allocation('A1', 'ACC-1', 100), affirmed()])).toEqual({
      bookable: true,
      snapshot: snapshot(1, [{ allocationId: 'A1', account: 'ACC-1', quantity: 100 }]),
    });
  });
});

// ---------------------------------------------------------------- allocations

describe('allocations: per allocation id the record with the highest source sequence stands', () => {
  it('the higher sequence stands when it arrives last', () => {
    const state = given(version(1), affirmed(), allocation('A1', 'ACC-1', 40, 3)).when(allocation('A1', 'ACC-1', 100, 5)).then('TradeBooked(1)');
    expect(state.booking?.allocations).toEqual([{ allocationId: 'A1', account: 'ACC-1', quantity: 100 }]);
  });

  it('the higher sequence stands when it arrives first: a late lower sequence changes nothing', () => {
    const past = given(version(1), affirmed(), allocation('A1', 'ACC-1', 100, 5));
    expect(past.state.booking).not.toBeNull();
    const { events, state } = past.when(allocation('A1', 'ACC-1', 40, 3));
    expect(decisions(events)).toEqual([]);
    expect(state.booking).toEqual(past.state.booking);
    expect(state.allocations.get('A1')).toMatchObject({ quantity: 100, provenance: { sourceSequence: 5 } });
  });

  it('the standing allocation is the same whatever the arrival order of three records', () => {
    const records = [allocation('A1', 'ACC-1', 10, 7), allocation('A1', 'ACC-2', 100, 9), allocation('A1', 'ACC-3', 55, 8)];
    for (const order of [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]) {
      const { state } = run([version(1), affirmed(), ...order.map((i) => records[i]!)]);
      expect(state.booking?.allocations, `order ${order.join(',')}`).toEqual([{ allocationId: 'A1', account: 'ACC-2', quantity: 100 }]);
    }
  });

  it('each allocation id stands on its own: two allocations to the same account both count', () => {
    const state = given(version(1), affirmed(), allocation('A1', 'ACC-1', 30)).when(allocation('A2', 'ACC-1', 70)).then('TradeBooked(1)');
    expect(state.booking?.allocations).toEqual([
      { allocationId: 'A1', account: 'ACC-1', quantity: 30 },
      { allocationId: 'A2', account: 'ACC-1', quantity: 70 },
    ]);
  });

  it('quantity 0 withdraws the allocation: it no longer counts and the booking is reversed', () => {
    const state = given(...bookedTrade()).when(allocation('A2', 'ACC-2', 0)).then('BookingReversed(1)');
    expect(state.booking).toBeNull();
    expect(bookability(state)).toMatchObject({ bookable: false, reason: expect.stringContaining('60') });
  });

  it("a reversal's reason is the condition that now fails, for each way a booking is undone", () => {
    // rebook writes the reason only when there is a booking to reverse: it must then be the verdict's own.
    // The input made after the history: a feed record's sequence follows those before it.
    const reasonOf = (input: () => BookingInput) => {
      const history = given(...bookedTrade());
      const { events, state } = history.when(input());
      const reversal = events.find((event) => event.type === 'BookingReversed') as { reason: string } | undefined;
      return [reversal?.reason, (bookability(state) as { reason?: string }).reason];
    };
    expect(reasonOf(() => allocation('A2', 'ACC-2', 0))).toEqual(['allocations add up to 60, version 1 has quantity 100', 'allocations add up to 60, version 1 has quantity 100']);
    expect(reasonOf(() => hold())).toEqual([expect.stringMatching(/^on hold: ./), expect.stringMatching(/^on hold: ./)]);
    const [reason, verdict] = reasonOf(() => cancellation(2));
    expect(reason).toBe(verdict);
    expect(reason).toMatch(/^cancelled at version 2/);
  });

  it('a withdrawn allocation is not part of a booking', () => {
    const state = given(version(1), affirmed(), allocation('A1', 'ACC-1', 100), allocation('A2', 'ACC-2', 40, 1))
      .when(allocation('A2', 'ACC-2', 0, 2))
      .then('TradeBooked(1)');
    expect(state.booking?.allocations).toEqual([{ allocationId: 'A1', account: 'ACC-1', quantity: 100 }]);
  });

  it('a withdrawal with a lower sequence than the standing record does not withdraw it', () => {
    given(version(1), affirmed(), allocation('A1', 'ACC-1', 60, 4), allocation('A2', 'ACC-2', 40, 6))
      .when(allocation('A2', 'ACC-2', 0, 5))
      .then();
  });

  it('a withdrawn allocation comes back with a higher sequence and the trade is booked again', () => {
    given(...bookedTrade(), allocation('A2', 'ACC-2', 0)).when(allocation('A2', 'ACC-2', 40)).then('TradeBooked(1)');
  });

  it('a block trade books once, with every one of its thousands of allocations', () => {
    const count = 3_000;
    const allocations = Array.from({ length: count }, (_, i) => allocation(`AL${String(count - i).padStart(5, '0')}`, `FUND-${i}`, 10));
    const past = run([version(1, { quantity: count * 10 }), affirmed(count * 10), ...allocations]);
    expect(decisions(past.events)).toEqual(['TradeBooked(1)']);
    expect(past.state.booking?.allocations).toHaveLength(count);
    expect(past.state.booking?.allocations.map((a) => a.allocationId)).toEqual([...past.state.booking!.allocations.map((a) => a.allocationId)].sort());
  });

  it('the allocated quantity is the sum of the standing allocations, through replacements and withdrawals', () => {
    const rng = new Rng(11);
    let state = run([version(1, { quantity: 1_000_000 })]).state;
    for (let i = 0; i < 2_000; i++) {
      const input = allocation(`A${rng.int(0, 150)}`, 'ACC-1', rng.chance(0.2) ? 0 : rng.int(1, 500), rng.int(1, 4_000));
      state = reactOrFail(input, state).reduce(evolve, state);
      const standing = [...state.allocations.values()].reduce((sum, a) => sum + BigInt(a.quantity), 0n);
      expect(state.allocatedQuantity).toBe(standing);
    }
  });

  it('allocations that add up past 2^53 on the way still book exactly when they come back to the quantity', () => {
    const largest = 999_999_999_999_999;
    const history = [version(1, { quantity: largest, price: '1' }), affirmed(largest, '1')];
    for (let i = 1; i <= 9; i++) history.push(allocation(`A${i}`, 'ACC-1', largest));
    history.push(allocation('A10', 'ACC-1', largest - 1));
    for (let i = 2; i <= 9; i++) history.push(allocation(`A${i}`, 'ACC-1', 0));
    given(...history).when(allocation('A10', 'ACC-1', 0)).then('TradeBooked(1)');
  });

  it('evolving leaves the state it started from as it was', () => {
    const before = run([version(1), allocation('A1', 'ACC-1', 60)]).state;
    const after = reactOrFail(allocation('A2', 'ACC-2', 40), before).reduce(evolve, before);
    expect(after.allocations.size).toBe(2);
    expect(after.allocatedQuantity).toBe(100n);
    expect(before.allocations.size).toBe(1);
    expect(before.allocatedQuantity).toBe(60n);
    expect(before.handledInputs.size).toBe(2);
    expect(after.handledInputs.size).toBe(3);
  });
});

// ---------------------------------------------------------------- confirmation

describe('confirmation: the CNF with the highest source sequence stands', () => {
  it('an older rejection arriving after a newer affirmation changes nothing', () => {
    const past = given(version(1), allocation('A1', 'ACC-1', 100), affirmed(100, '123.45', 10));
    const { events, state } = past.when(rejected(100, '123.45', 9));
    expect(decisions(events)).toEqual([]);
    expect(state.booking).toEqual(past.state.booking);
    expect(state.confirmation).toMatchObject({ status: 'AFFIRMED', provenance: { sourceSequence: 10 } });
  });

  it('a newer affirmation arriving after an older rejection books', () => {
    given(version(1), allocation('A1', 'ACC-1', 100), rejected(100, '123.45', 9)).when(affirmed(100, '123.45', 10)).then('TradeBooked(1)');
  });

  it('an older affirmation arriving after a newer rejection does not book', () => {
    given(version(1), allocation('A1', 'ACC-1', 100), rejected(100, '123.45', 10)).when(affirmed(100, '123.45', 9)).then();
  });

  it('an older affirmation with the wrong price arriving late does not unbook', () => {
    given(version(1), allocation('A1', 'ACC-1', 100), affirmed(100, '123.45', 10)).when(affirmed(100, '1', 9)).then();
  });
});

// ---------------------------------------------------------------- booked once

describe('booking is idempotent: never booked twice at the same version', () => {
  it.each([0, 1, 2, 3])('a redelivered input (same input id) produces nothing (input %i redelivered)', (index) => {
    const inputs = bookedTrade();
    const past = given(...inputs);
    const { events, state } = past.when(inputs[index]!);
    expect(events).toEqual([]);
    expect(state).toEqual(past.state);
  });

  it('a redelivered reversing input produces nothing', () => {
    const withdrawal = allocation('A2', 'ACC-2', 0);
    const past = given(...bookedTrade(), withdrawal);
    expect(past.when(withdrawal).events).toEqual([]);
  });

  it('the same allocation repeated under a new sequence does not book again', () => {
    given(...bookedTrade()).when(allocation('A2', 'ACC-2', 40)).then();
  });

  it('the same affirmation repeated under a new sequence does not book again', () => {
    given(...bookedTrade()).when(affirmed(100, '123.45')).then();
  });

  it('the same version announced again does not book again', () => {
    given(...bookedTrade()).when(version(1)).then();
  });

  it('an older version announced late does not move the booking back', () => {
    given(...bookedTrade(), version(2)).when(version(1)).then();
  });

  it('a cancellation announced twice reverses once', () => {
    given(...bookedTrade(), cancellation(2)).when(cancellation(2)).then();
  });
});

// ---------------------------------------------------------------- reversal and re-booking

describe('reversal: when a booked trade stops meeting the conditions its booking is reversed; re-booked when they hold again', () => {
  it('an amendment changing the quantity reverses the booking; it is booked at the new version once allocations and confirmation fit', () => {
    const afterAmendment = given(...bookedTrade()).when(version(2, { quantity: 150 })).then('BookingReversed(1)');
    expect(afterAmendment.booking).toBeNull();

    const history = [...bookedTrade(), version(2, { quantity: 150 })];
    given(...history, allocation('A3', 'ACC-3', 50)).when(affirmed(150, '123.45')).then('TradeBooked(2)');
  });

  it('an amendment changing the price reverses the booking until a matching confirmation arrives', () => {
    given(...bookedTrade()).when(version(2, { price: '124' })).then('BookingReversed(1)');
    given(...bookedTrade(), version(2, { price: '124' })).when(affirmed(100, '124')).then('TradeBooked(2)');
  });

  it('an allocation change breaking the sum reverses; restoring it books again', () => {
    given(...bookedTrade()).when(allocation('A2', 'ACC-2', 45)).then('BookingReversed(1)');
    given(...bookedTrade(), allocation('A2', 'ACC-2', 45)).when(allocation('A2', 'ACC-2', 40)).then('TradeBooked(1)');
  });

  it('a new allocation id pushing the sum over reverses', () => {
    given(...bookedTrade()).when(allocation('A3', 'ACC-3', 1)).then('BookingReversed(1)');
  });

  it('a new rejection reverses; a new affirmation books again', () => {
    given(...bookedTrade()).when(rejected()).then('BookingReversed(1)');
    given(...bookedTrade(), rejected()).when(affirmed()).then('TradeBooked(1)');
  });

  it('a new affirmation with another quantity or price reverses', () => {
    given(...bookedTrade()).when(affirmed(99, '123.45')).then('BookingReversed(1)');
    given(...bookedTrade()).when(affirmed(100, '123.44')).then('BookingReversed(1)');
  });

  it('a cancellation reverses, and nothing books the trade again', () => {
    const cancelled = given(...bookedTrade()).when(cancellation(2)).then('BookingReversed(1)');
    expect(cancelled.booking).toBeNull();
    expect(cancelled.cancelled).toBe(true);
    // The effective version is the cancellation; the terms stay those of the last version before it,
    // as far as the booking rules read them.
    const { quantity, price, isin, side } = termsWith();
    expect(cancelled.trade).toEqual({ version: 2, terms: { quantity, price, isin, side } });
    const later = run([allocation('A2', 'ACC-2', 0), allocation('A2', 'ACC-2', 40), rejected(), affirmed(), hold(), release(), version(3)], cancelled);
    expect(decisions(later.events)).toEqual([]);
  });

  it('a cancellation of a trade that was never booked reverses nothing', () => {
    given(version(1), allocation('A1', 'ACC-1', 100)).when(cancellation(2)).then();
  });

  it('a hold reverses; its release books again', () => {
    given(...bookedTrade()).when(hold()).then('BookingReversed(1)');
    given(...bookedTrade(), hold()).when(release()).then('TradeBooked(1)');
  });

  it('the reversal carries exactly what was booked, so the positions net to zero', () => {
    const { events } = given(...bookedTrade()).when(allocation('A2', 'ACC-2', 0));
    expect(events.filter(isDecision)).toMatchObject([{ type: 'BookingReversed', ...snapshot(1, SPLIT_60_40), reason: expect.any(String) }]);
    const all = run([...bookedTrade(), allocation('A2', 'ACC-2', 0)]).events;
    expect(positionsFromEvents(all)).toEqual({});
  });

  it('book, reverse, book again: never two TradeBooked at one version without a reversal between', () => {
    const { events } = run([
      ...bookedTrade(),
      hold(),
      release(),
      allocation('A2', 'ACC-2', 0),
      allocation('A2', 'ACC-2', 40),
      rejected(),
      affirmed(),
      version(2, { counterparty: 'NEW' }),
    ]);
    expect(decisions(events)).toEqual([
      'TradeBooked(1)',
      'BookingReversed(1)',
      'TradeBooked(1)',
      'BookingReversed(1)',
      'TradeBooked(1)',
      'BookingReversed(1)',
      'TradeBooked(1)',
      'BookingReversed(1)',
      'TradeBooked(2)',
    ]);
  });
});

describe('a booked trade whose effective version moves on while the conditions still hold', () => {
  it('is reversed at the old version and booked at the new one, in that order', () => {
    const { events, state } = given(...bookedTrade()).when(version(2, { counterparty: 'CPTY-2' }));
    expect(events.filter(isDecision)).toMatchObject([
      { type: 'BookingReversed', ...snapshot(1, SPLIT_60_40) },
      { type: 'TradeBooked', ...snapshot(2, SPLIT_60_40) },
    ]);
    expect(state.booking).toEqual(snapshot(2, SPLIT_60_40));
  });

  it('the reversal uses the old version ISIN and side, the new booking the new ones', () => {
    const { events } = given(...bookedTrade()).when(version(2, { isin: BAE, side: 'SELL' }));
    expect(events.filter(isDecision)).toMatchObject([
      { type: 'BookingReversed', ...snapshot(1, SPLIT_60_40, APPLE, 'BUY') },
      { type: 'TradeBooked', ...snapshot(2, SPLIT_60_40, BAE, 'SELL') },
    ]);
    const all = run([...bookedTrade(), version(2, { isin: BAE, side: 'SELL' })]).events;
    expect(positionsFromEvents(all)).toEqual({ [positionKey('ACC-1', BAE)]: -60, [positionKey('ACC-2', BAE)]: -40 });
  });

  it('follows every move of the effective version', () => {
    const { events } = run([...bookedTrade(), version(2, { counterparty: 'B' }), version(3, { counterparty: 'C' })]);
    expect(decisions(events)).toEqual(['TradeBooked(1)', 'BookingReversed(1)', 'TradeBooked(2)', 'BookingReversed(2)', 'TradeBooked(3)']);
  });
});

describe('same version, allocations moved to other accounts with the same total', () => {
  it('restates the booking (BookedAllocationsChanged) instead of reversing it', () => {
    const { events, state } = given(...bookedTrade()).when(allocation('A2', 'ACC-9', 40));
    const moved: BookedAllocation[] = [SPLIT_60_40[0]!, { allocationId: 'A2', account: 'ACC-9', quantity: 40 }];
    expect(events.filter(isDecision)).toMatchObject([{ type: 'BookedAllocationsChanged', ...snapshot(1, moved), previous: SPLIT_60_40 }]);
    expect(state.booking).toEqual(snapshot(1, moved));
    const all = run([...bookedTrade(), allocation('A2', 'ACC-9', 40)]).events;
    expect(positionsFromEvents(all)).toEqual({ [positionKey('ACC-1', APPLE)]: 60, [positionKey('ACC-9', APPLE)]: 40 });
  });
});

// ---------------------------------------------------------------- records before the trade

describe('records arriving before the trade', () => {
  it('allocations and confirmation before version 1: booked once the trade arrives', () => {
    const past = given(allocation('A1', 'ACC-1', 60), affirmed(), allocation('A2', 'ACC-2', 40));
    expect(decisions(past.events)).toEqual([]);
    expect(past.state.booking).toBeNull();
    past.when(version(1)).then('TradeBooked(1)');
  });

  it('records that do not fit the trade when it arrives: not booked', () => {
    given(allocation('A1', 'ACC-1', 60), affirmed()).when(version(1)).then();
  });
});

// ---------------------------------------------------------------- hold and release

describe('hold and release', () => {
  it('a hold placed before the conditions hold prevents the booking; the release books', () => {
    given(version(1), hold(), allocation('A1', 'ACC-1', 100)).when(affirmed()).then();
    given(version(1), hold(), allocation('A1', 'ACC-1', 100), affirmed()).when(release()).then('TradeBooked(1)');
  });

  it('a hold can be placed before the trade arrives', () => {
    given(hold(), allocation('A1', 'ACC-1', 100), affirmed()).when(version(1)).then();
  });

  it('placing a hold on a trade already on hold is refused', () => {
    const { state } = run([version(1), hold()]);
    const result = react(hold(), state);
    expect(E.isLeft(result) && result.left.code).toBe('ALREADY_ON_HOLD');
  });

  it('releasing a trade not on hold is refused', () => {
    const { state } = run([version(1)]);
    const result = react(release(), state);
    expect(E.isLeft(result) && result.left.code).toBe('NOT_ON_HOLD');
  });

  it('a redelivered hold (same input id) is not refused: it produces nothing', () => {
    const placed = hold();
    const { state } = run([version(1), placed]);
    expect(react(placed, state)).toEqual(E.right([]));
  });

  it('releasing a cancelled trade does not book it', () => {
    given(...bookedTrade(), hold(), cancellation(2)).when(release()).then();
  });

  it('an input for another trade is refused', () => {
    const { state } = run([version(1)]);
    const other: BookingInput = { type: 'PlaceHold', inputId: inputId('api'), tradeRef: 'TR-OTHER', reason: 'x' };
    const result = react(other, state);
    expect(E.isLeft(result) && result.left.code).toBe('WRONG_TRADE');
  });
});

describe('the state is the fold of the events', () => {
  const story = (): BookingInput[] => [
    allocation('A1', 'ACC-1', 60, 3),
    affirmed(100, '123.45', 4),
    version(1),
    allocation('A2', 'ACC-2', 40, 5),
    allocation('A2', 'ACC-7', 40, 6),
    hold(),
    release(),
    version(2, { quantity: 150 }),
    allocation('A1', 'ACC-1', 110, 7),
    affirmed(150, '123.45', 8),
    rejected(150, '123.45', 2),
  ];

  it('replaying the emitted events through evolve rebuilds the same state', () => {
    const live = run(story());
    expect(fold(live.events)).toEqual(live.state);
    expect(live.state.booking).toEqual(
      snapshot(2, [
        { allocationId: 'A1', account: 'ACC-1', quantity: 110 },
        { allocationId: 'A2', account: 'ACC-7', quantity: 40 },
      ]),
    );
  });

  it('a rebuilt state remembers every input: redelivering everything changes nothing', () => {
    const inputs = story();
    const rebuilt = fold(run(inputs).events);
    expect(run(inputs, rebuilt).events).toEqual([]);
  });

  it('positions implied by the events equal those of the final booking', () => {
    const live = run(story());
    expect(positionsFromEvents(live.events)).toEqual(positionsFromBooking(live.state.booking));
  });
});

// ---------------------------------------------------------------- from records to bookings

/** A record as one of the three feeds sent it. */
interface FeedRecord {
  source: FeedSource;
  sequence: number;
  record: DetailRecord;
}

/**
 * The trade aggregate feeding the booking process manager, as the platform wires
 * them: version records go through Trade.decide; each VersionApplied / TradeCancelled
 * (an event of its own, with its own id) becomes a booking input; ALC and CNF go to
 * the booking directly.
 */
function pipeline() {
  let trade = Trade.initialTradeState;
  let booking = initialBookingState;
  const bookingEvents: BookingEvent[] = [];
  let position = 0;
  let tradeEventNumber = 0;

  const toBooking = (input: BookingInput) => {
    const events = reactOrFail(input, booking);
    const after = events.reduce(evolve, booking);
    // What the booking manager keeps: the same events, and exactly their evolution of the state.
    expect(reactAndEvolve(input, booking)).toEqual(E.right({ events, state: after }));
    bookingEvents.push(...events);
    booking = after;
  };

  const toTrade = (record: VersionRecord, origin: { source: FeedSource; sourceSequence: number }, receivedId: string) => {
    const result = Trade.decide({ type: 'ReceiveVersion', inputId: receivedId, record, origin }, trade);
    if (E.isLeft(result)) throw new Error(result.left.message);
    for (const event of result.right) {
      trade = Trade.evolve(trade, event);
      const eventId = `trade-event-${++tradeEventNumber}`;
      const input = bookingInputOfTradeEvent(event, eventId);
      if (input) toBooking(input);
    }
  };

  return {
    receive({ source, sequence, record }: FeedRecord): void {
      position++;
      const receivedId = `${source.toLowerCase()}-${sequence}`;
      const provenance = { source, sourceSequence: sequence, position };
      switch (record.type) {
        case 'TRD':
        case 'AMD':
        case 'CXL':
          return toTrade(record, { source, sourceSequence: sequence }, receivedId);
        case 'ALC':
          return toBooking({ type: 'AllocationReceived', inputId: receivedId, record, provenance });
        case 'CNF':
          return toBooking({ type: 'ConfirmationReceived', inputId: receivedId, record, provenance });
      }
    },
    get trade() {
      return trade;
    },
    get booking() {
      return booking;
    },
    get events() {
      return bookingEvents;
    },
  };
}

function feed(records: readonly FeedRecord[]) {
  const p = pipeline();
  for (const record of records) p.receive(record);
  return p;
}

const core = (sequence: number, record: VersionRecord): FeedRecord => ({ source: 'CORE', sequence, record });
const trdRecord = (overrides: Partial<TradeTerms> = {}): VersionRecord => ({ type: 'TRD', tradeRef: REF, version: 1, terms: termsWith(overrides) });
const amdRecord = (v: number, overrides: Partial<TradeTerms> = {}): VersionRecord => ({ type: 'AMD', tradeRef: REF, version: v, terms: termsWith(overrides) });
const cxlRecord = (v: number): VersionRecord => ({ type: 'CXL', tradeRef: REF, version: v, reason: '' });
const alcRecord = (sequence: number, allocationId: string, account: string, quantity: number): FeedRecord => ({
  source: 'ALLOC',
  sequence,
  record: { type: 'ALC', tradeRef: REF, allocationId, account, quantity },
});
const cnfRecord = (sequence: number, status: ConfirmationRecord['status'], quantity: number, price: Price): FeedRecord => ({
  source: 'CUSTODY',
  sequence,
  record: { type: 'CNF', tradeRef: REF, status, quantity, price, reason: '' },
});

describe('from records to bookings (trade aggregate feeding the booking process manager)', () => {
  it('ALC and CNF arriving before the TRD: booked once the trade arrives', () => {
    const p = feed([alcRecord(1, 'A1', 'ACC-1', 100), cnfRecord(1, 'AFFIRMED', 100, '123.45'), core(1, trdRecord())]);
    expect(decisions(p.events)).toEqual(['TradeBooked(1)']);
  });

  it('version 3 before version 2: the booking follows the versions as they apply', () => {
    const p = feed([
      core(1, trdRecord()),
      alcRecord(1, 'A1', 'ACC-1', 100),
      cnfRecord(1, 'AFFIRMED', 100, '123.45'),
      core(3, amdRecord(3, { quantity: 150 })),
      core(2, amdRecord(2, { quantity: 120 })),
      alcRecord(2, 'A1', 'ACC-1', 150),
      cnfRecord(2, 'AFFIRMED', 150, '123.45'),
    ]);
    expect(decisions(p.events)).toEqual(['TradeBooked(1)', 'BookingReversed(1)', 'TradeBooked(3)']);
    expect(p.booking?.booking?.version).toBe(3);
  });

  it('a cancellation waiting beyond a gap reverses the booking when the gap closes', () => {
    const p = feed([
      core(1, trdRecord()),
      alcRecord(1, 'A1', 'ACC-1', 100),
      cnfRecord(1, 'AFFIRMED', 100, '123.45'),
      core(3, cxlRecord(3)),
      core(4, amdRecord(4)),
      core(2, amdRecord(2, { counterparty: 'X' })),
    ]);
    expect(p.trade.cancelledAtVersion).toBe(3);
    expect(p.booking.booking).toBeNull();
    expect(positionsFromEvents(p.events)).toEqual({});
  });

  // The spec: "A trade is booked at its effective version v" and "the effective version
  // is the highest k such that 1..k have all arrived". When version 2 arrives while 3
  // and 4 wait, the effective version goes from 1 straight to 4: versions 2 and 3 are
  // never the effective version, so the trade must not be booked at them.
  it('a gap closing releases several versions at once: the trade is booked only at the version that becomes effective', () => {
    const p = feed([
      alcRecord(1, 'A1', 'ACC-1', 100),
      cnfRecord(1, 'AFFIRMED', 100, '123.45'),
      core(1, trdRecord({ quantity: 50 })), // version 1 does not fit: not booked
      core(4, amdRecord(4, { counterparty: 'D' })),
      core(3, amdRecord(3, { counterparty: 'C' })),
      core(2, amdRecord(2, { counterparty: 'B' })), // 2, 3 and 4 apply now: effective version 4
    ]);
    expect(p.trade.effectiveVersion).toBe(4);
    expect(decisions(p.events)).toEqual(['TradeBooked(4)']);
  });
});

// ---------------------------------------------------------------- property: arrival order


const pick = <T>(items: readonly T[], random: () => number): T => items[Math.floor(random() * items.length)]!;

/** Distinct increasing source sequences. */
function sequences(count: number, random: () => number): number[] {
  const out: number[] = [];
  let next = 1;
  for (let i = 0; i < count; i++) {
    next += 1 + Math.floor(random() * 3);
    out.push(next);
  }
  return out;
}

/** A trade's records from the three feeds, biased so that it is often bookable. */
function scenario(random: () => number): FeedRecord[] {
  const versionCount = 1 + Math.floor(random() * 4);
  const cancelAt = versionCount >= 2 && random() < 0.3 ? 2 + Math.floor(random() * (versionCount - 1)) : null;
  const versions: VersionRecord[] = [];
  for (let v = 1; v <= versionCount; v++) {
    if (v === cancelAt) versions.push(cxlRecord(v));
    else {
      const overrides: Partial<TradeTerms> = {
        quantity: pick([100, 150], random),
        price: pick(['10.5', '11'], random),
        isin: pick([APPLE, BAE], random),
        side: pick(['BUY', 'SELL'] as const, random),
        counterparty: `C${v}`,
      };
      versions.push(v === 1 ? trdRecord(overrides) : amdRecord(v, overrides));
    }
  }
  const last = [...versions].reverse().find((r): r is Exclude<VersionRecord, { type: 'CXL' }> => r.type !== 'CXL');
  const target = last ? last.terms : termsWith();

  const coreSequences = sequences(versions.length + 2, random);
  const records: FeedRecord[] = versions.map((record, i) => core(coreSequences[i]!, record));
  // Now and then a version is sent again, same content, another source sequence.
  if (random() < 0.3) records.push(core(coreSequences[versions.length]!, pick(versions, random)));

  // Allocations: per id, some older records and a standing one (highest sequence).
  const fits = random() < 0.7;
  const split = pick([[target.quantity, 0], [50, target.quantity - 50], [target.quantity - 50, 50]], random);
  const allocSequences = sequences(8, random);
  let s = 0;
  ['A1', 'A2'].forEach((id, i) => {
    const older = Math.floor(random() * 3);
    for (let k = 0; k < older; k++) records.push(alcRecord(allocSequences[s++]!, id, pick(['ACC-1', 'ACC-2'], random), pick([0, 50, 100, 150], random)));
    const quantity = fits ? split[i]! : pick([0, 50, 100], random);
    if (quantity > 0 || random() < 0.5) records.push(alcRecord(allocSequences[s++]!, id, pick(['ACC-1', 'ACC-2', 'ACC-3'], random), quantity));
  });

  // Confirmations: some older ones, and a standing one.
  const cnfSequences = sequences(3, random);
  const olderConfirmations = Math.floor(random() * 3);
  for (let k = 0; k < olderConfirmations; k++) {
    records.push(cnfRecord(cnfSequences[k]!, pick(['AFFIRMED', 'REJECTED'] as const, random), pick([100, 150], random), pick(['10.5', '11', '0'], random)));
  }
  records.push(
    random() < 0.75
      ? cnfRecord(cnfSequences[2]!, 'AFFIRMED', target.quantity, target.price)
      : cnfRecord(cnfSequences[2]!, pick(['AFFIRMED', 'REJECTED'] as const, random), pick([100, 150], random), pick(['10.5', '11'], random)),
  );
  return records;
}

/** What the spec says is booked, computed directly from the set of records, whatever their order. */
function bookedPerSpec(records: readonly FeedRecord[]): BookingSnapshot | null {
  const versions = new Map<number, VersionRecord>();
  for (const { record } of records) if (record.type === 'TRD' || record.type === 'AMD' || record.type === 'CXL') versions.set(record.version, record);
  let effective = 0;
  let terms: TradeTerms | null = null;
  for (let v = 1; versions.has(v); v++) {
    const record = versions.get(v)!;
    effective = v;
    if (record.type === 'CXL') return null; // cancelled
    terms = record.terms;
  }
  if (!terms) return null;

  const standingAllocations = new Map<string, { sequence: number; record: AllocationRecord }>();
  let confirmation: { sequence: number; record: ConfirmationRecord } | null = null;
  for (const { sequence, record } of records) {
    if (record.type === 'ALC') {
      const standing = standingAllocations.get(record.allocationId);
      if (!standing || sequence > standing.sequence) standingAllocations.set(record.allocationId, { sequence, record });
    }
    if (record.type === 'CNF' && (!confirmation || sequence > confirmation.sequence)) confirmation = { sequence, record };
  }
  const allocations = [...standingAllocations.values()]
    .map(({ record }) => ({ allocationId: record.allocationId, account: record.account, quantity: record.quantity }))
    .filter((a) => a.quantity > 0)
    .sort((a, b) => (a.allocationId < b.allocationId ? -1 : 1));
  const allocated = allocations.reduce((sum, a) => sum + a.quantity, 0);
  if (allocated !== terms.quantity) return null;
  if (!confirmation || confirmation.record.status !== 'AFFIRMED') return null;
  if (confirmation.record.quantity !== terms.quantity || confirmation.record.price !== terms.price) return null;
  return { version: effective, isin: terms.isin, side: terms.side, allocations };
}

/** Never two TradeBooked at one version without a BookingReversed between; reversals and restatements only of what is booked. */
function expectConsistentBookingHistory(events: readonly BookingEvent[], label: string): void {
  let booked: BookingSnapshot | null = null;
  const bookedAt = new Set<number>();
  for (const event of events.filter(isDecision)) {
    const { version: v, isin, side, allocations } = event;
    if (event.type === 'TradeBooked') {
      expect(booked, `${label}: TradeBooked(${v}) while already booked`).toBeNull();
      bookedAt.add(v);
      booked = { version: v, isin, side, allocations };
    } else if (event.type === 'BookingReversed') {
      expect({ version: v, isin, side, allocations }, `${label}: BookingReversed(${v}) reverses what is booked`).toEqual(booked);
      booked = null;
    } else {
      expect(booked?.version, `${label}: BookedAllocationsChanged(${v}) at the booked version`).toBe(v);
      expect(event.previous, label).toEqual(booked?.allocations);
      booked = { version: v, isin, side, allocations };
    }
  }
}

describe('property: positions do not depend on the arrival order of a trade\'s inputs', () => {
  it('for 150 random trades × 6 random arrival orders, event-implied positions = final-state positions = the spec\'s positions', () => {
    const rng = new Rng(42);
    const random = () => rng.next();
    let bookedScenarios = 0;
    for (let round = 0; round < 150; round++) {
      const records = scenario(random);
      const expected = bookedPerSpec(records);
      if (expected) bookedScenarios++;
      for (let permutation = 0; permutation < 6; permutation++) {
        const order = rng.shuffled(records);
        const label = `round ${round}.${permutation}: ${order.map(({ source, sequence, record }) => `${record.type}${'version' in record ? record.version : ''}@${source}#${sequence}`).join(' ')}`;
        const p = feed(order);

        expect(p.booking.booking, `${label}: what is booked`).toEqual(expected);
        expect(positionsFromEvents(p.events), `${label}: positions from the event stream`).toEqual(positionsFromBooking(p.booking.booking));
        expectConsistentBookingHistory(p.events, label);
        expect(fold(p.events), label).toEqual(p.booking);
      }
    }
    // The generator must actually exercise bookings, not only unbookable trades.
    expect(bookedScenarios).toBeGreaterThan(30);
  });

  it('reactAndEvolve hands back the very state for an input already handled, and what react refuses it refuses', () => {
    const p = feed([core(1, trdRecord()), alcRecord(1, 'A1', 'ACC-1', 100), cnfRecord(1, 'AFFIRMED', 100, '123.45')]);
    const again: BookingInput = { type: 'AllocationReceived', inputId: 'alloc-1', record: { type: 'ALC', tradeRef: REF, allocationId: 'A1', account: 'ACC-1', quantity: 100 }, provenance: { source: 'ALLOC', sourceSequence: 1, position: 2 } };
    const reaction = reactAndEvolve(again, p.booking);
    expect(E.isRight(reaction) && reaction.right.events).toEqual([]);
    expect(E.isRight(reaction) && reaction.right.state).toBe(p.booking);
    const wrong: BookingInput = { ...again, inputId: 'other', record: { ...again.record, tradeRef: 'TR-OTHER' } as AllocationRecord };
    expect(reactAndEvolve(wrong, p.booking)).toEqual(react(wrong, p.booking));
  });

  it('redelivering every input after any arrival order books nothing more', () => {
    const rng = new Rng(4242);
    const random = () => rng.next();
    for (let round = 0; round < 60; round++) {
      const order = rng.shuffled(scenario(random));
      const p = feed(order);
      const before = p.events.length;
      // Redelivery of the booking inputs: fold the state and feed every booking input again.
      const again = run(
        order.flatMap(({ source, sequence, record }): BookingInput[] => {
          const receivedId = `${source.toLowerCase()}-${sequence}`;
          const provenance = { source, sourceSequence: sequence, position: 0 };
          if (record.type === 'ALC') return [{ type: 'AllocationReceived', inputId: receivedId, record, provenance }];
          if (record.type === 'CNF') return [{ type: 'ConfirmationReceived', inputId: receivedId, record, provenance }];
          return [];
        }),
        p.booking,
      );
      expect(again.events, `round ${round}`).toEqual([]);
      expect(p.events.length).toBe(before);
    }
  });
});
