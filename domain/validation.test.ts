import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoDateIsReal } from './validation.js';
import { isCalendarDate } from './values.js';

/** The rule as a regular expression says it: what isoDateIsReal must agree with. */
function byPattern(date: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  return match !== null && isCalendarDate(Number(match[1]), Number(match[2]), Number(match[3]));
}

describe('isoDateIsReal: YYYY-MM-DD naming a real date', () => {
  it.each([
    ['2026-11-27', true],
    ['2024-02-29', true],
    ['2023-02-29', false],
    ['2026-13-01', false],
    ['2026-00-10', false],
    ['2026-04-31', false],
    ['0000-01-01', true],
    ['2026-1-27', false],
    ['2026/11/27', false],
    ['2026-11-27\n', false],
    [' 2026-11-27', false],
    ['2026-11-2a', false],
    ['2026-11-0:', false],
    ['2026-1/-01', false],
    ['２026-11-27', false],
    ['', false],
  ])('%j is %s', (date, real) => {
    expect(isoDateIsReal(date)).toBe(real);
  });

  it('agrees with the pattern for any string shaped like a date, or not', () => {
    const nearDates = fc
      .tuple(fc.stringMatching(/^[0-9]{3,5}$/), fc.constantFrom('-', '/', ''), fc.stringMatching(/^[0-9]{1,3}$/), fc.constantFrom('-', ':'), fc.stringMatching(/^[0-9:/]{1,3}$/))
      .map((parts) => parts.join(''));
    // Digits and their ASCII neighbours ('/' and ':') in a date's layout.
    const dateShaped = fc.stringMatching(/^[/0-9:]{4}[-/][/0-9:]{2}-[/0-9:]{2}$/);
    fc.assert(
      fc.property(fc.oneof(dateShaped, nearDates, fc.string({ maxLength: 12 })), (date) => {
        expect(isoDateIsReal(date)).toBe(byPattern(date));
      }),
      { numRuns: 5000 },
    );
  });
});
