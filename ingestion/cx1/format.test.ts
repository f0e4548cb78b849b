import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { generateFeed, MIXED_RATES, Rng, withIsinCheckDigit } from '../../bench/feed-generator.js';
import type { DetailRecord, TradeTerms } from '../../domain/records.js';
import { priceFromScaled } from '../../domain/values.js';
import { controlQuantityOfRecord, formatDetail, formatHeader, formatTrailer, overwriteColumns } from './format.js';
import { controlQuantityOf, parseDetail, parseHeader, parseTrailer } from './parse.js';

const terms: TradeTerms = {
  account: 'ACC-001',
  isin: 'DE0007164600',
  side: 'SELL',
  quantity: 1500,
  price: '123.45',
  currency: 'EUR',
  tradeDate: '2024-02-29',
  settleDate: '2024-03-04',
  counterparty: 'CPTY-01',
};

describe('layout', () => {
  it('lays a TRD out column by column', () => {
    const line = formatDetail(42, { type: 'TRD', tradeRef: 'TR-1', version: 1, terms });
    expect(line).toBe(
      'TRD' +
        '000000000042' +
        'TR-1            ' +
        '0001' +
        'ACC-001     ' +
        'DE0007164600' +
        'S' +
        '000000000001500' +
        '000000012345000000' +
        'EUR' +
        '20240229' +
        '20240304' +
        'CPTY-01     ' +
        '    ',
    );
    expect(line).toHaveLength(128);
  });

  it('lays out CXL, ALC and CNF with filler spaces', () => {
    const cxl = formatDetail(1, { type: 'CXL', tradeRef: 'R', version: 3, reason: 'WHY' });
    expect(cxl).toBe(`CXL000000000001${'R'.padEnd(16)}0003${'WHY'.padEnd(40)}${' '.repeat(53)}`);
    const alc = formatDetail(2, { type: 'ALC', tradeRef: 'R', allocationId: 'A1', account: 'F', quantity: 0 });
    expect(alc).toBe(`ALC000000000002${'R'.padEnd(16)}${'A1'.padEnd(12)}${'F'.padEnd(12)}${'0'.repeat(15)}${' '.repeat(58)}`);
    const cnf = formatDetail(3, { type: 'CNF', tradeRef: 'R', status: 'REJECTED', quantity: 5, price: '0', reason: '' });
    expect(cnf).toBe(`CNF000000000003${'R'.padEnd(16)}RJ${'5'.padStart(15, '0')}${'0'.repeat(18)}${' '.repeat(40)}${' '.repeat(22)}`);
  });

  it('formats headers and trailers', () => {
    expect(formatHeader({ source: 'CUSTODY', businessDate: '2026-11-27', fileNumber: '0000000001' })).toBe(`HDRCUSTODY 202611270000000001${' '.repeat(99)}`);
    expect(formatHeader({ source: 'CORE', businessDate: '2026-11-27', fileNumber: '42' }).slice(19, 29)).toBe('0000000042');
    expect(formatTrailer({ recordCount: 3, controlTotal: 4500n })).toBe(`TRL0000000003${'4500'.padStart(18, '0')}${' '.repeat(97)}`);
  });

  it('formats prices through scaled integers', () => {
    const priceColumns = (price: string): string => formatDetail(1, { type: 'TRD', tradeRef: 'R', version: 1, terms: { ...terms, price } }).slice(75, 93);
    expect(priceColumns('123.45')).toBe('000000012345000000');
    expect(priceColumns('100')).toBe('000000010000000000');
    expect(priceColumns('0.00000001')).toBe('000000000000000001');
    expect(priceColumns('9999999999.99999999')).toBe('999999999999999999');
    expect(priceColumns('0100.50')).toBe('000000010050000000');
  });
});

describe('control quantities', () => {
  it("a record's control quantity is what the parser reads back from its formatted line", () => {
    const feed = generateFeed({ seed: 5, trades: 60, rates: MIXED_RATES });
    const records = feed.files.flatMap((f) => f.lines.map((l) => parseDetail(l))).flatMap((r) => (E.isRight(r) ? [r.right] : []));
    expect(new Set(records.map((r) => r.record.type))).toEqual(new Set(['TRD', 'AMD', 'CXL', 'ALC', 'CNF']));
    for (const { sourceSequence, record } of records) {
      // CXL has no quantity field: the parser counts nothing for it.
      expect(controlQuantityOf(formatDetail(sourceSequence, record)) ?? 0n).toBe(BigInt(controlQuantityOfRecord(record)));
    }
  });
});

describe('values that do not fit', () => {
  const trd = (overrides: Partial<TradeTerms>, seq = 1, tradeRef = 'R'): string =>
    formatDetail(seq, { type: 'TRD', tradeRef, version: 1, terms: { ...terms, ...overrides } });

  it('throws on numbers too wide, negative or not integers', () => {
    expect(() => trd({ quantity: 1_000_000_000_000_000 })).toThrow(/quantity \(cols 61-75\).*more than 15 digits/);
    expect(() => trd({ quantity: -1 })).toThrow(/negative/);
    expect(() => trd({ quantity: 1.5 })).toThrow(/not a safe integer/);
    expect(() => trd({}, 1_000_000_000_000)).toThrow(/source sequence/);
    expect(() => formatTrailer({ recordCount: 1, controlTotal: 10n ** 18n })).toThrow(/control total/);
  });

  it('throws on prices that do not fit', () => {
    expect(() => trd({ price: '10000000000' })).toThrow(/price.*more than 18 digits/);
    expect(() => trd({ price: '1.000000001' })).toThrow(/at most 8 decimal places/);
    expect(() => trd({ price: '-1' })).toThrow(/negative/);
    expect(() => trd({ price: '1e3' })).toThrow(/price/);
  });

  it('throws on text too long or not printable ASCII', () => {
    expect(() => trd({ account: 'A'.repeat(13) })).toThrow(/account \(cols 36-47\).*longer than 12/);
    expect(() => trd({}, 1, 'R'.repeat(17))).toThrow(/trade reference/);
    expect(() => trd({ counterparty: 'CAFÉ' })).toThrow(/printable ASCII/);
  });

  it('throws on dates that are not ISO and on unknown enumerations', () => {
    expect(() => trd({ tradeDate: '20240229' })).toThrow(/trade date.*ISO date/);
    expect(() => trd({ side: 'B' as 'BUY' })).toThrow(/side \(col 60\).*BUY, SELL/);
    expect(() => formatDetail(1, { type: 'CNF', tradeRef: 'R', status: 'AF' as 'AFFIRMED', quantity: 1, price: '1', reason: '' })).toThrow(/status/);
  });

  it('formats values that fit but break business rules (for building bad lines)', () => {
    expect(E.isLeft(parseDetail(trd({ tradeDate: '2023-02-29' })))).toBe(true);
    expect(E.isLeft(parseDetail(trd({ isin: 'US0378331009' })))).toBe(true);
  });
});

describe('overwriteColumns', () => {
  it('replaces columns in place, keeping the length', () => {
    expect(overwriteColumns('abcdef', 2, 'XY')).toBe('aXYdef');
    expect(overwriteColumns('abc', 3, 'XYZ')).toBe('abXYZ');
  });
});

describe('round trip', () => {
  function randomRecord(rng: Rng, tradeRef: string): DetailRecord {
    const text = (max: number): string => {
      const chars = 'ABCXYZ0189 -/.#';
      let s = rng.pick('ABCDEFGHIJ0123456789'.split(''));
      for (let i = rng.int(0, max - 1); i > 0; i--) s += rng.pick(chars.split(''));
      return s.trimEnd();
    };
    const price = (min: bigint): string => priceFromScaled(min + BigInt(rng.int(0, 2 ** 31)) * BigInt(rng.pick([1, 1000, 10 ** 6, 10 ** 8])));
    const randomTerms = (): TradeTerms => ({
      account: text(12),
      isin: withIsinCheckDigit(rng.pick(['US', 'GB', 'XS']) + String(rng.int(100_000_000, 999_999_999))),
      side: rng.chance(0.5) ? 'BUY' : 'SELL',
      quantity: rng.chance(0.1) ? 999_999_999_999_999 : rng.int(1, 2 ** 31),
      price: price(1n),
      currency: rng.pick(['USD', 'EUR', 'XAU']),
      tradeDate: '2024-02-29',
      settleDate: rng.pick(['2024-02-29', '2024-03-01', '2099-12-31']),
      counterparty: text(12),
    });
    switch (rng.int(0, 4)) {
      case 0:
        return { type: 'TRD', tradeRef, version: 1, terms: randomTerms() };
      case 1:
        return { type: 'AMD', tradeRef, version: rng.int(2, 9999), terms: randomTerms() };
      case 2:
        return { type: 'CXL', tradeRef, version: rng.int(2, 9999), reason: rng.chance(0.3) ? '' : ` ${text(39)}` };
      case 3:
        return { type: 'ALC', tradeRef, allocationId: text(12), account: text(12), quantity: rng.int(0, 2 ** 40) };
      default:
        return { type: 'CNF', tradeRef, status: rng.chance(0.5) ? 'AFFIRMED' : 'REJECTED', quantity: rng.int(0, 10 ** 6), price: price(0n), reason: text(40) };
    }
  }

  it('parseDetail(formatDetail(seq, r)) gives back (seq, r) for many random valid records', () => {
    const rng = new Rng(20261127);
    for (let i = 0; i < 5000; i++) {
      const seq = rng.int(1, 999_999_999_999);
      const record = randomRecord(rng, rng.pick(['A', 'ab-12/CD', 'X'.repeat(16), `T${i}`]));
      const line = formatDetail(seq, record);
      expect(line).toHaveLength(128);
      expect(parseDetail(line)).toEqual(E.right({ sourceSequence: seq, record }));
    }
  });

  it('formatDetail(parseDetail(line)) gives back every valid line of a generated feed', () => {
    const feed = generateFeed({ seed: 3, trades: 300, rates: MIXED_RATES });
    let checked = 0;
    for (const file of feed.files) {
      expect(parseHeader(file.lines[0]!)).toEqual(E.right(file.header));
      for (const line of file.lines.slice(1)) {
        const parsed = parseDetail(line);
        if (E.isLeft(parsed)) continue;
        expect(formatDetail(parsed.right.sourceSequence, parsed.right.record)).toBe(line);
        checked++;
      }
      const last = parseTrailer(file.lines.at(-1)!);
      if (E.isRight(last)) expect(formatTrailer(last.right)).toBe(file.lines.at(-1));
    }
    expect(checked).toBeGreaterThan(1000);
  });
});
