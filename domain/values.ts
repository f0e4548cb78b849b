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

/** Normalises a decimal string to its canonical form, or null when it is not one. */
export function canonicalPrice(price: string): Price | null {
  const scaled = priceToScaled(price);
  return scaled === null ? null : priceFromScaled(scaled);
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
  let digits = '';
  for (const ch of isin) {
    const code = ch.charCodeAt(0);
    digits += code >= 65 ? String(code - 55) : ch;
  }
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}
