// The trade aggregate against the CX1 contract, "What a trade becomes":
// versions apply in order, repeated versions, cancellation.
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it, vi } from 'vitest';
import { Rng } from '../../bench/feed-generator.js';
import type { AmendmentRecord, CancellationRecord, NewTradeRecord, TradeTerms, VersionRecord } from '../records.js';
import { decide, effectiveVersionAfter, evolve, initialTradeState, type ReceiveVersion, type TradeEvent, type TradeState } from './index.js';
import { deciderHarness } from '../../tests/support/decider.js';

// ---------------------------------------------------------------- fixtures

const REF = 'TR-0001';

/** Every version has its own terms, so "the terms of version k" can be checked. */
function termsOf(version: number, overrides: Partial<TradeTerms> = {}): TradeTerms {
  return {
    account: 'ACC-1',
    isin: 'US0378331005',
    side: 'BUY',
    quantity: 100 + version,
    price: `123.4${version}`,
    currency: 'USD',
    tradeDate: '2026-03-02',
    settleDate: '2026-03-04',
    counterparty: `CPTY-${version}`,
    ...overrides,
  };
}

const trd = (overrides: Partial<TradeTerms> = {}): NewTradeRecord => ({ type: 'TRD', tradeRef: REF, version: 1, terms: termsOf(1, overrides) });
const amd = (version: number, overrides: Partial<TradeTerms> = {}): AmendmentRecord => ({
  type: 'AMD',
  tradeRef: REF,
  version,
  terms: termsOf(version, overrides),
});
const cxl = (version: number, reason = 'client request'): CancellationRecord => ({ type: 'CXL', tradeRef: REF, version, reason });
/** TRD for version 1, AMD beyond. */
const ver = (version: number, overrides: Partial<TradeTerms> = {}): VersionRecord => (version === 1 ? trd(overrides) : amd(version, overrides));

let nextSequence = 1;
/** The CORE feed said this, under a source sequence of its own (a fresh one unless given). */
function received(record: VersionRecord, sourceSequence: number = nextSequence++): ReceiveVersion {
  return { type: 'ReceiveVersion', inputId: `core-${sourceSequence}`, record, origin: { source: 'CORE', sourceSequence } };
}

// ---------------------------------------------------------------- given / when / then

const { decideOrFail, run, fold } = deciderHarness<ReceiveVersion, TradeState, TradeEvent>({ decide, evolve, initialState: initialTradeState });

/** "VersionApplied(2)": enough to read a stream like the spec. */
const summary = (event: TradeEvent): string => `${event.type}(${event.version})`;

function given(...history: ReceiveVersion[]) {
  const past = run(history);
  return {
    state: past.state,
    when(command: ReceiveVersion) {
      const events = decideOrFail(command, past.state);
      const state = events.reduce(evolve, past.state);
      return {
        events,
        state,
        /** Asserts the emitted events, by type and version, in order; returns the state after them. */
        then(...expected: string[]): TradeState {
          expect(events.map(summary)).toEqual(expected);
          return state;
        },
      };
    },
  };
}

const rejectedVersions = (events: readonly TradeEvent[]): number[] =>
  events.filter((e) => e.type === 'VersionRejectedAfterCancellation').map((e) => e.version).sort((a, b) => a - b);

// ---------------------------------------------------------------- rules

describe('versions apply in order', () => {
  it('version 1 applies and becomes the effective version with its terms', () => {
    const state = given().when(received(trd())).then('VersionApplied(1)');
    expect(state.tradeRef).toBe(REF);
    expect(state.effectiveVersion).toBe(1);
    expect(state.terms).toEqual(termsOf(1));
    expect(state.cancelledAtVersion).toBeNull();
  });

  it('the applied event carries the record type, the whole terms and the origin', () => {
    const command = received(amd(2));
    const { events } = given(received(trd())).when(command);
    expect(events).toMatchObject([{ type: 'VersionApplied', tradeRef: REF, version: 2, recordType: 'AMD', terms: termsOf(2), origin: command.origin, inputId: command.inputId }]);
  });

  it('each next version applies as it arrives and the terms are those of the effective version', () => {
    const state = given(received(trd()), received(amd(2))).when(received(amd(3))).then('VersionApplied(3)');
    expect(state.effectiveVersion).toBe(3);
    expect(state.terms).toEqual(termsOf(3));
  });

  it('an amendment carries the whole trade: its terms replace the previous ones entirely', () => {
    const changed = { isin: 'GB0002634946', side: 'SELL' as const, currency: 'GBP', account: 'ACC-9' };
    const state = given(received(trd())).when(received(amd(2, changed))).then('VersionApplied(2)');
    expect(state.terms).toEqual(termsOf(2, changed));
  });

  it('a version beyond a gap waits (pending) and does not move the effective version', () => {
    const state = given(received(trd())).when(received(amd(3))).then('VersionPending(3)');
    expect(state.effectiveVersion).toBe(1);
    expect(state.terms).toEqual(termsOf(1));
    expect([...state.pendingVersions]).toEqual([3]);
  });

  it('an amendment before version 1 waits', () => {
    const state = given().when(received(amd(2))).then('VersionPending(2)');
    expect(state.effectiveVersion).toBe(0);
    expect(state.terms).toBeNull();
  });

  it('a pending version applies as soon as the gap closes, right after the version that closes it', () => {
    const state = given(received(trd()), received(amd(3))).when(received(amd(2))).then('VersionApplied(2)', 'VersionApplied(3)');
    expect(state.effectiveVersion).toBe(3);
    expect(state.terms).toEqual(termsOf(3));
    expect(state.pendingVersions.size).toBe(0);
  });

  it('several chained pending versions all apply, in version order, when version 1 finally arrives', () => {
    const state = given(received(amd(5)), received(amd(3)), received(amd(2)), received(amd(4)))
      .when(received(trd()))
      .then('VersionApplied(1)', 'VersionApplied(2)', 'VersionApplied(3)', 'VersionApplied(4)', 'VersionApplied(5)');
    expect(state.effectiveVersion).toBe(5);
    expect(state.terms).toEqual(termsOf(5));
    expect(state.pendingVersions.size).toBe(0);
  });

  it('a gap closing releases only up to the next gap', () => {
    const state = given(received(trd()), received(amd(3)), received(amd(4)), received(amd(6)))
      .when(received(amd(2)))
      .then('VersionApplied(2)', 'VersionApplied(3)', 'VersionApplied(4)');
    expect(state.effectiveVersion).toBe(4);
    expect(state.terms).toEqual(termsOf(4));
    expect([...state.pendingVersions]).toEqual([6]);
  });

  it('the effective version is the highest k such that versions 1..k have all arrived', () => {
    const arrivals = [2, 4, 6, 1, 3, 5];
    const effectiveAfterEach = [0, 0, 0, 2, 4, 6];
    let state = initialTradeState;
    arrivals.forEach((version, i) => {
      state = run([received(ver(version))], state).state;
      expect(state.effectiveVersion, `after version ${version} arrived`).toBe(effectiveAfterEach[i]);
      expect(state.terms).toEqual(effectiveAfterEach[i] === 0 ? null : termsOf(effectiveAfterEach[i]!));
    });
  });
});

describe('repeated versions', () => {
  it('a version is compared by its content only when it comes again: receiving and evolving a new one encodes nothing', () => {
    const stringify = vi.spyOn(JSON, 'stringify');
    try {
      const past = given(received(trd()), received(amd(3)));
      past.when(received(amd(2))).then('VersionApplied(2)', 'VersionApplied(3)');
      expect(stringify).not.toHaveBeenCalled();
      past.when(received(amd(3))).then();
      expect(stringify).toHaveBeenCalled();
    } finally {
      stringify.mockRestore();
    }
  });

  it('the same version with the same content from another source sequence is ignored: no event, nothing changes', () => {
    const past = given(received(trd()), received(amd(2)));
    const { events, state } = past.when(received(amd(2)));
    expect(events).toEqual([]);
    expect(state).toEqual(past.state);
  });

  it('a repeated version 1 with the same content is ignored', () => {
    given(received(trd()), received(amd(2))).when(received(trd())).then();
  });

  it('a repeated pending version with the same content is ignored, and applies once when the gap closes', () => {
    given(received(trd()), received(amd(3))).when(received(amd(3))).then();
    const { events } = run([received(trd()), received(amd(3)), received(amd(3)), received(amd(2))]);
    expect(events.map(summary)).toEqual(['VersionApplied(1)', 'VersionPending(3)', 'VersionApplied(2)', 'VersionApplied(3)']);
  });

  it('a repeated cancellation with the same reason is ignored', () => {
    given(received(trd()), received(cxl(2, 'duplicate booking'))).when(received(cxl(2, 'duplicate booking'))).then();
  });

  it('the same version with different content is a VersionConflictDetected and the first one stands', () => {
    const second = received(amd(2, { quantity: 999 }));
    const past = given(received(trd()), received(amd(2)));
    const { events, state } = past.when(second);
    expect(events).toMatchObject([{ type: 'VersionConflictDetected', tradeRef: REF, version: 2, origin: second.origin, inputId: second.inputId }]);
    expect(state.effectiveVersion).toBe(2);
    expect(state.terms).toEqual(termsOf(2));
    expect(state.versions.get(2)?.record).toEqual(amd(2));
  });

  it.each<[string, Partial<TradeTerms>]>([
    ['account', { account: 'ACC-2' }],
    ['isin', { isin: 'DE0007164600' }],
    ['side', { side: 'SELL' }],
    ['quantity', { quantity: 1 }],
    ['price', { price: '123.4' }],
    ['currency', { currency: 'EUR' }],
    ['trade date', { tradeDate: '2026-03-03' }],
    ['settlement date', { settleDate: '2026-03-05' }],
    ['counterparty', { counterparty: 'OTHER' }],
  ])('a difference in the %s alone is a conflict', (_field, change) => {
    given(received(trd()), received(amd(2))).when(received(amd(2, change))).then('VersionConflictDetected(2)');
  });

  it('a version 1 with different content is a conflict; the first version 1 stands', () => {
    const state = given(received(trd())).when(received(trd({ quantity: 5 }))).then('VersionConflictDetected(1)');
    expect(state.terms).toEqual(termsOf(1));
  });

  it('a different record type at the same version is a conflict (AMD then CXL): the trade is not cancelled', () => {
    const state = given(received(trd()), received(amd(2))).when(received(cxl(2))).then('VersionConflictDetected(2)');
    expect(state.cancelledAtVersion).toBeNull();
    expect(state.terms).toEqual(termsOf(2));
  });

  it('a different record type at the same version is a conflict (CXL then AMD): the cancellation stands', () => {
    const state = given(received(trd()), received(cxl(2))).when(received(amd(2))).then('VersionConflictDetected(2)');
    expect(state.cancelledAtVersion).toBe(2);
    expect(state.terms).toEqual(termsOf(1));
  });

  it('a cancellation with a different reason at the same version is a conflict', () => {
    given(received(trd()), received(cxl(2, 'client request'))).when(received(cxl(2, 'fat finger'))).then('VersionConflictDetected(2)');
  });

  it('a conflict on a still-pending version: the first content is the one that applies when the gap closes', () => {
    const history = [received(trd()), received(amd(3))];
    given(...history).when(received(amd(3, { quantity: 7 }))).then('VersionConflictDetected(3)');
    const { state } = run([...history, received(amd(3, { quantity: 7 })), received(amd(2))]);
    expect(state.effectiveVersion).toBe(3);
    expect(state.terms).toEqual(termsOf(3));
  });

  it('a conflicting AMD against a pending CXL does not stop the cancellation', () => {
    const { state, events } = run([received(trd()), received(cxl(3)), received(amd(3)), received(amd(2))]);
    expect(events.map(summary)).toEqual(['VersionApplied(1)', 'VersionPending(3)', 'VersionConflictDetected(3)', 'VersionApplied(2)', 'TradeCancelled(3)']);
    expect(state.cancelledAtVersion).toBe(3);
  });

  it('a conflicting CXL against a pending AMD does not cancel the trade', () => {
    const { state, events } = run([received(trd()), received(amd(3)), received(cxl(3)), received(amd(2))]);
    expect(events.map(summary)).toEqual(['VersionApplied(1)', 'VersionPending(3)', 'VersionConflictDetected(3)', 'VersionApplied(2)', 'VersionApplied(3)']);
    expect(state.cancelledAtVersion).toBeNull();
    expect(state.terms).toEqual(termsOf(3));
  });
});

describe('cancellation', () => {
  it('when the effective version reaches a CXL the trade is cancelled, at that version', () => {
    const command = received(cxl(3, 'client request'));
    const { events, state } = given(received(trd()), received(amd(2))).when(command);
    expect(events).toMatchObject([{ type: 'TradeCancelled', tradeRef: REF, version: 3, reason: 'client request', origin: command.origin }]);
    expect(state.cancelledAtVersion).toBe(3);
    expect(state.effectiveVersion).toBe(3);
  });

  it('the terms after cancellation are those of the last version before it', () => {
    const state = given(received(trd()), received(amd(2))).when(received(cxl(3))).then('TradeCancelled(3)');
    expect(state.terms).toEqual(termsOf(2));
  });

  it('a CXL beyond a gap waits; the trade is not cancelled until the effective version reaches it', () => {
    const pending = given(received(trd())).when(received(cxl(3))).then('VersionPending(3)');
    expect(pending.cancelledAtVersion).toBeNull();
    expect(pending.effectiveVersion).toBe(1);

    const state = given(received(trd()), received(cxl(3))).when(received(amd(2))).then('VersionApplied(2)', 'TradeCancelled(3)');
    expect(state.cancelledAtVersion).toBe(3);
    expect(state.terms).toEqual(termsOf(2));
  });

  it('a cancellation arriving before version 1 cancels the trade only when version 1 arrives', () => {
    const state = given(received(cxl(2))).when(received(trd())).then('VersionApplied(1)', 'TradeCancelled(2)');
    expect(state.cancelledAtVersion).toBe(2);
    expect(state.terms).toEqual(termsOf(1));
  });

  it('every version already waiting beyond the cancellation is rejected when the cancellation applies', () => {
    const { events, state } = given(received(trd()), received(amd(5)), received(amd(4)), received(cxl(3))).when(received(amd(2)));
    expect(events.map(summary)).toEqual([
      'VersionApplied(2)',
      'TradeCancelled(3)',
      'VersionRejectedAfterCancellation(4)',
      'VersionRejectedAfterCancellation(5)',
    ]);
    expect(events.slice(2)).toMatchObject([
      { cancelledAtVersion: 3, record: amd(4) },
      { cancelledAtVersion: 3, record: amd(5) },
    ]);
    expect(state.pendingVersions.size).toBe(0);
    expect(state.terms).toEqual(termsOf(2));
    expect(state.effectiveVersion).toBe(3);
  });

  it('a waiting version beyond the cancellation is rejected even when it sits beyond a further gap', () => {
    const { events } = run([received(trd()), received(amd(6)), received(cxl(2))]);
    expect(events.map(summary)).toEqual(['VersionApplied(1)', 'VersionPending(6)', 'TradeCancelled(2)', 'VersionRejectedAfterCancellation(6)']);
  });

  it('every version arriving after the cancellation is rejected, adjacent or not', () => {
    const cancelled = [received(trd()), received(amd(2)), received(cxl(3))];
    const command = received(amd(4));
    const { events, state } = given(...cancelled).when(command);
    expect(events).toMatchObject([{ type: 'VersionRejectedAfterCancellation', version: 4, cancelledAtVersion: 3, record: amd(4), origin: command.origin }]);
    expect(state.terms).toEqual(termsOf(2));
    expect(state.effectiveVersion).toBe(3);

    given(...cancelled).when(received(amd(9))).then('VersionRejectedAfterCancellation(9)');
    given(...cancelled).when(received(cxl(4))).then('VersionRejectedAfterCancellation(4)');
  });

  it('the terms stay those of the last version before the cancellation, whatever is rejected after it', () => {
    const { state } = run([received(trd()), received(amd(2)), received(cxl(3)), received(amd(4)), received(amd(5))]);
    expect(state.terms).toEqual(termsOf(2));
    expect(state.cancelledAtVersion).toBe(3);
  });

  it('each version beyond the cancellation is rejected once, whether it was waiting or arrives later', () => {
    const { events } = run([received(trd()), received(amd(4)), received(cxl(3)), received(amd(2)), received(amd(5)), received(amd(6))]);
    expect(rejectedVersions(events)).toEqual([4, 5, 6]);
  });

  it('a cancellation at version 2 leaves the terms of version 1', () => {
    const state = given(received(trd())).when(received(cxl(2))).then('TradeCancelled(2)');
    expect(state.terms).toEqual(termsOf(1));
  });
});

describe('redelivery: an input already handled produces nothing', () => {
  it.each<[string, () => { history: ReceiveVersion[]; redelivered: ReceiveVersion }]>([
    ['an applied version', () => {
      const v1 = received(trd());
      return { history: [v1], redelivered: v1 };
    }],
    ['a pending version', () => {
      const v3 = received(amd(3));
      return { history: [received(trd()), v3], redelivered: v3 };
    }],
    ['the version that closed a gap', () => {
      const v2 = received(amd(2));
      return { history: [received(trd()), received(amd(3)), v2], redelivered: v2 };
    }],
    ['a conflicting version', () => {
      const conflicting = received(amd(2, { quantity: 1 }));
      return { history: [received(trd()), received(amd(2)), conflicting], redelivered: conflicting };
    }],
    ['a cancellation', () => {
      const cancellation = received(cxl(2));
      return { history: [received(trd()), cancellation], redelivered: cancellation };
    }],
    ['a version rejected after the cancellation', () => {
      const late = received(amd(3));
      return { history: [received(trd()), received(cxl(2)), late], redelivered: late };
    }],
  ])('%s', (_name, scenario) => {
    const { history, redelivered } = scenario();
    const past = given(...history);
    const { events, state } = past.when(redelivered);
    expect(events).toEqual([]);
    expect(state).toEqual(past.state);
  });

  it('a redelivered conflicting input does not raise the conflict a second time', () => {
    const conflicting = received(amd(2, { quantity: 1 }));
    const { events } = run([received(trd()), received(amd(2)), conflicting, conflicting, conflicting]);
    expect(events.filter((e) => e.type === 'VersionConflictDetected')).toHaveLength(1);
  });

  it('a record for another trade reference is refused (WRONG_TRADE), not applied', () => {
    const { state } = run([received(trd())]);
    const other: NewTradeRecord = { ...trd(), tradeRef: 'TR-OTHER' };
    const result = decide(received(other), state);
    expect(E.isLeft(result) && result.left.code).toBe('WRONG_TRADE');
  });
});

describe('the state is the fold of the events', () => {
  const story = (): ReceiveVersion[] => [
    received(amd(4)),
    received(amd(2)),
    received(amd(2, { quantity: 3 })),
    received(trd()),
    received(cxl(5)),
    received(amd(7)),
    received(amd(3)),
    received(amd(6)),
    received(amd(3)),
  ];

  it('replaying the emitted events through evolve rebuilds the same state', () => {
    const live = run(story());
    expect(fold(live.events)).toEqual(live.state);
    expect(live.state.effectiveVersion).toBe(5);
    expect(live.state.cancelledAtVersion).toBe(5);
    expect(live.state.terms).toEqual(termsOf(4));
    expect(rejectedVersions(live.events)).toEqual([6, 7]);
  });

  it('replaying one decision at a time or all at once gives the same state', () => {
    const commands = story();
    let state = initialTradeState;
    const batches: TradeEvent[][] = [];
    for (const command of commands) {
      const events = decideOrFail(command, state);
      batches.push(events);
      state = events.reduce(evolve, state);
    }
    expect(batches.flat().reduce(evolve, initialTradeState)).toEqual(state);
    expect(batches.reduce((s, batch) => batch.reduce(evolve, s), initialTradeState)).toEqual(state);
  });

  it('a rebuilt state remembers every input and every version: redelivering everything changes nothing', () => {
    const commands = story();
    const rebuilt = fold(run(commands).events);
    const again = run(commands, rebuilt);
    expect(again.events).toEqual([]);
    expect(again.state).toEqual(rebuilt);
  });

  it('a rebuilt state decides the next input exactly as the live one', () => {
    const commands = [received(trd()), received(amd(3)), received(amd(5))];
    const live = run(commands);
    const next = received(amd(2));
    expect(decideOrFail(next, fold(live.events))).toEqual(decideOrFail(next, live.state));
  });
});

describe('where the spec is silent: the choices the code made', () => {
  const cancelledWithLateV3 = (): ReceiveVersion[] => [received(trd()), received(cxl(2)), received(amd(3))];

  it('a version beyond the cancellation sent again with the same content is ignored (rejected once, not twice)', () => {
    given(...cancelledWithLateV3()).when(received(amd(3))).then();
  });

  it('a version beyond the cancellation sent again with different content is a VERSION_CONFLICT, not a second TRADE_CANCELLED', () => {
    given(...cancelledWithLateV3()).when(received(amd(3, { quantity: 1 }))).then('VersionConflictDetected(3)');
  });
});

// ---------------------------------------------------------------- arrival order does not matter


describe('property: the outcome does not depend on the arrival order', () => {
  const VERSIONS = 5;
  const cancelPositions: (number | null)[] = [null, 2, 3, 4, 5];

  /** What the spec says the trade becomes, computed directly from the set of versions. */
  function expectedOutcome(cancelAt: number | null) {
    return {
      effectiveVersion: cancelAt ?? VERSIONS,
      cancelledAtVersion: cancelAt,
      terms: termsOf(cancelAt === null ? VERSIONS : cancelAt - 1),
      pending: [] as number[],
      rejected: cancelAt === null ? [] : Array.from({ length: VERSIONS - cancelAt }, (_, i) => cancelAt + 1 + i),
    };
  }

  it('200 seeded permutations of v1..v5 (with a CXL somewhere or none, plus same-content repeats) end in the same state', () => {
    const rng = new Rng(20_261_102);
    for (let round = 0; round < 200; round++) {
      const cancelAt = cancelPositions[round % cancelPositions.length]!;
      const records = Array.from({ length: VERSIONS }, (_, i) => (i + 1 === cancelAt ? cxl(i + 1) : ver(i + 1)));
      // A few versions are sent twice, the same content under another source sequence.
      const repeats = records.filter(() => rng.chance(0.3));
      const order = rng.shuffled([...records, ...repeats]);
      const { state, events } = run(order.map((record) => received(record)));
      const label = `round ${round}: arrival ${order.map((r) => `${r.type}${r.version}`).join(' ')}`;

      const expected = expectedOutcome(cancelAt);
      expect(
        {
          effectiveVersion: state.effectiveVersion,
          cancelledAtVersion: state.cancelledAtVersion,
          terms: state.terms,
          pending: [...state.pendingVersions],
          rejected: rejectedVersions(events),
        },
        label,
      ).toEqual(expected);

      // Each version applies exactly once and in version order; no exception other than the rejections.
      const applied = events.filter((e) => e.type === 'VersionApplied' || e.type === 'TradeCancelled').map((e) => e.version);
      expect(applied, label).toEqual(Array.from({ length: expected.effectiveVersion }, (_, i) => i + 1));
      expect(events.filter((e) => e.type === 'VersionConflictDetected'), label).toEqual([]);
      expect(fold(events), label).toEqual(state);
    }
  });

  it('effectiveVersionAfter names the version evolve reaches, after every decision of every arrival order', () => {
    const rng = new Rng(11);
    for (let round = 0; round < 200; round++) {
      const cancelAt = cancelPositions[round % cancelPositions.length]!;
      const records = Array.from({ length: VERSIONS }, (_, i) => (i + 1 === cancelAt ? cxl(i + 1) : ver(i + 1)));
      // Repeats, with the same content and with other content (a conflict), decide events that move nothing.
      const repeats = records.filter(() => rng.chance(0.3)).map((record) => (rng.chance(0.5) || record.type === 'CXL' ? record : ver(record.version, { account: 'OTHER' })));
      let state = initialTradeState;
      for (const record of rng.shuffled([...records, ...repeats])) {
        const events = decideOrFail(received(record), state);
        const after = events.reduce(evolve, state);
        expect(effectiveVersionAfter(state, events), `round ${round}, ${record.type}${record.version}`).toBe(after.effectiveVersion);
        state = after;
      }
    }
  });

  it('the effective version is always the highest k with 1..k arrived, after every single arrival', () => {
    const rng = new Rng(7);
    for (let round = 0; round < 200; round++) {
      const order = rng.shuffled(Array.from({ length: VERSIONS }, (_, i) => i + 1));
      const arrived = new Set<number>();
      let state = initialTradeState;
      for (const version of order) {
        arrived.add(version);
        state = run([received(ver(version))], state).state;
        let k = 0;
        while (arrived.has(k + 1)) k++;
        expect(state.effectiveVersion, `round ${round}, order ${order.join(',')}, after ${version}`).toBe(k);
        expect([...state.pendingVersions].sort((a, b) => a - b)).toEqual([...arrived].filter((v) => v > k).sort((a, b) => a - b));
      }
    }
  });
});
