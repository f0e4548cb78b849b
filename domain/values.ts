// Value types shared by every part of Kepler, in the feed's own words.
// Money is never a binary float: prices are canonical decimal strings and are
// compared either as strings (canonical form is unique) or as scaled bigints.

export type Source = 'CORE' | 'ALLOC' | 'CUSTODY' | 'API';
export const FEED_SOURCES = ['CORE', 'ALLOC', 'CUSTODY'] as const;
export type FeedSource = (typeof FEED_SOURCES)[number];

export type Side = 'BUY' | 'SELL';
export type ConfirmationStatus = 'AFFIRMED' | 'REJECTED';

/** The correlation ID of everything Kepler knows about one trade. */
export type TradeRef = string;

/** A decimal string without superfluous zeros: "123.45", "100", "0.00000001". */
export type Price = string;

/** An ISO calendar date, YYYY-MM-DD. */
export type IsoDate = string;

export const PRICE_SCALE = 8;
const SCALE = 10n ** BigInt(PRICE_SCALE);

/** Scaled integer (1e-8 units) to its canonical decimal string. */
export function priceFromScaled(scaled: bigint): Price {
  const negative = scaled < 0n;
  const abs = negative ? -scaled : scaled;
  const integer = abs / SCALE;
  const fraction = (abs % SCALE).toString().padStart(PRICE_SCALE, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${integer}${fraction ? `.${fraction}` : ''}`;
}

/** Canonical decimal string (or any plain decimal string) to a scaled integer; null when not a decimal with at most 8 places. */
export function priceToScaled(price: string): bigint | null {
  const match = /^(-?)(\d+)(?:\.(\d{1,8}))?$/.exec(price);
  if (!match) return null;
  const [, sign, integer, fraction = ''] = match;
  const scaled = BigInt(integer!) * SCALE + BigInt(fraction.padEnd(PRICE_SCALE, '0'));
  return sign ? -scaled : scaled;
}

/** A price already canonical (non-negative): what priceFromScaled gives, so it stands for itself without the bigint round trip. */
const CANONICAL_PRICE = /^(0|[1-9]\d*)(\.\d{0,7}[1-9])?$/;

/** Normalises a decimal string to its canonical form, or null when it is not one. */
export function canonicalPrice(price: string): Price | null {
  // Every command's price passes here, and clients mostly send the canonical form already.
  if (CANONICAL_PRICE.test(price)) return price;
  const scaled = priceToScaled(price);
  return scaled === null ? null : priceFromScaled(scaled);
}

/** Whether a decimal string is a price greater than 0 (false when it is not a decimal with at most 8 places). */
export function isPositivePrice(price: string): boolean {
  if (CANONICAL_PRICE.test(price)) return price !== '0';
  const scaled = priceToScaled(price);
  return scaled !== null && scaled > 0n;
}

/** True when YYYYMMDD (or YYYY-MM-DD) names a real Gregorian calendar date. */
export function isCalendarDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  return day <= days;
}

/** ISIN check digit (ISO 6166): letters become two digits, then Luhn over the digit string. */
export function isValidIsin(isin: string): boolean {
  if (!/^[A-Z]{2}[A-Z0-9]{9}[0-9]$/.test(isin)) return false;
  // Luhn from the right over the digit string, without building it: a letter is two digits (A = 10),
  // its units digit first.
  let sum = 0;
  let double = false;
  for (let i = isin.length - 1; i >= 0; i--) {
    const code = isin.charCodeAt(i);
    if (code >= 65) {
      const value = code - 55;
      sum += luhnDigit(value % 10, double);
      double = !double;
      sum += luhnDigit((value - (value % 10)) / 10, double);
    } else {
      sum += luhnDigit(code - 48, double);
    }
    double = !double;
  }
  return sum % 10 === 0;
}

function luhnDigit(digit: number, double: boolean): number {
  if (!double) return digit;
  return digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
}
