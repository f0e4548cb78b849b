import { describe, expect, it } from 'vitest';
import type { Measurement } from './kit.js';
import { alternate, baselineFirst, median, quantile, roundRatios, spread } from './rounds.js';

const burst = (rate: number, p99?: number, p50?: number): Measurement => ({ rate, unit: 'requests', ...(p99 === undefined ? {} : { p99 }), ...(p50 === undefined ? {} : { p50 }) });

describe('median and quantile', () => {
  it('takes the middle value of an odd count and the mean of the middle two of an even one, in any order', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });

  it('interpolates between the nearest ranks', () => {
    expect(quantile([10, 20, 30, 40, 50], 0.25)).toBe(20);
    expect(quantile([10, 20], 0.25)).toBe(12.5);
    expect(quantile([5, 1], 0)).toBe(1);
    expect(quantile([5, 1], 1)).toBe(5);
  });

  it('refuses no values rather than answering NaN', () => {
    expect(() => median([])).toThrow('no values');
  });

  it('gives the spread as the median beside the lowest and highest', () => {
    expect(spread([0.5, 0.7, 0.6, 0.4])).toEqual({ median: 0.55, low: 0.4, high: 0.7 });
  });
});

describe('roundRatios', () => {
  it("takes each round's figure over that round's baseline, and the median of those, never the ratio of the medians", () => {
    // The machine halves its speed between rounds: each round's ratio is 0.5, the medians' ratio is not.
    const rounds = [
      { measured: burst(50), baseline: burst(100) },
      { measured: burst(25), baseline: burst(50) },
      { measured: burst(10), baseline: burst(20) },
    ];
    const r = roundRatios(rounds);
    expect(r.rate).toEqual({ median: 0.5, low: 0.5, high: 0.5 });
    expect(r.measured.rate).toBe(25);
    expect(r.baseline.rate).toBe(50);
    expect(r.rates).toEqual({ measured: { median: 25, low: 10, high: 50 }, baseline: { median: 50, low: 20, high: 100 } });
  });

  it('gives the lowest and highest round ratio beside the median, and every round in the order measured', () => {
    const r = roundRatios([
      { measured: burst(60, 2), baseline: burst(100, 1) },
      { measured: burst(30, 3), baseline: burst(100, 1) },
      { measured: burst(45, 4), baseline: burst(90, 2) },
      { measured: burst(80, 1.5), baseline: burst(100, 1) },
    ]);
    expect(r.rate.low).toBeCloseTo(0.3);
    expect(r.rate.high).toBeCloseTo(0.8);
    expect(r.rate.median).toBeCloseTo(0.55); // (0.5 + 0.6) / 2
    expect(r.p99).toEqual({ median: 2, low: 1.5, high: 3 });
    expect(r.rounds.map((x) => x.rate)).toEqual([0.6, 0.3, 0.5, 0.8]);
  });

  it('takes the median burst of each side for the absolute figures, each percentile on its own', () => {
    const r = roundRatios([
      { measured: burst(10, 9, 1), baseline: burst(100, 1, 0.5) },
      { measured: burst(20, 5, 3), baseline: burst(300, 3, 0.1) },
      { measured: burst(30, 7, 2), baseline: burst(200, 2, 0.3) },
    ]);
    expect(r.measured).toEqual({ rate: 20, unit: 'requests', p50: 2, p99: 7 });
    expect(r.baseline).toEqual({ rate: 200, unit: 'requests', p50: 0.3, p99: 2 });
  });

  it('gives no p99 ratio when a burst has no p99', () => {
    const r = roundRatios([
      { measured: burst(10, 2), baseline: burst(20, 1) },
      { measured: burst(10), baseline: burst(20, 1) },
    ]);
    expect(r.p99).toBeUndefined();
    expect(r.rounds[0]!.p99).toBe(2);
    expect(r.rounds[1]!.p99).toBeUndefined();
  });

  it('refuses no rounds', () => {
    expect(() => roundRatios([])).toThrow('no rounds');
  });
});

describe('alternate', () => {
  it('runs the bursts in ABBA order: baseline first in even rounds, the figure first in odd ones', async () => {
    const order: string[] = [];
    let n = 0;
    const rounds = await alternate(4, {
      baseline: async () => (order.push('empty'), `empty ${n++}`),
      measured: async () => (order.push('route'), `route ${n++}`),
    });
    expect(order).toEqual(['empty', 'route', 'route', 'empty', 'empty', 'route', 'route', 'empty']);
    expect(rounds).toEqual([
      { baseline: 'empty 0', measured: 'route 1' },
      { measured: 'route 2', baseline: 'empty 3' },
      { baseline: 'empty 4', measured: 'route 5' },
      { measured: 'route 6', baseline: 'empty 7' },
    ]);
    expect([0, 1, 2, 3].map(baselineFirst)).toEqual([true, false, true, false]);
  });

  it('waits for each burst before the next begins', async () => {
    let running = 0;
    let most = 0;
    const side = async () => {
      most = Math.max(most, ++running);
      await Promise.resolve();
      running--;
      return 0;
    };
    await alternate(3, { baseline: side, measured: side });
    expect(most).toBe(1);
  });
});
