import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../eventstore/index.js';
import { tradesProjection, type TradeView } from '../projections/trades.js';
import { TradeSchema } from './schemas.js';
import { projectedAnswer, tradeAnswer, walkedAnswer } from './trade-json.js';

const REF = 'T/1';
const FIELDS = Object.keys(TradeSchema.properties);

let position = 0;
function event(data: Record<string, unknown>): RecordedEvent {
  position += 1;
  return { id: `e-${position}`, type: String(data.type), data: { tradeRef: REF, ...data }, metadata: { correlationId: REF }, stream: `trade-${REF}`, revision: position - 1, position, recordedAt: new Date(0) };
}

/** Documents as the trades projection and its runner store them, event after event. */
function documents(events: RecordedEvent[]): TradeView[] {
  const docs: TradeView[] = [];
  let doc: TradeView | null = null;
  for (const e of events) {
    doc = { ...tradesProjection.apply(doc, e, REF)!, asOf: e.position };
    docs.push(doc);
  }
  return docs;
}

/** What the response schema's serialiser writes: the schema's fields, in its order. */
function expected(doc: TradeView): string {
  return JSON.stringify(Object.fromEntries(FIELDS.map((field) => [field, (doc as unknown as Record<string, unknown>)[field]])));
}

const terms = { account: 'ACC "1"', isin: 'GB0002634946', side: 'BUY', quantity: 100, price: '12.5', currency: 'GBP', tradeDate: '2026-11-27', settleDate: '2026-11-30', counterparty: 'C\\P' };

describe("a trade's answer cut from the stored document", () => {
  it('is what the response schema writes, for every document the trades projection stores on the way', () => {
    const docs = documents([
      event({ type: 'AllocationNoted', allocationId: 'B', account: 'FUND-{B}', quantity: 40 }),
      event({ type: 'VersionPending', version: 3 }),
      event({ type: 'VersionApplied', version: 1, terms }),
      event({ type: 'AllocationNoted', allocationId: 'A', account: 'FUND-[A],', quantity: 60 }),
      event({ type: 'ConfirmationNoted', status: 'AFFIRMED', quantity: 100, price: '12.5', reason: 'ok: "fine"' }),
      event({ type: 'TradeBooked', version: 1 }),
      event({ type: 'HoldPlaced', reason: 'check' }),
      event({ type: 'BookingReversed' }),
      event({ type: 'TradeCancelled', version: 2, reason: 'gone' }),
    ]);
    for (const doc of docs) {
      const answer = tradeAnswer(JSON.stringify(doc));
      expect(answer).toEqual({ json: expected(doc), version: doc.version });
      expect(Object.keys(JSON.parse(answer!.json))).toEqual(FIELDS);
    }
    expect(docs.at(-1)).toMatchObject({ status: 'CANCELLED', onHold: true, cancelled: true });
  });

  it('cuts out whatever the schema does not name, wherever it stands', () => {
    const [doc] = documents([event({ type: 'VersionApplied', version: 1, terms })]);
    const { tradeRef, ...rest } = doc!;
    const stored = JSON.stringify({ internal: { nested: ['x'] }, tradeRef, added: 'y', ...rest, last: null });
    expect(tradeAnswer(stored)).toEqual({ json: expected(doc!), version: 1 });
  });

  it('gives up on text of another shape, so the route parses and serialises it instead', () => {
    const [doc] = documents([event({ type: 'VersionApplied', version: 1, terms })]);
    const text = JSON.stringify(doc);
    const { version, ...withoutVersion } = doc!;
    const reordered = { version, ...withoutVersion };
    for (const stored of [
      JSON.stringify(withoutVersion),
      JSON.stringify(reordered),
      JSON.stringify(doc, null, 1),
      text.slice(0, -1),
      `${text} `,
      text.replace('"version":1', '"version":1.5'),
      '{}',
      '[]',
      '',
    ]) {
      expect(tradeAnswer(stored)).toBeNull();
    }
  });

  it("matches every document the trades projection stores with one pattern, to the walk's answer", () => {
    const docs = documents([
      event({ type: 'AllocationNoted', allocationId: 'B', account: 'FUND-{B}', quantity: 40 }),
      event({ type: 'VersionPending', version: 3 }),
      event({ type: 'VersionApplied', version: 1, terms }),
      event({ type: 'ConfirmationNoted', status: 'AFFIRMED', quantity: 100, price: '12.5', reason: 'ok: "fine"' }),
      event({ type: 'TradeBooked', version: 1 }),
      event({ type: 'TradeCancelled', version: 2, reason: 'gone' }),
    ]);
    for (const doc of docs) {
      const stored = JSON.stringify(doc);
      expect(projectedAnswer(stored)).toEqual({ json: expected(doc), version: doc.version });
      expect(projectedAnswer(stored)).toEqual(walkedAnswer(stored));
    }
  });

  it("gives the walk's answer for any values of the projection's kinds, and leaves any other shape to the walk", () => {
    const text = fc.string({ unit: 'binary' });
    const integer = fc.integer({ min: -(2 ** 40), max: 2 ** 40 });
    const orNull = <T>(value: fc.Arbitrary<T>) => fc.option(value, { nil: null });
    const view = fc.record({
      tradeRef: text,
      status: text,
      version: fc.nat(),
      pendingVersions: fc.array(integer, { maxLength: 3 }),
      bookedVersion: orNull(integer),
      account: orNull(text),
      isin: orNull(text),
      side: orNull(text),
      quantity: orNull(integer),
      price: orNull(text),
      currency: orNull(text),
      tradeDate: orNull(text),
      settleDate: orNull(text),
      counterparty: orNull(text),
      allocations: fc.array(fc.record({ allocationId: text, account: text, quantity: integer }), { maxLength: 3 }),
      confirmation: orNull(fc.record({ status: text, quantity: integer, price: text, reason: text })),
      cancelled: fc.boolean(),
      onHold: fc.boolean(),
      lastChangedBy: orNull(fc.record({ subject: text, clientId: text, name: text }, { requiredKeys: ['subject'] })),
      asOf: fc.nat(),
    });
    fc.assert(
      fc.property(view, (doc) => {
        const stored = JSON.stringify(doc);
        expect(projectedAnswer(stored)).toEqual({ json: expected(doc as unknown as TradeView), version: doc.version });
        expect(tradeAnswer(stored)).toEqual(walkedAnswer(stored));
      }),
    );
    // An extra member anywhere, a member moved, or a value of another kind: not matched, and walked.
    fc.assert(
      fc.property(view, fc.nat(), fc.constantFrom('extra', 'moved', 'kind'), (doc, at, change) => {
        const entries: Array<[string, unknown]> = Object.entries(doc);
        const i = at % entries.length;
        if (change === 'extra') entries.splice(i, 0, ['added', { cancelled: true }]);
        else if (change === 'moved') entries.push(entries.splice(i, 1)[0]!);
        else entries[i] = [entries[i]![0], { value: entries[i]![1] }];
        const stored = JSON.stringify(Object.fromEntries(entries));
        const moved = change === 'moved' && i >= entries.length - 1;
        if (!moved) expect(projectedAnswer(stored)).toBeNull();
        expect(tradeAnswer(stored)).toEqual(walkedAnswer(stored));
      }),
    );
  });
});
