// The hand-written JSON of a record-received event must be what JSON.stringify
// writes of intakeAppend's event, byte for byte: stored events stay identical,
// and so do their ids' and readers' view of them.
import * as E from 'fp-ts/lib/Either.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { withIsinCheckDigit } from '../bench/feed-generator.js';
import type { DetailRecord, TradeTerms } from '../domain/index.js';
import { formatDetail, overwriteColumns, parseDetail } from './cx1/index.js';
import { receivedDataJson, receivedEventJson, receivedMetadataJson, type ReceivedItem } from './received-json.js';
import { intakeAppend } from './record-writer.js';

const RUNS = { numRuns: 1000 };

/** What JSON.stringify makes of the event intakeAppend builds. */
function stringified(item: ReceivedItem): { data: string; metadata: string } {
  const [event] = intakeAppend(item).events;
  return { data: JSON.stringify(event.data), metadata: JSON.stringify(event.metadata) };
}

function expectSameJson(item: ReceivedItem): void {
  expect({ data: receivedDataJson(item), metadata: receivedMetadataJson(item) }).toEqual(stringified(item));
}

/** The same for a record parseDetail read from the item's raw line, which the file intake says it is. */
function expectSameJsonParsedFromRaw(item: ReceivedItem): void {
  expect(receivedEventJson(item, { parsedFromRaw: true })).toEqual(stringified(item));
}

/** Any UTF-16 code unit: control characters, quotes, backslashes, non-ASCII and lone surrogates included. */
const anyText = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)), maxLength: 40 });
const anyNumber = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -0, 1e21, 1.5e-7, Number.MAX_SAFE_INTEGER));

const anyTerms: fc.Arbitrary<TradeTerms> = fc.record({
  account: anyText,
  isin: anyText,
  side: fc.constantFrom('BUY' as const, 'SELL' as const),
  quantity: anyNumber,
  price: anyText,
  currency: anyText,
  tradeDate: anyText,
  settleDate: anyText,
  counterparty: anyText,
});

/** Records in the key order parseDetail builds them, with any values. */
const anyRecord: fc.Arbitrary<DetailRecord> = fc.oneof(
  fc.record({ type: fc.constant('TRD' as const), tradeRef: anyText, version: fc.constant(1 as const), terms: anyTerms }),
  fc.record({ type: fc.constant('AMD' as const), tradeRef: anyText, version: anyNumber, terms: anyTerms }),
  fc.record({ type: fc.constant('CXL' as const), tradeRef: anyText, version: anyNumber, reason: anyText }),
  fc.record({ type: fc.constant('ALC' as const), tradeRef: anyText, allocationId: anyText, account: anyText, quantity: anyNumber }),
  fc.record({ type: fc.constant('CNF' as const), tradeRef: anyText, status: fc.constantFrom('AFFIRMED' as const, 'REJECTED' as const), quantity: anyNumber, price: anyText, reason: anyText }),
);

const item = (record: DetailRecord, overrides: Partial<ReceivedItem> = {}): ReceivedItem => ({
  kind: 'record',
  source: 'CORE',
  file: 'CORE_20261127_0000000001.cx1',
  line: 2,
  raw: 'TRD000000000001',
  sourceSequence: 1,
  record,
  ...overrides,
});

// Values a valid line may hold: printable ASCII, quotes and backslashes among it.
const printable = (max: number) =>
  fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code)), minLength: 1, maxLength: max });
const day = fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2090, 11, 31) }).map((ms) => new Date(ms - (ms % 86_400_000)).toISOString().slice(0, 10));
const price = fc
  .tuple(fc.integer({ min: 0, max: 9_999_999_999 }), fc.integer({ min: 1, max: 99_999_999 }))
  .map(([units, fraction]) => `${units}.${String(fraction).padStart(8, '0').replace(/0+$/, '')}`);
const validTerms: fc.Arbitrary<TradeTerms> = fc.record({
  account: printable(12),
  isin: fc.stringMatching(/^[A-Z]{2}[A-Z0-9]{9}$/).map(withIsinCheckDigit),
  side: fc.constantFrom('BUY' as const, 'SELL' as const),
  quantity: fc.integer({ min: 1, max: 999_999_999_999_999 }),
  price,
  currency: fc.stringMatching(/^[A-Z]{3}$/),
  tradeDate: day,
  settleDate: day,
  counterparty: printable(12),
});
const tradeRef = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9/-]{0,15}$/);
const validRecord: fc.Arbitrary<DetailRecord> = fc.oneof(
  fc.record({ type: fc.constant('TRD' as const), tradeRef, version: fc.constant(1 as const), terms: validTerms }),
  fc.record({ type: fc.constant('AMD' as const), tradeRef, version: fc.integer({ min: 2, max: 9999 }), terms: validTerms }),
  fc.record({ type: fc.constant('CXL' as const), tradeRef, version: fc.integer({ min: 2, max: 9999 }), reason: printable(40) }),
  fc.record({ type: fc.constant('ALC' as const), tradeRef, allocationId: printable(12), account: printable(12), quantity: fc.integer({ min: 0, max: 999_999_999_999_999 }) }),
  fc.record({ type: fc.constant('CNF' as const), tradeRef, status: fc.constantFrom('AFFIRMED' as const, 'REJECTED' as const), quantity: fc.integer({ min: 0, max: 999_999_999_999_999 }), price, reason: printable(40) }),
);

describe('the JSON of a record-received event, written by hand', () => {
  it('is what JSON.stringify writes of the event, for records parsed from lines with anything in their filler', () => {
    const latin1 = fc.string({ unit: fc.integer({ min: 0, max: 0xff }).map((code) => String.fromCharCode(code)), minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 999_999_999_999 }), validRecord, latin1, fc.option(fc.nat()), anyText, (sequence, record, filler, line, file) => {
        // Column 128 is filler in every layout: whatever it holds, the line stays valid.
        const raw = overwriteColumns(formatDetail(sequence, record), 129 - filler.length, filler).slice(0, 128);
        const parsed = parseDetail(raw);
        if (E.isLeft(parsed)) return; // a filler that reached into a field
        const received = item(parsed.right.record, { raw, line, file, sourceSequence: parsed.right.sourceSequence });
        expectSameJson(received);
        expectSameJsonParsedFromRaw(received);
      }),
      RUNS,
    );
  });

  it('is what JSON.stringify writes of the event, for any values in every field', () => {
    fc.assert(
      fc.property(anyRecord, fc.constantFrom('CORE' as const, 'ALLOC' as const, 'CUSTODY' as const, 'API' as const), anyText, anyText, fc.option(anyNumber), anyNumber, (record, source, file, raw, line, sequence) => {
        expectSameJson(item(record, { source, file, raw, line, sourceSequence: sequence }));
      }),
      RUNS,
    );
  });

  it('escapes what JSON escapes, in every kind of field', () => {
    const nasty = 'a"b\\c\u0001\n\t\u007f\u00e9\ud800x\udc00\ud83d\ude00';
    const terms: TradeTerms = { account: nasty, isin: 'GB0002634946', side: 'BUY', quantity: 10, price: '1.5', currency: 'GBP', tradeDate: '2026-11-27', settleDate: '2026-12-01', counterparty: nasty };
    const received = item({ type: 'AMD', tradeRef: nasty, version: 2, terms }, { file: nasty, raw: nasty, line: null });
    expectSameJson(received);
    expect(receivedDataJson(received)).toContain('"account":"a\\"b\\\\c\\u0001\\n\\t\u007f\u00e9\\ud800x\\udc00\ud83d\ude00"');
    expect(receivedMetadataJson(received)).not.toContain('"line"');
    // Each character that needs escaping, alone in an otherwise plain value (the check must not rely on another one).
    for (const special of ['"', '\\', '\u0000', '\b', '\u001f', '\ud800', '\udbff', '\udc00', '\udfff']) {
      const value = `ab${special}cd`;
      expectSameJson(item({ type: 'CNF', tradeRef: 'T1', status: 'AFFIRMED', quantity: 1, price: '1', reason: value }, { raw: value, file: value }));
    }
    // Neighbours of those that need none.
    expectSameJson(item({ type: 'CXL', tradeRef: 'T1', version: 2, reason: ' !#[]\u007f\ud7ff\ue000\uffff' }));
  });

  it('checks each value of a line parsed from its raw text when the line needs escaping, whichever value holds what does', () => {
    // Quotes and backslashes are printable: a valid line may hold them in its text fields.
    const plain: TradeTerms = { account: 'ACC1', isin: 'GB0002634946', side: 'SELL', quantity: 25, price: '101.5', currency: 'EUR', tradeDate: '2026-11-27', settleDate: '2026-12-01', counterparty: 'CPTY' };
    const records: DetailRecord[] = [
      { type: 'TRD', tradeRef: 'T-1/A', version: 1, terms: plain },
      { type: 'AMD', tradeRef: 'T-1/A', version: 3, terms: { ...plain, account: 'A"C\\1', counterparty: 'C\\P"' } },
      { type: 'CXL', tradeRef: 'T2', version: 2, reason: 'said "no" \\ twice' },
      { type: 'ALC', tradeRef: 'T3', allocationId: 'AL"1', account: 'A\\C', quantity: 0 },
      { type: 'CNF', tradeRef: 'T4', status: 'REJECTED', quantity: 7, price: '0', reason: ' "late"' },
    ];
    for (const [index, record] of records.entries()) {
      const raw = formatDetail(index + 1, record);
      const parsed = parseDetail(raw);
      expect(E.isRight(parsed)).toBe(true);
      if (E.isLeft(parsed)) continue;
      expect(parsed.right.record).toEqual(record);
      expectSameJsonParsedFromRaw(item(parsed.right.record, { raw, sourceSequence: index + 1, line: index === 0 ? null : index + 2 }));
      // A quote in the filler only: every value is plain, the line is not.
      const quotedFiller = overwriteColumns(raw, 128, '"');
      const again = parseDetail(quotedFiller);
      if (E.isRight(again)) expectSameJsonParsedFromRaw(item(again.right.record, { raw: quotedFiller, sourceSequence: index + 1 }));
    }
  });

  it('takes the general path for the metadata of a record with a trace context or an actor', () => {
    const record: DetailRecord = { type: 'CXL', tradeRef: 'T1', version: 2, reason: 'late' };
    expectSameJson(item(record, { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }));
    expectSameJson(item(record, { source: 'API', actor: { subject: 'alice', clientId: 'desk' } }));
    expectSameJsonParsedFromRaw(item(record, { source: 'API', actor: { subject: 'alice', clientId: 'desk' } }));
    expect(receivedMetadataJson(item(record, { actor: { subject: 'alice' } }))).toContain('"actor":{"subject":"alice"}');
  });
});
