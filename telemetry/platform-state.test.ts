// The recount policy of the platform-state figures: exact at rest, bounded in
// cost while a read model moves, whatever the scrape interval.
import { describe, expect, it } from 'vitest';
import { PositionCache, RECOUNT_COST_FACTOR, RECOUNT_WHILE_CATCHING_UP_MS, RECOUNT_WHILE_MOVING_MS } from './platform-state.js';

function cacheWithClock() {
  let now = 0;
  let counts = 0;
  /** A count that takes `tookMs` and answers how many counts were made. */
  const count = (tookMs = 1) => async () => {
    now += tookMs;
    return ++counts;
  };
  return { cache: new PositionCache<number>(() => now), count, advance: (ms: number) => (now += ms) };
}

describe('platform-state counts', () => {
  it('are kept while the read model stands still, and counted again once it moved and stands still', async () => {
    const { cache, count, advance } = cacheWithClock();
    expect(await cache.get({ position: 10, atHead: true }, count())).toBe(1);
    advance(10);
    expect(await cache.get({ position: 10, atHead: true }, count())).toBe(1);
    // Moved, and found again where it was: at rest, so exact at once.
    expect(await cache.get({ position: 12, atHead: true }, count())).toBe(1);
    expect(await cache.get({ position: 12, atHead: true }, count())).toBe(2);
  });

  it('at the head while it keeps moving: counted again at most every second, and no sooner than 100 times the last count took', async () => {
    const { cache, count, advance } = cacheWithClock();
    expect(await cache.get({ position: 1, atHead: true }, count(100))).toBe(1);
    let position = 1;
    const seen: number[] = [];
    for (let i = 0; i < 20; i++) {
      advance(500);
      seen.push(await cache.get({ position: ++position, atHead: true }, count(100)));
    }
    // 100 ms a count, so at most one per 10 s (RECOUNT_COST_FACTOR × 100 ms) in the 10 s after the first.
    expect(Math.max(...seen)).toBeLessThanOrEqual(1 + (20 * 500) / (RECOUNT_COST_FACTOR * 100) + 1);
    const fast = cacheWithClock();
    await fast.cache.get({ position: 1, atHead: true }, fast.count(1));
    fast.advance(RECOUNT_WHILE_MOVING_MS / 2);
    expect(await fast.cache.get({ position: 2, atHead: true }, fast.count(1))).toBe(1);
    fast.advance(RECOUNT_WHILE_MOVING_MS);
    expect(await fast.cache.get({ position: 3, atHead: true }, fast.count(1))).toBe(2);
  });

  it(`behind the head: counted again at most every ${RECOUNT_WHILE_CATCHING_UP_MS / 1000} s, exact once at the head and still`, async () => {
    const { cache, count, advance } = cacheWithClock();
    expect(await cache.get({ position: 1, atHead: false }, count())).toBe(1);
    advance(RECOUNT_WHILE_CATCHING_UP_MS - 10);
    expect(await cache.get({ position: 5, atHead: false }, count())).toBe(1);
    advance(20);
    expect(await cache.get({ position: 9, atHead: false }, count())).toBe(2);
    expect(await cache.get({ position: 20, atHead: true }, count())).toBe(2);
    expect(await cache.get({ position: 20, atHead: true }, count())).toBe(3);
  });

  it('without a position to key on, are counted every time', async () => {
    const { cache, count } = cacheWithClock();
    expect(await cache.get(undefined, count())).toBe(1);
    expect(await cache.get(undefined, count())).toBe(2);
  });
});
