// Business rules on trade terms that a schema cannot express, for commands that
// arrive as JSON. (The CX1 parser checks the same rules on fixed-width fields.)
import type { TradeTerms } from './records.js';
import { canonicalPrice, isCalendarDate, isValidIsin, priceToScaled } from './values.js';

export interface FieldError {
  field: string;
  message: string;
}

export function isoDateIsReal(date: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  return match !== null && isCalendarDate(Number(match[1]), Number(match[2]), Number(match[3]));
}

export function termsErrors(terms: TradeTerms): FieldError[] {
  const errors: FieldError[] = [];
  if (!isValidIsin(terms.isin)) errors.push({ field: 'isin', message: `${terms.isin} has an invalid check digit` });
  const scaled = priceToScaled(terms.price);
  if (scaled === null || scaled <= 0n) errors.push({ field: 'price', message: 'must be a decimal greater than 0' });
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
