import { describe, expect, it } from 'vitest';
import type { FileHeader, TradeTerms } from '../../domain/records.js';
import type { FeedSource } from '../../domain/values.js';
import { classifyLines, Cx1FileClassifier, type LineOutcome, type RejectedLine } from './file.js';
import { formatDetail, formatHeader, formatTrailer, overwriteColumns } from './format.js';
import { linesOfText } from './lines.js';

const terms = (quantity: number): TradeTerms => ({
  account: 'ACC-001',
  isin: 'GB0002634946',
  side: 'SELL',
  quantity,
  price: '4.2',
  currency: 'GBP',
  tradeDate: '2026-11-27',
  settleDate: '2026-11-30',
  counterparty: 'CPTY-01',
});

const trd = (seq: number, ref: string, quantity = 100): string => formatDetail(seq, { type: 'TRD', tradeRef: ref, version: 1, terms: terms(quantity) });
const amd = (seq: number, ref: string, quantity = 100): string => formatDetail(seq, { type: 'AMD', tradeRef: ref, version: 2, terms: terms(quantity) });
const cxl = (seq: number, ref: string): string => formatDetail(seq, { type: 'CXL', tradeRef: ref, version: 2, reason: '' });
const alc = (seq: number, ref: string, quantity = 100): string =>
  formatDetail(seq, { type: 'ALC', tradeRef: ref, allocationId: 'A1', account: 'FUND-1', quantity });
const cnf = (seq: number, ref: string, quantity = 100): string =>
  formatDetail(seq, { type: 'CNF', tradeRef: ref, status: 'AFFIRMED', quantity, price: '4.2', reason: '' });
const header = (source: FeedSource = 'CORE'): string => formatHeader({ source, businessDate: '2026-11-27', fileNumber: '0000000007' });
const trailer = (recordCount: number, controlTotal: number | bigint): string => formatTrailer({ recordCount, controlTotal: BigInt(controlTotal) });

function classify(lines: string[], eol = '\n') {
  return classifyLines(linesOfText(lines.join(eol) + eol));
}

const rejected = (outcome: LineOutcome | undefined): RejectedLine => {
  if (outcome?.kind !== 'rejected') throw new Error(`expected a rejection, got ${JSON.stringify(outcome)}`);
  return outcome;
};

describe('a well-formed file', () => {
  it('yields one detail outcome per detail line; header and trailer yield none', () => {
    const { outcomes, summary } = classify([header(), trd(1, 'A-1', 100), amd(2, 'A-1', 250), cxl(3, 'B-2'), trailer(3, 350)], '\r\n');
    expect(outcomes.map((o) => [o.kind, o.lineNo])).toEqual([
      ['detail', 2],
      ['detail', 3],
      ['detail', 4],
    ]);
    expect(outcomes[0]).toMatchObject({ kind: 'detail', sourceSequence: 1, raw: trd(1, 'A-1', 100), record: { type: 'TRD', tradeRef: 'A-1' } });
    const expectedHeader: FileHeader = { source: 'CORE', businessDate: '2026-11-27', fileNumber: '0000000007' };
    expect(summary).toEqual({
      header: expectedHeader,
      lines: 3,
      detailLines: 3,
      controlTotal: 350n,
      trailer: 'OK',
      trailerDetail: null,
      trailerLine: { lineNo: 5, raw: trailer(3, 350) },
    });
  });

  it('exposes the header as soon as line 1 is classified', () => {
    const classifier = new Cx1FileClassifier();
    expect(classifier.header).toBeNull();
    expect(classifier.classify({ lineNo: 1, text: header('ALLOC') })).toBeNull();
    expect(classifier.header?.source).toBe('ALLOC');
  });

  it('handles an empty file and a header-only file', () => {
    expect(classify([]).summary).toMatchObject({ header: null, lines: 0, trailer: 'NOT_CHECKED' });
    expect(classifyLines(linesOfText('')).summary).toMatchObject({ header: null, lines: 0, trailer: 'NOT_CHECKED' });
    expect(classify([header()]).summary).toMatchObject({ lines: 0, detailLines: 0, trailer: 'MISSING' });
  });

  it('refuses lines after finish()', () => {
    const classifier = new Cx1FileClassifier();
    classifier.finish();
    expect(() => classifier.classify({ lineNo: 1, text: header() })).toThrow(/after finish/);
  });
});

describe('header', () => {
  it('without a valid HDR on line 1, every line is INVALID_RECORD and the trailer is not checked', () => {
    const { outcomes, summary } = classify([trd(1, 'A-1'), trd(2, 'B-2'), header(), trailer(2, 200)]);
    expect(outcomes).toHaveLength(4);
    expect(outcomes.every((o) => o.kind === 'rejected' && o.code === 'INVALID_RECORD')).toBe(true);
    expect(rejected(outcomes[0]).detail).toMatch(/^invalid header.*record type \(cols 1-3\) "TRD" must be "HDR"/);
    expect(rejected(outcomes[1]).detail).toBe('file has no valid header (HDR) on line 1');
    expect(outcomes.map((o) => o.lineNo)).toEqual([1, 2, 3, 4]);
    expect(outcomes.map((o) => rejected(o).tradeRef)).toEqual(['A-1', 'B-2', null, null]);
    expect(summary).toMatchObject({ header: null, lines: 4, trailer: 'NOT_CHECKED', trailerDetail: null, trailerLine: null });
  });

  it('an invalid HDR on line 1 explains what is wrong with it', () => {
    const { outcomes, summary } = classify([overwriteColumns(header(), 12, '20230229'), trd(1, 'A-1'), trailer(1, 100)]);
    expect(rejected(outcomes[0]).detail).toMatch(/business date \(cols 12-19\) "20230229" is not a real calendar date/);
    expect(outcomes.map((o) => o.kind)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(summary.trailer).toBe('NOT_CHECKED');
  });

  it('a blank first line is not a header', () => {
    const { outcomes, summary } = classify(['', header(), trailer(0, 0)]);
    expect(rejected(outcomes[0]).detail).toMatch(/invalid header.*blank line/);
    expect(summary).toMatchObject({ header: null, lines: 3, trailer: 'NOT_CHECKED' });
  });

  it('a second HDR is INVALID_RECORD and counts as a detail line', () => {
    const { outcomes, summary } = classify([header(), trd(1, 'A-1'), header(), trailer(2, 100)]);
    expect(rejected(outcomes[1])).toMatchObject({ lineNo: 3, code: 'INVALID_RECORD', tradeRef: null });
    expect(rejected(outcomes[1]).detail).toMatch(/second header/);
    expect(summary).toMatchObject({ lines: 2, detailLines: 2, trailer: 'OK' });
  });
});

describe('trailer', () => {
  it('lines after the trailer are INVALID_RECORD and outside the trailer check', () => {
    const { outcomes, summary } = classify([header(), trd(1, 'A-1'), trailer(1, 100), trd(2, 'B-2'), trailer(1, 100)]);
    expect(outcomes.map((o) => [o.kind, o.lineNo])).toEqual([
      ['detail', 2],
      ['rejected', 4],
      ['rejected', 5],
    ]);
    expect(rejected(outcomes[1])).toMatchObject({ code: 'INVALID_RECORD', tradeRef: 'B-2', detail: 'line after the trailer (TRL on line 3)' });
    expect(summary).toMatchObject({ lines: 3, detailLines: 1, controlTotal: 100n, trailer: 'OK', trailerLine: { lineNo: 3 } });
  });

  it('a TRL breaking its rules is INVALID_RECORD, counts as a detail line, and the file has no trailer', () => {
    const badTrailer = overwriteColumns(trailer(1, 100), 4, '        1 ');
    const { outcomes, summary } = classify([header(), trd(1, 'A-1'), badTrailer]);
    expect(rejected(outcomes[1])).toMatchObject({ lineNo: 3, code: 'INVALID_RECORD' });
    expect(rejected(outcomes[1]).detail).toMatch(/^invalid trailer: record count \(cols 4-13\)/);
    expect(summary.trailer).toBe('MISSING');
    expect(summary.trailerDetail).toBe('no valid trailer (TRL); 2 detail lines, control total 100; invalid TRL record on line 3');
    expect(summary.trailerLine).toBeNull();
  });

  it('after an invalid TRL the file has no trailer: a valid TRL later is rejected and counted too', () => {
    const { outcomes, summary } = classify([header(), trd(1, 'A-1'), `${trailer(1, 100)}X`, trailer(2, 100), trd(2, 'B-2')]);
    expect(outcomes.map((o) => [o.kind, o.lineNo])).toEqual([
      ['detail', 2],
      ['rejected', 3],
      ['rejected', 4],
      ['detail', 5],
    ]);
    expect(rejected(outcomes[2])).toMatchObject({ code: 'INVALID_RECORD', detail: 'trailer (TRL) after the invalid one on line 3: the file counts as having no trailer' });
    expect(summary).toMatchObject({ lines: 4, detailLines: 4, trailer: 'MISSING', trailerLine: null });
  });

  it('MISSING when the file ends without a trailer', () => {
    const { outcomes, summary } = classify([header(), trd(1, 'A-1'), trd(2, 'B-2', 50)]);
    expect(outcomes.every((o) => o.kind === 'detail')).toBe(true);
    expect(summary.trailer).toBe('MISSING');
    expect(summary.trailerDetail).toBe('no valid trailer (TRL); 2 detail lines, control total 150');
  });

  it('MISMATCH on the record count, the control total, or both', () => {
    const lines = [header(), trd(1, 'A-1', 100), trd(2, 'B-2', 50)];
    expect(classify([...lines, trailer(3, 150)]).summary).toMatchObject({ trailer: 'MISMATCH', trailerDetail: 'record count 2, trailer says 3' });
    expect(classify([...lines, trailer(2, 151)]).summary).toMatchObject({ trailer: 'MISMATCH', trailerDetail: 'control total 150, trailer says 151' });
    expect(classify([...lines, trailer(5, 1300)]).summary).toMatchObject({
      trailer: 'MISMATCH',
      trailerDetail: 'record count 2, trailer says 5; control total 150, trailer says 1300',
    });
  });

  it('the control total sums TRD/AMD/ALC/CNF quantity fields of 128-character lines, valid or not', () => {
    const lines = [
      trd(1, 'A-1', 100), // valid: 100
      overwriteColumns(trd(2, 'B-2', 20), 48, 'US0378331009'), // bad ISIN, digits quantity: 20
      overwriteColumns(trd(3, 'C-3', 0), 61, '000000000000000'), // quantity 0 (invalid): 0
      trd(4, 'D-4', 7).slice(0, 127), // wrong length: not counted
      overwriteColumns(trd(5, 'E-5', 9), 1, 'XYZ'), // unknown type: not counted
      overwriteColumns(trd(6, 'F-6', 9), 61, '         000009'), // quantity not all digits: not counted
      cxl(7, 'G-7'), // CXL has no quantity
      alc(8, 'H-8', 3), // ALC in a CORE file (SOURCE_MISMATCH): 3
      cnf(9, 'I-9', 4000), // CNF in a CORE file: 4000
      amd(10, 'J-10', 5), // 5
    ];
    const { outcomes, summary } = classify([header(), ...lines, trailer(lines.length, 100 + 20 + 3 + 4000 + 5)]);
    expect(summary).toMatchObject({ trailer: 'OK', detailLines: lines.length, controlTotal: 4128n, lines: lines.length });
    expect(outcomes.map((o) => (o.kind === 'detail' ? 'detail' : o.code))).toEqual([
      'detail',
      'INVALID_RECORD',
      'INVALID_RECORD',
      'INVALID_RECORD',
      'INVALID_RECORD',
      'INVALID_RECORD',
      'detail',
      'SOURCE_MISMATCH',
      'SOURCE_MISMATCH',
      'detail',
    ]);
  });

  it('keeps the control total exact beyond 2^53', () => {
    // The running total is kept in a number while that is exact; 40 quantities of 10^15 - 1 take it past 2^53 several times over.
    const max = 999_999_999_999_999;
    const lines = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? trd(i + 1, `T${i}`, max) : alc(i + 1, `T${i}`, max)));
    const total = 40n * BigInt(max);
    expect(classify([header(), ...lines.filter((_, i) => i % 2 === 0), trailer(20, 20n * BigInt(max))]).summary).toMatchObject({ trailer: 'OK', controlTotal: 20n * BigInt(max) });
    // An ALC in a CORE file is rejected, but its quantity still counts.
    const { summary } = classify([header(), ...lines, trailer(40, total + 1n)]);
    expect(summary).toMatchObject({ trailer: 'MISMATCH', controlTotal: total });
    expect(summary.trailerDetail).toBe(`control total ${total}, trailer says ${total + 1n}`);
  });
});

describe('detail lines', () => {
  it('INVALID_RECORD carries the parser detail, the raw line and the trade reference', () => {
    const bad = overwriteColumns(trd(1, 'A-1'), 48, 'US0378331009');
    const { outcomes } = classify([header(), bad, trailer(1, 100)]);
    expect(outcomes[0]).toEqual({
      kind: 'rejected',
      lineNo: 2,
      raw: bad,
      code: 'INVALID_RECORD',
      detail: 'ISIN (cols 48-59) "US0378331009" has an invalid check digit',
      tradeRef: 'A-1',
    });
  });

  it('SOURCE_MISMATCH for record types the source may not send', () => {
    const core = classify([header('CORE'), trd(1, 'A-1'), amd(2, 'A-1'), cxl(3, 'A-1'), alc(4, 'A-1'), cnf(5, 'A-1')]).outcomes;
    expect(core.map((o) => (o.kind === 'detail' ? 'detail' : o.code))).toEqual(['detail', 'detail', 'detail', 'SOURCE_MISMATCH', 'SOURCE_MISMATCH']);
    expect(rejected(core[3])).toMatchObject({ tradeRef: 'A-1', detail: 'record type ALC may not be sent by source CORE (allowed: TRD, AMD, CXL)' });

    const alloc = classify([header('ALLOC'), alc(1, 'A-1'), trd(2, 'A-1'), cnf(3, 'A-1')]).outcomes;
    expect(alloc.map((o) => (o.kind === 'detail' ? 'detail' : o.code))).toEqual(['detail', 'SOURCE_MISMATCH', 'SOURCE_MISMATCH']);

    const custody = classify([header('CUSTODY'), cnf(1, 'A-1'), cxl(2, 'A-1'), alc(3, 'A-1')]).outcomes;
    expect(custody.map((o) => (o.kind === 'detail' ? 'detail' : o.code))).toEqual(['detail', 'SOURCE_MISMATCH', 'SOURCE_MISMATCH']);
  });

  it('INVALID_RECORD comes before SOURCE_MISMATCH', () => {
    const invalidAlc = overwriteColumns(alc(1, 'A-1'), 44, ' '.repeat(12));
    const { outcomes } = classify([header('CORE'), invalidAlc]);
    expect(rejected(outcomes[0])).toMatchObject({ code: 'INVALID_RECORD', detail: 'account (cols 44-55) is blank' });
  });

  it('a blank line before the trailer is an INVALID_RECORD detail line; trailing blank lines are ignored', () => {
    const text = [header(), trd(1, 'A-1'), '', '   ', trailer(3, 100), '', '  ', ''].join('\r\n');
    const { outcomes, summary } = classifyLines(linesOfText(text));
    expect(outcomes.map((o) => [o.kind, o.lineNo])).toEqual([
      ['detail', 2],
      ['rejected', 3],
      ['rejected', 4],
    ]);
    expect(rejected(outcomes[1])).toMatchObject({ code: 'INVALID_RECORD', detail: 'blank line (record length 0, expected 128)', tradeRef: null });
    expect(summary).toMatchObject({ lines: 3, detailLines: 3, trailer: 'OK' });
  });

  it('an overlong (truncated) line is rejected on its real length', () => {
    const text = `${header()}\n${'T'.repeat(300)}\n${trailer(1, 0)}\n`;
    const { outcomes, summary } = classifyLines(linesOfText(text, 200));
    expect(rejected(outcomes[0]).detail).toBe('record length 300, expected 128 (raw line truncated to its first 200 characters)');
    expect(rejected(outcomes[0]).raw).toHaveLength(200);
    expect(summary).toMatchObject({ lines: 1, trailer: 'OK' });
  });

  it('counts every classified line: lines = accepted + rejected', () => {
    const { outcomes, summary } = classify([header(), trd(1, 'A-1'), 'garbage', alc(2, 'A-1'), trailer(3, 200), 'after']);
    expect(outcomes).toHaveLength(4);
    expect(summary.lines).toBe(outcomes.length);
  });
});

describe('trailer detail with many invalid trailers', () => {
  it('quotes the first five invalid TRL lines and counts the rest', () => {
    const bad = `${trailer(0, 0)}X`;
    const { summary } = classify([header(), ...Array.from({ length: 7 }, () => bad)]);
    expect(summary.trailerDetail).toBe('no valid trailer (TRL); 7 detail lines, control total 0; invalid TRL record on lines 2, 3, 4, 5, 6 and 2 more');
  });
});
