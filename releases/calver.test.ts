import fc from 'fast-check';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { compareCalVer, dayPart, formatCalVer, nextCalVer, parseCalVer, releaseOf } from './calver.js';

const DAY = 86_400_000;

describe('CalVer YYYY.MDD.N', () => {
  it('writes the month and day unpadded as one number', () => {
    expect(nextCalVer([], new Date('2026-12-05T10:00:00Z'), 'release')).toBe('2026.1205.0');
    expect(nextCalVer([], new Date('2026-01-05T10:00:00Z'), 'release')).toBe('2026.105.0');
    expect(nextCalVer([], new Date('2026-10-31T23:59:59Z'), 'release')).toBe('2026.1031.0');
  });

  it('is valid semver without leading zeros and strictly increasing, for every day from 2000 to 2100', () => {
    let previous: string | null = null;
    let days = 0;
    const problems: string[] = [];
    for (let t = Date.UTC(2000, 0, 1); t < Date.UTC(2101, 0, 1); t += DAY) {
      const at = new Date(t + 12 * 3600_000);
      const id = nextCalVer(previous ? [previous] : [], at, 'release');
      const parsed = parseCalVer(id);
      if (semver.valid(id) !== id) problems.push(`${id}: not semver`);
      if (!id.split('.').every((part) => part === '0' || !part.startsWith('0'))) problems.push(`${id}: leading zero`);
      if (parsed.year !== at.getUTCFullYear() || parsed.month !== at.getUTCMonth() + 1 || parsed.day !== at.getUTCDate() || parsed.n !== 0) problems.push(`${id}: not ${at.toISOString()}`);
      if (previous && (!semver.gt(id, previous) || compareCalVer(id, previous) <= 0)) problems.push(`${id} does not follow ${previous}`);
      previous = id;
      days++;
    }
    expect(problems).toEqual([]);
    expect(days).toBe(36_890);
  });

  it('numbers any sequence of cuts over any days strictly increasingly, as semver orders them', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ gapMs: fc.integer({ min: 0, max: 3 * DAY }), rc: fc.boolean() }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }),
        (cuts, start) => {
          const ids: string[] = [];
          let t = start;
          for (const cut of cuts) {
            t += cut.gapMs;
            if (t >= Date.UTC(2101, 0, 1)) break;
            const id = nextCalVer(ids, new Date(t), cut.rc ? 'rc' : 'release');
            expect(semver.valid(id)).toBe(id);
            if (ids.length) expect(semver.gt(id, ids.at(-1)!)).toBe(true);
            expect(id.startsWith(`${dayPart(new Date(t))}.`)).toBe(true);
            ids.push(id);
          }
          // Our order and semver's agree.
          expect([...ids].sort(compareCalVer)).toEqual([...ids].sort(semver.compare));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('counts the cuts of one UTC day: two cuts give .0 and .1, the next day starts again', () => {
    const first = nextCalVer([], new Date('2026-12-05T00:00:00Z'), 'release');
    const second = nextCalVer([first], new Date('2026-12-05T23:59:59Z'), 'release');
    const third = nextCalVer([first, second], new Date('2026-12-06T00:00:01Z'), 'release');
    expect([first, second, third]).toEqual(['2026.1205.0', '2026.1205.1', '2026.1206.0']);
  });

  it('orders candidates before their release, and a release closes the open series', () => {
    const at = new Date('2026-12-05T09:00:00Z');
    const ids: string[] = [];
    ids.push(nextCalVer(ids, at, 'release'));
    ids.push(nextCalVer(ids, at, 'rc'));
    ids.push(nextCalVer(ids, at, 'rc'));
    ids.push(nextCalVer(ids, at, 'release'));
    ids.push(nextCalVer(ids, at, 'rc'));
    expect(ids).toEqual(['2026.1205.0', '2026.1205.1-rc.0', '2026.1205.1-rc.1', '2026.1205.1', '2026.1205.2-rc.0']);
    expect(semver.lt('2026.1205.1-rc.1', '2026.1205.1')).toBe(true);
    expect(compareCalVer('2026.1205.1-rc.1', '2026.1205.1')).toBeLessThan(0);
    expect(compareCalVer('2026.1205.1-rc.9', '2026.1205.1-rc.10')).toBeLessThan(0);
    expect(releaseOf('2026.1205.1-rc.1')).toBe('2026.1205.1');
  });

  it('refuses a cut whose clock is behind the latest id', () => {
    expect(() => nextCalVer(['2026.1206.0'], new Date('2026-12-05T10:00:00Z'), 'release')).toThrow(/not after the latest id 2026.1206.0/);
  });

  it('refuses what is not a Kepler CalVer', () => {
    for (const bad of ['2026.0105.0', '2026.1205.01', '2026.1301.0', '2026.230.0', '2026.1205', '2026.1205.0-beta.1', '2026.1205.0-rc.01', '02026.1205.0']) {
      expect(() => parseCalVer(bad), bad).toThrow();
    }
    expect(formatCalVer(parseCalVer('2024.229.3-rc.2'))).toBe('2024.229.3-rc.2');
  });
});
