import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import type { DetailRecord, TradeTerms } from '../../domain/records.js';
import { priceFromScaled } from '../../domain/values.js';
import { formatDetail, formatHeader, formatTrailer, overwriteColumns } from './format.js';
import { controlQuantityOf, parseDetail, parseHeader, parseTrailer, tradeRefOf, type Result } from './parse.js';

const terms: TradeTerms = {
  account: 'ACC-001',
  isin: 'US0378331005',
  side: 'BUY',
  quantity: 1500,
  price: '123.45',
  currency: 'USD',
  tradeDate: '2024-02-28',
  settleDate: '2024-03-01',
  counterparty: 'CPTY-01',
};

const TRD = formatDetail(42, { type: 'TRD', tradeRef: 'TR-1/A', version: 1, terms });
const AMD = formatDetail(43, { type: 'AMD', tradeRef: 'TR-1/A', version: 2, terms });
const CXL = formatDetail(44, { type: 'CXL', tradeRef: 'TR-1/A', version: 3, reason: 'BOOKED IN ERROR' });
const ALC = formatDetail(7, { type: 'ALC', tradeRef: 'TR-1/A', allocationId: 'A1', account: 'FUND-9', quantity: 1500 });
const CNF = formatDetail(9, { type: 'CNF', tradeRef: 'TR-1/A', status: 'AFFIRMED', quantity: 1500, price: '123.45', reason: '' });

function ok<T>(result: Result<T>): T {
  if (E.isLeft(result)) throw new Error(`expected a valid line, got: ${result.left}`);
  return result.right;
}

function problem(result: Result<unknown>): string {
  if (E.isRight(result)) throw new Error(`expected a rejection, got ${JSON.stringify(result.right, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))}`);
  return result.left;
}

const recordOf = (line: string): DetailRecord => ok(parseDetail(line)).record;
const termsOf = (line: string): TradeTerms => {
  const record = recordOf(line);
  if (record.type !== 'TRD' && record.type !== 'AMD') throw new Error(`not a trade: ${record.type}`);
  return record.terms;
};
/** The detail after overwriting columns from `col` with `value`. */
const mutated = (line: string, col: number, value: string): string => problem(parseDetail(overwriteColumns(line, col, value)));

describe('parseDetail: valid baselines', () => {
  it('parses a TRD into canonical values', () => {
    expect(ok(parseDetail(TRD))).toEqual({
      sourceSequence: 42,
      record: { type: 'TRD', tradeRef: 'TR-1/A', version: 1, terms },
    });
  });

  it('parses AMD, CXL, ALC and CNF', () => {
    expect(recordOf(AMD)).toEqual({ type: 'AMD', tradeRef: 'TR-1/A', version: 2, terms });
    expect(recordOf(CXL)).toEqual({ type: 'CXL', tradeRef: 'TR-1/A', version: 3, reason: 'BOOKED IN ERROR' });
    expect(recordOf(ALC)).toEqual({ type: 'ALC', tradeRef: 'TR-1/A', allocationId: 'A1', account: 'FUND-9', quantity: 1500 });
    expect(recordOf(CNF)).toEqual({ type: 'CNF', tradeRef: 'TR-1/A', status: 'AFFIRMED', quantity: 1500, price: '123.45', reason: '' });
  });

  it('does not check the source: an ALC parses whatever file it is in', () => {
    expect(E.isRight(parseDetail(ALC))).toBe(true);
  });
});

describe('parseDetail: record length and type', () => {
  it('rejects a line that is not exactly 128 characters', () => {
    expect(problem(parseDetail(TRD.slice(0, 127)))).toBe('record length 127, expected 128');
    expect(problem(parseDetail(`${TRD} `))).toBe('record length 129, expected 128');
    expect(problem(parseDetail(''))).toBe('blank line (record length 0, expected 128)');
    expect(problem(parseDetail('   '))).toBe('blank line (record length 3, expected 128)');
  });

  it('rejects an unknown record type', () => {
    expect(mutated(TRD, 1, 'XYZ')).toBe('unknown record type "XYZ"');
    expect(mutated(TRD, 1, 'trd')).toBe('unknown record type "trd"');
  });

  it('rejects a header or trailer where a detail record is expected', () => {
    expect(problem(parseDetail(formatHeader({ source: 'CORE', businessDate: '2024-02-28', fileNumber: '1' })))).toMatch(/record type "HDR"/);
    expect(problem(parseDetail(formatTrailer({ recordCount: 1, controlTotal: 1n })))).toMatch(/record type "TRL"/);
  });
});

describe('parseDetail: common prefix', () => {
  it('source sequence: digits only, zero-padded, > 0', () => {
    expect(mutated(TRD, 4, '00000000004A')).toBe('source sequence (cols 4-15) "00000000004A" must be digits only (zero-padded, no sign or spaces)');
    expect(mutated(TRD, 4, '          42')).toMatch(/source sequence \(cols 4-15\) ".*" must be digits only/);
    expect(mutated(TRD, 4, '+00000000042')).toMatch(/source sequence .* must be digits only/);
    expect(mutated(TRD, 4, '000000000000')).toBe('source sequence (cols 4-15) "000000000000" must be greater than 0');
    expect(ok(parseDetail(overwriteColumns(TRD, 4, '999999999999'))).sourceSequence).toBe(999999999999);
  });

  it('trade reference: non-empty', () => {
    expect(mutated(TRD, 16, ' '.repeat(16))).toBe('trade reference (cols 16-31) is blank');
  });

  it('trade reference: letters, digits, "-" and "/" only, left-aligned', () => {
    expect(mutated(TRD, 16, 'TR_1            ')).toMatch(/^trade reference \(cols 16-31\) "TR_1 {12}" may only hold letters, digits/);
    expect(mutated(TRD, 16, 'TR 1            ')).toMatch(/trade reference .* may only hold/);
    expect(mutated(TRD, 16, ' TR1            ')).toMatch(/trade reference .* may only hold/);
    expect(mutated(TRD, 16, 'TR.1            ')).toMatch(/trade reference/);
    expect(recordOf(overwriteColumns(TRD, 16, 'ab-09/XYZ-0123/z')).tradeRef).toBe('ab-09/XYZ-0123/z');
  });
});

describe('parseDetail: versions', () => {
  it('TRD version is exactly 1', () => {
    expect(mutated(TRD, 32, '0002')).toBe('version (cols 32-35) "0002" must be 1 for a TRD record');
    expect(mutated(TRD, 32, '0000')).toMatch(/must be 1 for a TRD/);
    expect(mutated(TRD, 32, '   1')).toMatch(/version \(cols 32-35\) "   1" must be digits only/);
  });

  it('AMD version is 2 or more', () => {
    expect(mutated(AMD, 32, '0001')).toBe('version (cols 32-35) "0001" must be 2 or more for an AMD record');
    expect(mutated(AMD, 32, '0000')).toMatch(/2 or more for an AMD/);
    expect(recordOf(overwriteColumns(AMD, 32, '9999'))).toMatchObject({ version: 9999 });
  });

  it('CXL version is 2 or more', () => {
    expect(mutated(CXL, 32, '0001')).toBe('version (cols 32-35) "0001" must be 2 or more for a CXL record');
    expect(recordOf(overwriteColumns(CXL, 32, '0002'))).toMatchObject({ version: 2 });
  });
});

describe('parseDetail: TRD/AMD fields', () => {
  it('account: non-empty, left-aligned, printable ASCII', () => {
    expect(mutated(TRD, 36, ' '.repeat(12))).toBe('account (cols 36-47) is blank');
    expect(mutated(TRD, 36, '  ACC-001   ')).toBe('account (cols 36-47) "  ACC-001   " is not left-aligned (leading spaces)');
    expect(mutated(TRD, 36, 'ACC\u00e9')).toMatch(/^account \(cols 36-47\) ".*" holds a non-printable or non-ASCII character 0xE9 at col 39$/);
    expect(mutated(TRD, 36, 'ACC\t1')).toMatch(/account .* non-printable or non-ASCII character 0x09 at col 39/);
    expect(termsOf(overwriteColumns(TRD, 36, 'MY ACCOUNT 1')).account).toBe('MY ACCOUNT 1');
  });

  it('ISIN: shape', () => {
    expect(mutated(TRD, 48, 'us0378331005')).toBe('ISIN (cols 48-59) "us0378331005" must be 2 letters, 9 letters or digits and a check digit');
    expect(mutated(TRD, 48, 'US03783310 5')).toMatch(/ISIN .* must be 2 letters/);
    expect(mutated(TRD, 48, '1S0378331005')).toMatch(/ISIN .* must be 2 letters/);
    expect(mutated(TRD, 48, 'US037833100A')).toMatch(/ISIN .* must be 2 letters/);
  });

  it('ISIN: check digit (real ISINs pass, corrupted ones fail)', () => {
    for (const isin of ['US0378331005', 'GB0002634946', 'DE0007164600']) {
      expect(termsOf(overwriteColumns(TRD, 48, isin)).isin).toBe(isin);
    }
    expect(mutated(TRD, 48, 'US0378331009')).toBe('ISIN (cols 48-59) "US0378331009" has an invalid check digit');
    expect(mutated(TRD, 48, 'GB0002634947')).toMatch(/invalid check digit/);
    expect(mutated(TRD, 48, 'DE0007164601')).toMatch(/invalid check digit/);
    expect(mutated(TRD, 48, 'US0378331105')).toMatch(/invalid check digit/); // body digit changed
  });

  it('side: B or S', () => {
    expect(termsOf(overwriteColumns(TRD, 60, 'B')).side).toBe('BUY');
    expect(termsOf(overwriteColumns(TRD, 60, 'S')).side).toBe('SELL');
    expect(mutated(TRD, 60, 'X')).toBe('side (col 60) "X" must be "B" or "S"');
    expect(mutated(TRD, 60, 'b')).toMatch(/side \(col 60\)/);
    expect(mutated(TRD, 60, ' ')).toMatch(/side \(col 60\)/);
  });

  it('quantity: digits, > 0, up to 15 digits as a JS number', () => {
    expect(mutated(TRD, 61, '000000000000000')).toBe('quantity (cols 61-75) "000000000000000" must be greater than 0');
    expect(mutated(TRD, 61, '           1500')).toMatch(/quantity \(cols 61-75\) .* must be digits only/);
    expect(mutated(TRD, 61, '-00000000001500')).toMatch(/quantity .* must be digits only/);
    expect(mutated(TRD, 61, '0000000000015.0')).toMatch(/quantity .* must be digits only/);
    expect(termsOf(overwriteColumns(TRD, 61, '999999999999999')).quantity).toBe(999_999_999_999_999);
    expect(termsOf(overwriteColumns(TRD, 61, '000000000000001')).quantity).toBe(1);
  });

  it('price: canonical decimal string via scaled integers', () => {
    const priceOf = (digits: string): string => termsOf(overwriteColumns(TRD, 76, digits)).price;
    expect(priceOf('000000012345000000')).toBe('123.45');
    expect(priceOf('000000010000000000')).toBe('100');
    expect(priceOf('000000000000000001')).toBe('0.00000001');
    expect(priceOf('999999999999999999')).toBe('9999999999.99999999');
    expect(priceOf('000000000010000000')).toBe('0.1');
    // Beyond 2^53 in scaled units: a float would round this.
    expect(priceOf('123456789012345678')).toBe('1234567890.12345678');
  });

  it('price: the canonical decimal of the scaled integer, whatever the digits', () => {
    // Written from the digits themselves; priceFromScaled is the definition it must keep to.
    const digits = fc.array(fc.constantFrom('0', '0', '0', '1', '5', '9'), { minLength: 18, maxLength: 18 }).map((chars) => chars.join(''));
    fc.assert(
      fc.property(digits, (raw) => {
        const scaled = BigInt(raw);
        if (scaled > 0n) expect(termsOf(overwriteColumns(TRD, 76, raw)).price).toBe(priceFromScaled(scaled));
        else expect(mutated(TRD, 76, raw)).toMatch(/must be greater than 0/);
        const cnf = recordOf(overwriteColumns(CNF, 49, raw));
        expect(cnf.type === 'CNF' && cnf.price).toBe(priceFromScaled(scaled));
      }),
      { numRuns: 2000 },
    );
  });

  it('price: digits only, > 0 for TRD and AMD', () => {
    expect(mutated(TRD, 76, '000000000000000000')).toBe('price (cols 76-93) "000000000000000000" must be greater than 0');
    expect(mutated(AMD, 76, '000000000000000000')).toMatch(/price .* must be greater than 0/);
    expect(mutated(TRD, 76, '0000000123.4500000')).toMatch(/price \(cols 76-93\) .* must be digits only/);
    expect(mutated(TRD, 76, ' 00000012345000000')).toMatch(/price .* must be digits only/);
  });

  it('currency: 3 upper-case letters', () => {
    expect(mutated(TRD, 94, 'usd')).toBe('currency (cols 94-96) "usd" must be 3 upper-case letters');
    expect(mutated(TRD, 94, 'US1')).toMatch(/currency/);
    expect(mutated(TRD, 94, 'US ')).toMatch(/currency/);
    expect(termsOf(overwriteColumns(TRD, 94, 'CHF')).currency).toBe('CHF');
  });

  it('trade date: YYYYMMDD, a real calendar date (leap years)', () => {
    const tradeDate = (value: string): string => termsOf(overwriteColumns(overwriteColumns(TRD, 105, '20991231'), 97, value)).tradeDate;
    expect(tradeDate('20240229')).toBe('2024-02-29');
    expect(tradeDate('20000229')).toBe('2000-02-29');
    expect(mutated(TRD, 97, '20230229')).toBe('trade date (cols 97-104) "20230229" is not a real calendar date');
    expect(mutated(TRD, 97, '19000229')).toMatch(/not a real calendar date/);
    expect(mutated(TRD, 97, '20241301')).toMatch(/not a real calendar date/);
    expect(mutated(TRD, 97, '20240100')).toMatch(/not a real calendar date/);
    expect(mutated(TRD, 97, '20240431')).toMatch(/not a real calendar date/);
    expect(mutated(TRD, 97, '2024-2-1')).toBe('trade date (cols 97-104) "2024-2-1" must be a date YYYYMMDD');
    expect(mutated(TRD, 97, '        ')).toMatch(/trade date .* must be a date YYYYMMDD/);
  });

  it('settlement date: a real date, not before the trade date', () => {
    expect(mutated(TRD, 105, '20230229')).toBe('settlement date (cols 105-112) "20230229" is not a real calendar date');
    expect(mutated(TRD, 105, '20240227')).toBe(
      'settlement date (cols 105-112) "20240227" is before the trade date (cols 97-104) "20240228"',
    );
    expect(termsOf(overwriteColumns(TRD, 105, '20240228')).settleDate).toBe('2024-02-28');
    expect(termsOf(overwriteColumns(TRD, 105, '20240229')).settleDate).toBe('2024-02-29');
  });

  it('counterparty: non-empty', () => {
    expect(mutated(TRD, 113, ' '.repeat(12))).toBe('counterparty (cols 113-124) is blank');
    expect(mutated(TRD, 113, ' CPTY       ')).toMatch(/counterparty .* not left-aligned/);
  });

  it('ignores the filler whatever it holds', () => {
    expect(recordOf(overwriteColumns(TRD, 125, 'ZZ\u00ff\u0000'))).toEqual(recordOf(TRD));
  });

  it('reports the first broken field in column order', () => {
    const line = overwriteColumns(overwriteColumns(TRD, 48, 'US0378331009'), 94, 'usd');
    expect(problem(parseDetail(line))).toMatch(/^ISIN/);
  });
});

describe('parseDetail: CXL', () => {
  it('reason is free text and may be blank', () => {
    expect(recordOf(overwriteColumns(CXL, 36, ' '.repeat(40)))).toMatchObject({ reason: '' });
    expect(recordOf(overwriteColumns(CXL, 36, '  INDENTED'.padEnd(40)))).toMatchObject({ reason: '  INDENTED' });
    expect(mutated(CXL, 36, 'CAF\u00c9')).toMatch(/^reason \(cols 36-75\) .* non-ASCII character 0xC9 at col 39/);
  });

  it('ignores columns 76-128', () => {
    expect(recordOf(overwriteColumns(CXL, 76, 'X'.repeat(53)))).toEqual(recordOf(CXL));
  });
});

describe('parseDetail: ALC', () => {
  it('quantity may be 0 (withdrawal)', () => {
    expect(recordOf(overwriteColumns(ALC, 56, '000000000000000'))).toMatchObject({ quantity: 0 });
    expect(mutated(ALC, 56, '00000000000001X')).toMatch(/^quantity \(cols 56-70\) "00000000000001X" must be digits only/);
  });

  it('allocation id and account are non-empty', () => {
    expect(mutated(ALC, 32, ' '.repeat(12))).toBe('allocation id (cols 32-43) is blank');
    expect(mutated(ALC, 44, ' '.repeat(12))).toBe('account (cols 44-55) is blank');
  });

  it('ignores columns 71-128', () => {
    expect(recordOf(overwriteColumns(ALC, 71, '9'.repeat(58)))).toEqual(recordOf(ALC));
  });
});

describe('parseDetail: CNF', () => {
  it('status AF or RJ', () => {
    expect(recordOf(overwriteColumns(CNF, 32, 'RJ'))).toMatchObject({ status: 'REJECTED' });
    expect(recordOf(CNF)).toMatchObject({ status: 'AFFIRMED' });
    expect(mutated(CNF, 32, 'XX')).toBe('status (cols 32-33) "XX" must be "AF" or "RJ"');
    expect(mutated(CNF, 32, 'af')).toMatch(/status/);
  });

  it('quantity and price may be 0; both digits only', () => {
    expect(recordOf(overwriteColumns(overwriteColumns(CNF, 34, '0'.repeat(15)), 49, '0'.repeat(18)))).toMatchObject({ quantity: 0, price: '0' });
    expect(mutated(CNF, 34, '1'.padStart(15))).toMatch(/^quantity \(cols 34-48\)/);
    expect(mutated(CNF, 49, '1'.padStart(18))).toMatch(/^price \(cols 49-66\)/);
    expect(recordOf(overwriteColumns(CNF, 49, '000000000000000001'))).toMatchObject({ price: '0.00000001' });
  });

  it('reason is free text; columns 107-128 are ignored', () => {
    expect(recordOf(overwriteColumns(CNF, 67, 'QTY DISPUTE'))).toMatchObject({ reason: 'QTY DISPUTE' });
    expect(recordOf(overwriteColumns(CNF, 107, '#'.repeat(22)))).toEqual(recordOf(CNF));
  });
});

describe('parseHeader', () => {
  const HDR = formatHeader({ source: 'CORE', businessDate: '2024-02-29', fileNumber: '0000000042' });

  it('parses source, ISO business date and the 10-digit file number', () => {
    expect(HDR.startsWith('HDRCORE    202402290000000042 ')).toBe(true);
    expect(ok(parseHeader(HDR))).toEqual({ source: 'CORE', businessDate: '2024-02-29', fileNumber: '0000000042' });
    expect(ok(parseHeader(overwriteColumns(HDR, 4, 'ALLOC   '))).source).toBe('ALLOC');
    expect(ok(parseHeader(overwriteColumns(HDR, 4, 'CUSTODY '))).source).toBe('CUSTODY');
  });

  it('rejects what breaks the HDR rules', () => {
    expect(problem(parseHeader(HDR.slice(0, 100)))).toBe('record length 100, expected 128');
    expect(problem(parseHeader(overwriteColumns(HDR, 1, 'HDX')))).toBe('record type (cols 1-3) "HDX" must be "HDR"');
    expect(problem(parseHeader(TRD))).toMatch(/record type .* "TRD" must be "HDR"/);
    expect(problem(parseHeader(overwriteColumns(HDR, 4, 'API     ')))).toBe('source (cols 4-11) "API     " must be one of CORE, ALLOC, CUSTODY');
    expect(problem(parseHeader(overwriteColumns(HDR, 4, ' CORE   ')))).toMatch(/^source/);
    expect(problem(parseHeader(overwriteColumns(HDR, 4, 'core    ')))).toMatch(/^source/);
    expect(problem(parseHeader(overwriteColumns(HDR, 12, '20230229')))).toBe('business date (cols 12-19) "20230229" is not a real calendar date');
    expect(problem(parseHeader(overwriteColumns(HDR, 20, '00000000 1')))).toMatch(/^file number \(cols 20-29\) .* must be digits only/);
  });

  it('ignores the filler', () => {
    expect(ok(parseHeader(overwriteColumns(HDR, 30, 'anything')))).toEqual(ok(parseHeader(HDR)));
  });
});

describe('parseTrailer', () => {
  it('parses the record count and the control total as a bigint', () => {
    const TRL = formatTrailer({ recordCount: 12, controlTotal: 999_999_999_999_999_999n });
    expect(TRL.startsWith('TRL0000000012999999999999999999 ')).toBe(true);
    expect(ok(parseTrailer(TRL))).toEqual({ recordCount: 12, controlTotal: 999_999_999_999_999_999n });
  });

  it('rejects what breaks the TRL rules', () => {
    const TRL = formatTrailer({ recordCount: 12, controlTotal: 3000n });
    expect(problem(parseTrailer(`${TRL}x`))).toBe('record length 129, expected 128');
    expect(problem(parseTrailer(overwriteColumns(TRL, 4, '        12')))).toMatch(/^record count \(cols 4-13\) .* must be digits only/);
    expect(problem(parseTrailer(overwriteColumns(TRL, 14, '-'.padStart(18, '0'))))).toMatch(/^control total \(cols 14-31\)/);
  });
});

describe('tradeRefOf', () => {
  it('reads the reference of valid and invalid detail lines', () => {
    expect(tradeRefOf(TRD)).toBe('TR-1/A');
    expect(tradeRefOf(overwriteColumns(TRD, 48, 'US0378331009'))).toBe('TR-1/A');
    expect(tradeRefOf(overwriteColumns(TRD, 1, 'XYZ'))).toBe('TR-1/A');
    expect(tradeRefOf(TRD.slice(0, 40))).toBe('TR-1/A');
  });

  it('is null when there is no well-formed reference', () => {
    expect(tradeRefOf(TRD.slice(0, 30))).toBeNull();
    expect(tradeRefOf(overwriteColumns(TRD, 16, 'TR 1'))).toBeNull();
    expect(tradeRefOf(overwriteColumns(TRD, 16, ' '.repeat(16)))).toBeNull();
    expect(tradeRefOf(formatHeader({ source: 'CORE', businessDate: '2024-02-29', fileNumber: '1' }))).toBeNull();
    expect(tradeRefOf('')).toBeNull();
  });
});

describe('the trade reference rule, read on the line in place', () => {
  it('is the spec pattern on the right-trimmed columns 16-31, for any characters, in tradeRefOf and in parseDetail alike', () => {
    const spec = /^[A-Za-z0-9/-]+$/;
    // Mostly characters the rule allows, at the edges of its ranges, with now and then one it does not
    // (among them the neighbours of a letter by the case bit, `@[`{`, and characters above Latin-1).
    const allowed = fc.constantFrom(...'aAzZmM09-/'.split(''));
    const other = fc.constantFrom(...' ._@[`{~\\\u00e9\u0130\u017f\u0000'.split(''));
    const char = fc.oneof({ arbitrary: allowed, weight: 30 }, { arbitrary: other, weight: 1 });
    fc.assert(
      fc.property(fc.array(char, { minLength: 0, maxLength: 16 }), (chars) => {
        const columns = chars.join('').padEnd(16, ' ');
        const value = columns.replace(/ +$/, '');
        const wellFormed = spec.test(value);
        const line = overwriteColumns(TRD, 16, columns);
        expect(tradeRefOf(line)).toBe(wellFormed ? value : null);
        expect(E.isRight(parseDetail(line))).toBe(wellFormed);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('controlQuantityOf', () => {
  it('is the quantity field of TRD, AMD, ALC and CNF lines', () => {
    expect(controlQuantityOf(TRD)).toBe(1500n);
    expect(controlQuantityOf(AMD)).toBe(1500n);
    expect(controlQuantityOf(ALC)).toBe(1500n);
    expect(controlQuantityOf(CNF)).toBe(1500n);
    expect(controlQuantityOf(CXL)).toBeNull();
  });

  it('counts invalid lines of 128 characters whose quantity field is all digits', () => {
    expect(controlQuantityOf(overwriteColumns(TRD, 48, 'US0378331009'))).toBe(1500n);
    expect(controlQuantityOf(overwriteColumns(TRD, 61, '0'.repeat(15)))).toBe(0n);
    expect(controlQuantityOf(overwriteColumns(TRD, 61, '999999999999999'))).toBe(999_999_999_999_999n);
  });

  it('is null for other lines', () => {
    expect(controlQuantityOf(TRD.slice(0, 127))).toBeNull();
    expect(controlQuantityOf(overwriteColumns(TRD, 61, '1500'.padStart(15)))).toBeNull();
    expect(controlQuantityOf(overwriteColumns(TRD, 1, 'XYZ'))).toBeNull();
    expect(controlQuantityOf(formatTrailer({ recordCount: 1, controlTotal: 5n }))).toBeNull();
  });
});
