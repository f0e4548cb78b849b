// The compact map of standing allocations answers exactly as a map would.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../bench/feed-generator.js';
import type { StandingAllocation } from './state.js';
import { STANDING_ALLOCATIONS_SMALL_LIMIT as SMALL_LIMIT, StandingAllocations } from './standing-allocations.js';

function allocation(rng: Rng): StandingAllocation {
  return { account: `ACC-${rng.int(1, 9)}`, quantity: rng.int(0, 1000), provenance: { source: 'ALLOC', sourceSequence: rng.int(1, 99), position: rng.int(1, 999) }, highestSequence: {} };
}

describe('StandingAllocations', () => {
  it('answers as a map does, through growth past the small size, and setting never changes a version already made (property, 200 runs)', () => {
    const rng = new Rng(15);
    for (let run = 0; run < 200; run++) {
      const ids = Array.from({ length: rng.int(1, 3 * SMALL_LIMIT) }, (_, i) => `A${i}`);
      let compact = StandingAllocations.empty;
      const reference = new Map<string, StandingAllocation>();
      const versions: Array<[StandingAllocations, Map<string, StandingAllocation>]> = [];
      const steps = rng.int(1, 4 * SMALL_LIMIT);
      for (let step = 0; step < steps; step++) {
        const id = ids[rng.int(0, ids.length - 1)]!;
        const value = allocation(rng);
        compact = compact.set(id, value);
        reference.set(id, value);
        versions.push([compact, new Map(reference)]);
      }
      for (const [version, expected] of versions) {
        expect(version.size).toBe(expected.size);
        for (const id of ids) expect(version.get(id)).toBe(expected.get(id));
        expect(new Map(version)).toEqual(expected);
        expect(new Set(version.values())).toEqual(new Set(expected.values()));
      }
    }
  });
});
