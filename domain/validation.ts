// Business rules on trade terms that a schema cannot express, for commands that
// arrive as JSON. (The CX1 parser checks the same rules on fixed-width fields.)
import type { TradeTerms } from './records.js';
import { canonicalPrice, isCalendarDate, isPositivePrice, isValidIsin } from './values.js';

export interface FieldError {
  field: string;
  message: string;
}

/** YYYY-MM-DD naming a real date. Read by character code: a regular expression's match and its three strings took most of it, twice a command. */
export function isoDateIsReal(date: string): boolean {
  if (date.length !== 10 || date.charCodeAt(4) !== DASH || date.charCodeAt(7) !== DASH) return false;
  const year = digitsAt(date, 0, 4);
  const month = digitsAt(date, 5, 2);
  const day = digitsAt(date, 8, 2);
  return year >= 0 && month >= 0 && day >= 0 && isCalendarDate(year, month, day);
}

const DASH = 0x2d;

/** The number the ASCII digits at [start, start + count) spell, or -1 when one of them is not a digit. */
function digitsAt(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

export function termsErrors(terms: TradeTerms): FieldError[] {
  const errors: FieldError[] = [];
  if (!isValidIsin(terms.isin)) errors.push({ field: 'isin', message: `${terms.isin} has an invalid check digit` });
  if (!isPositivePrice(terms.price)) errors.push({ field: 'price', message: 'must be a decimal greater than 0' });
  for (const field of ['tradeDate', 'settleDate'] as const) {
    if (!isoDateIsReal(terms[field])) errors.push({ field, message: `${terms[field]} is not a calendar date` });
  }
  if (errors.every((e) => e.field !== 'tradeDate' && e.field !== 'settleDate') && terms.settleDate < terms.tradeDate) {
    errors.push({ field: 'settleDate', message: 'must not be before tradeDate' });
  }
  return errors;
}

/** Terms as the domain keeps them: the price in canonical form. */
export function canonicalTerms(terms: TradeTerms): TradeTerms {
  return { ...terms, price: canonicalPrice(terms.price) ?? terms.price };
}
