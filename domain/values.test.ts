import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalPrice, isCalendarDate, isPositivePrice, isValidIsin, PRICE_SCALE, priceFromScaled, priceToScaled } from './values.js';

/** Decimal-looking strings, canonical or not, signed or not, with up to 9 places: what a client may send. */
const decimalSpellings = fc
  .tuple(fc.constantFrom('', '', '-'), fc.stringMatching(/^\d{1,12}$/), fc.option(fc.stringMatching(/^\d{0,9}$/)))
  .map(([sign, integer, fraction]) => `${sign}${integer}${fraction === null ? '' : `.${fraction}`}`);

describe('prices are canonical decimal strings backed by scaled bigints (1e-8 units), never floats', () => {
  it('uses 8 decimal places, as the feed lays prices out', () => {
    expect(PRICE_SCALE).toBe(8);
  });

  it.each([
    ['123.45', 12_345_000_000n],
    ['100', 10_000_000_000n],
    ['0.00000001', 1n],
    ['0', 0n],
    ['1', 100_000_000n],
    ['10.5', 1_050_000_000n],
    ['0.1', 10_000_000n],
    ['9999999999.99999999', 999_999_999_999_999_999n],
  ])('"%s" is %s scaled units, both ways', (price, scaled) => {
    expect(priceToScaled(price)).toBe(scaled);
    expect(priceFromScaled(scaled)).toBe(price);
  });

  it('scales to a bigint, not a number', () => {
    expect(typeof priceToScaled('123.45')).toBe('bigint');
  });

  it.each([
    ['123.4500', '123.45'],
    ['100.00000000', '100'],
    ['100.0', '100'],
    ['0100', '100'],
    ['0000000123.45000000', '123.45'],
    ['0.00000001', '0.00000001'],
    ['0.00000000', '0'],
    ['0.10', '0.1'],
  ])('canonicalises "%s" to "%s" (no superfluous zeros)', (input, canonical) => {
    expect(canonicalPrice(input)).toBe(canonical);
  });

  it('gives the same canonical string to every spelling of the same value, so strings can be compared', () => {
    const spellings = ['123.45', '123.450', '0123.45', '123.45000000'];
    expect(new Set(spellings.map(canonicalPrice))).toEqual(new Set(['123.45']));
    expect(canonicalPrice('123.45')).not.toBe(canonicalPrice('123.46'));
  });

  it('is exact where binary floats are not', () => {
    const sum = priceToScaled('0.1')! + priceToScaled('0.2')!;
    expect(priceFromScaled(sum)).toBe('0.3');
    // 18 significant digits: beyond a float's 2^53, exact as a bigint.
    expect(canonicalPrice('9999999999.99999999')).toBe('9999999999.99999999');
    expect(canonicalPrice('1234567890.12345678')).toBe('1234567890.12345678');
    expect(priceFromScaled(priceToScaled('1234567890.12345679')! - priceToScaled('1234567890.12345678')!)).toBe('0.00000001');
  });

  it('round-trips every scaled value it produces', () => {
    const samples = [0n, 1n, 7n, 10n, 99_999_999n, 100_000_000n, 100_000_001n, 12_345_678_901_234_567n, 999_999_999_999_999_999n];
    for (const scaled of samples) {
      const price = priceFromScaled(scaled);
      expect(price).toMatch(/^(0|[1-9]\d*)(\.\d{0,7}[1-9])?$/);
      expect(priceToScaled(price)).toBe(scaled);
    }
  });

  it('takes a canonical price as it is, and gives every spelling what the bigint round trip gives', () => {
    fc.assert(
      fc.property(decimalSpellings, (price) => {
        const scaled = priceToScaled(price);
        expect(canonicalPrice(price)).toBe(scaled === null ? null : priceFromScaled(scaled));
        expect(isPositivePrice(price)).toBe(scaled !== null && scaled > 0n);
      }),
      { numRuns: 5000 },
    );
  });

  it.each([
    ['10.5', true],
    ['0', false],
    ['0.00000000', false],
    ['-1', false],
    ['0.00000001', true],
    ['1e3', false],
    ['', false],
  ])('isPositivePrice("%s") is %s', (price, positive) => {
    expect(isPositivePrice(price)).toBe(positive);
  });

  it.each(['', '.5', '5.', '1.234567891', '1e3', '12.3.4', ' 1', '1 ', '1,5', 'abc', '+1', 'NaN', 'Infinity'])(
    'rejects "%s" as not a decimal with at most 8 places',
    (input) => {
      expect(priceToScaled(input)).toBeNull();
      expect(canonicalPrice(input)).toBeNull();
    },
  );
});

describe('isValidIsin: 2 letters, 9 letters/digits, a valid ISO 6166 check digit', () => {
  it.each(['US0378331005', 'GB0002634946', 'DE0007164600', 'AU0000XVGZA3', 'US5949181045'])('accepts the real ISIN %s', (isin) => {
    expect(isValidIsin(isin)).toBe(true);
  });

  it.each([
    ['US0378331006', 'wrong check digit'],
    ['GB0002634949', 'wrong check digit'],
    ['DE0007164601', 'wrong check digit'],
    ['US0387331005', 'two digits transposed'],
    ['DE0007146600', 'two digits transposed'],
    ['GB0002643946', 'two digits transposed'],
    ['US0378331015', 'one digit changed'],
    ['AU0000XVGZB3', 'one letter changed'],
    ['us0378331005', 'lower case'],
    ['US037833100', 'too short'],
    ['US03783310050', 'too long'],
    ['120378331005', 'country code not letters'],
    ['US037833100A', 'check digit not a digit'],
    ['US-378331005', 'not a letter or digit'],
    ['', 'empty'],
  ])('rejects %s (%s)', (isin) => {
    expect(isValidIsin(isin)).toBe(false);
  });

  it('agrees with Luhn over the spelt-out digit string (letters as two digits) for any well-formed ISIN', () => {
    const luhnOfDigits = (isin: string) => {
      const digits = [...isin].map((ch) => (ch >= 'A' ? String(ch.charCodeAt(0) - 55) : ch)).join('');
      let sum = 0;
      for (let i = digits.length - 1, double = false; i >= 0; i--, double = !double) {
        const d = Number(digits[i]) * (double ? 2 : 1);
        sum += d > 9 ? d - 9 : d;
      }
      return sum % 10 === 0;
    };
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Z]{2}[A-Z0-9]{9}[0-9]$/), (isin) => {
        expect(isValidIsin(isin)).toBe(luhnOfDigits(isin));
      }),
      { numRuns: 5000 },
    );
  });
});

describe('isCalendarDate: a real Gregorian date', () => {
  it.each([
    [2024, 2, 29, true],
    [2023, 2, 29, false],
    [2023, 2, 28, true],
    [2000, 2, 29, true],
    [1900, 2, 29, false],
    [2100, 2, 29, false],
    [2400, 2, 29, true],
    [1996, 2, 29, true],
    [2024, 2, 30, false],
    [2023, 4, 31, false],
    [2023, 4, 30, true],
    [2023, 6, 31, false],
    [2023, 9, 31, false],
    [2023, 11, 31, false],
    [2023, 1, 31, true],
    [2023, 12, 31, true],
    [2023, 1, 32, false],
    [2023, 0, 10, false],
    [2023, 13, 10, false],
    [2023, 5, 0, false],
  ])('%i-%i-%i is %s', (year, month, day, expected) => {
    expect(isCalendarDate(year, month, day)).toBe(expected);
  });
});
