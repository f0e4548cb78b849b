import { describe, expect, it } from 'vitest';
import { wholeNumberSetting } from './settings.js';

describe('whole-number settings', () => {
  it('are absent when not given, read when whole, refused by name otherwise', () => {
    expect(wholeNumberSetting(undefined, 'X')).toBeUndefined();
    expect(wholeNumberSetting('', 'X')).toBeUndefined();
    expect(wholeNumberSetting('0', 'X')).toBe(0);
    expect(wholeNumberSetting('30000', 'X')).toBe(30_000);
    for (const bad of ['-1', '1.5', 'ten', '3e', ' ', '1e3', '0x10', ' 7']) expect(() => wholeNumberSetting(bad, 'KEPLER_X'), bad).toThrow(`KEPLER_X must be a whole number, not "${bad}"`);
  });
});
