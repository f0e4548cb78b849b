import { describe, expect, it } from 'vitest';
import { CATCH_UP_HOLD, type HoldBounds } from '../projections/index.js';
import { projectionHold } from './platform.js';

describe('the hold a projection runner of the Platform is given', () => {
  const base: HoldBounds = { documents: 200_000, ms: 10_000, headGap: 50_000, recheckMs: 50, now: () => 0 };

  it('is shortened by catchUpStalenessMs, never lengthened', () => {
    expect(projectionHold({ catchUpStalenessMs: 4_000 }, base).ms).toBe(4_000);
    // Readers who wait a minute leave the hold at its own bound, not six times as stale.
    expect(projectionHold({ catchUpStalenessMs: 60_000 }, base).ms).toBe(10_000);
    expect(projectionHold({ catchUpStalenessMs: 0 }, base).ms).toBe(0);
    expect(projectionHold({}, base).ms).toBe(10_000);
    expect(projectionHold({ catchUpStalenessMs: Number.MAX_SAFE_INTEGER }).ms).toBe(CATCH_UP_HOLD.ms);
  });

  it('keeps the rest of its bounds, and hears the port and the processors where it is given them', () => {
    const hear = () => {};
    const gap = () => 7;
    const hold = projectionHold({ hearPort: hear, catchUpStalenessMs: 4_000, processorsGap: gap }, base);
    expect(hold).toEqual({ ...base, ms: 4_000, hear, processorsGap: gap });
    expect(projectionHold({ hearPort: undefined, processorsGap: undefined }, base)).toEqual(base);
    expect('hear' in projectionHold({}, base) || 'processorsGap' in projectionHold({}, base)).toBe(false);
  });
});
