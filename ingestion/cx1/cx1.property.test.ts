// Property tests of the CX1 reader over hostile input: arbitrary bytes, and valid
// lines with characters changed, cut or added. Whatever comes in, nothing throws,
// every line ends accepted or rejected with a reason code, and a valid record
// formatted and parsed again is itself.
import * as E from 'fp-ts/lib/Either.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { withIsinCheckDigit } from '../../bench/feed-generator.js';
import type { DetailRecord, TradeTerms } from '../../domain/records.js';
import { classifyLines, formatDetail, formatHeader, formatTrailer, linesOfText, parseDetail, RECORD_LENGTH } from './index.js';

const RUNS = { numRuns: 500 };
const REJECTION_CODES = ['INVALID_RECORD', 'SOURCE_MISMATCH'];

const word = (min: number, max: number) => fc.stringMatching(new RegExp(`^[A-Z0-9][A-Z0-9-]{${min - 1},${max - 1}}$`));
const day = fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2090, 11, 31) }).map((ms) => new Date(ms - (ms % 86_400_000)));
const iso = (date: Date) => date.toISOString().slice(0, 10);
const price = fc
  .tuple(fc.integer({ min: 0, max: 9_999_999_999 }), fc.integer({ min: 0, max: 99_999_999 }))
  .filter(([units, fraction]) => units > 0 || fraction > 0)
  .map(([units, fraction]) => (fraction === 0 ? String(units) : `${units}.${String(fraction).padStart(8, '0').replace(/0+$/, '')}`));
const quantity = fc.integer({ min: 1, max: 999_999_999_999_999 });
const reason = fc.stringMatching(/^([A-Za-z0-9][A-Za-z0-9 .,-]{0,38}[A-Za-z0-9.])?$/);
const tradeRef = fc.stringMatching(/^[A-Z0-9][A-Z0-9/-]{0,15}$/);

const terms: fc.Arbitrary<TradeTerms> = fc
  .record({
    account: word(1, 12),
    isin: fc.stringMatching(/^[A-Z]{2}[A-Z0-9]{9}$/).map(withIsinCheckDigit),
    side: fc.constantFrom('BUY' as const, 'SELL' as const),
    quantity,
    price,
    currency: fc.stringMatching(/^[A-Z]{3}$/),
    tradeDate: day,
    settleDays: fc.integer({ min: 0, max: 10 }),
    counterparty: word(1, 12),
  })
  .map(({ tradeDate, settleDays, ...rest }) => ({ ...rest, tradeDate: iso(tradeDate), settleDate: iso(new Date(tradeDate.getTime() + settleDays * 86_400_000)) }));

const record: fc.Arbitrary<DetailRecord> = fc.oneof(
  fc.record({ type: fc.constant('TRD' as const), tradeRef, version: fc.constant(1 as const), terms }),
  fc.record({ type: fc.constant('AMD' as const), tradeRef, version: fc.integer({ min: 2, max: 9999 }), terms }),
  fc.record({ type: fc.constant('CXL' as const), tradeRef, version: fc.integer({ min: 2, max: 9999 }), reason }),
  fc.record({ type: fc.constant('ALC' as const), tradeRef, allocationId: word(1, 12), account: word(1, 12), quantity: fc.integer({ min: 0, max: 999_999_999_999_999 }) }),
  fc.record({ type: fc.constant('CNF' as const), tradeRef, status: fc.constantFrom('AFFIRMED' as const, 'REJECTED' as const), quantity: fc.integer({ min: 0, max: 999_999_999_999_999 }), price, reason }),
);
const sequence = fc.integer({ min: 1, max: 999_999_999_999 });
const validLine = fc.tuple(sequence, record).map(([seq, r]) => formatDetail(seq, r));

/** A valid line with some characters replaced, removed or added. */
const mutatedLine = fc
  .tuple(validLine, fc.array(fc.tuple(fc.constantFrom('replace', 'delete', 'insert'), fc.nat(RECORD_LENGTH + 2), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), { minLength: 1, maxLength: 4 }))
  .map(([line, edits]) =>
    edits.reduce((text, [edit, at, char]) => {
      const i = Math.min(at, text.length);
      if (edit === 'replace') return text.slice(0, i) + char + text.slice(i + 1);
      if (edit === 'delete') return text.slice(0, i) + text.slice(i + 1);
      return text.slice(0, i) + char + text.slice(i);
    }, line),
  );

/** Every line of a file, classified: each one is accepted, or rejected with a known reason code and a detail. */
function expectEveryLineJudged(text: string): void {
  const lines = linesOfText(text);
  const { outcomes, summary } = classifyLines(lines);
  for (const outcome of outcomes) {
    if (outcome.kind === 'rejected') {
      expect(REJECTION_CODES).toContain(outcome.code);
      expect(outcome.detail.length).toBeGreaterThan(0);
    } else {
      expect(outcome.kind).toBe('detail');
    }
  }
  expect(summary.lines).toBe(outcomes.length);
}

describe('CX1 reader under hostile input', () => {
  it('formatting a valid record and parsing it again gives the record back', () => {
    fc.assert(
      fc.property(sequence, record, (seq, r) => {
        const line = formatDetail(seq, r);
        expect(line).toHaveLength(RECORD_LENGTH);
        const parsed = parseDetail(line);
        expect(parsed).toEqual(E.right({ sourceSequence: seq, record: r }));
        expect(formatDetail(seq, E.isRight(parsed) ? parsed.right.record : r)).toBe(line);
      }),
      RUNS,
    );
  });

  it('never throws on arbitrary text, and a line it accepts means what its formatted record means', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), mutatedLine), (text) => {
        const parsed = parseDetail(text);
        if (E.isLeft(parsed)) expect(parsed.left.length).toBeGreaterThan(0);
        // Filler columns are ignored (the contract), so the line itself may differ there, never in meaning.
        else expect(parseDetail(formatDetail(parsed.right.sourceSequence, parsed.right.record))).toEqual(parsed);
      }),
      RUNS,
    );
  });

  it('judges every line of a file of arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => expectEveryLineJudged(Buffer.from(bytes).toString('latin1'))),
      RUNS,
    );
  });

  it('judges every line of a file of valid and mutated lines, with or without its header and trailer', () => {
    const header = formatHeader({ source: 'CORE', businessDate: '2026-11-27', fileNumber: '0000000001' });
    fc.assert(
      fc.property(fc.array(fc.oneof(validLine, mutatedLine), { maxLength: 30 }), fc.boolean(), fc.boolean(), (lines, withHeader, withTrailer) => {
        const body = [...(withHeader ? [header] : []), ...lines, ...(withTrailer ? [formatTrailer({ recordCount: lines.length, controlTotal: 0n })] : [])];
        expectEveryLineJudged(body.join('\n'));
      }),
      RUNS,
    );
  });
});
