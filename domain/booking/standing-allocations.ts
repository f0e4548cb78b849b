import { Map as PersistentMap } from 'immutable';
import type { StandingAllocation } from './state.js';

/**
 * The standing allocations of a booking, by allocation id: a map that is a value (setting returns
 * a new one and leaves this one as it was).
 *
 * Most trades have one to a few allocations, and the booking process manager keeps hundreds of
 * thousands of bookings in memory while a day's files catch up: a persistent map of two
 * allocations cost about 280 bytes more a booking than one array of ids and allocations side by
 * side. So while there are at most SMALL_LIMIT allocations they are that array, copied on each
 * change (as cheap as a persistent map's update at that size); past it (a block trade has
 * thousands) a persistent map, so that changing one costs the same whatever their number.
 */
export class StandingAllocations implements Iterable<[string, StandingAllocation]> {
  static readonly empty = new StandingAllocations([], null);

  private constructor(
    /** Allocation id, its allocation, allocation id, its allocation, … in the order first set. */
    private readonly pairs: ReadonlyArray<string | StandingAllocation>,
    /** Every allocation, once there are more than SMALL_LIMIT (then `pairs` is empty). */
    private readonly large: PersistentMap<string, StandingAllocation> | null,
  ) {}

  get size(): number {
    return this.large ? this.large.size : this.pairs.length / 2;
  }

  get(allocationId: string): StandingAllocation | undefined {
    if (this.large) return this.large.get(allocationId);
    const at = this.indexOf(allocationId);
    return at === -1 ? undefined : (this.pairs[at + 1] as StandingAllocation);
  }

  set(allocationId: string, allocation: StandingAllocation): StandingAllocations {
    if (this.large) return new StandingAllocations([], this.large.set(allocationId, allocation));
    const at = this.indexOf(allocationId);
    if (at !== -1) {
      const pairs = this.pairs.slice();
      pairs[at + 1] = allocation;
      return new StandingAllocations(pairs, null);
    }
    // concat, not [...this.pairs, allocationId, allocation]: a spread grows its array as it goes and keeps
    // room for about 20 entries (160 bytes) where these need two more.
    if (this.size < SMALL_LIMIT) return new StandingAllocations(this.pairs.concat(allocationId, allocation), null);
    const large = PersistentMap<string, StandingAllocation>().withMutations((all) => {
      for (const [id, standing] of this) all.set(id, standing);
      all.set(allocationId, allocation);
    });
    return new StandingAllocations([], large);
  }

  *[Symbol.iterator](): IterableIterator<[string, StandingAllocation]> {
    if (this.large) {
      yield* this.large.entries();
      return;
    }
    for (let at = 0; at < this.pairs.length; at += 2) yield [this.pairs[at] as string, this.pairs[at + 1] as StandingAllocation];
  }

  *values(): IterableIterator<StandingAllocation> {
    for (const [, allocation] of this) yield allocation;
  }

  private indexOf(allocationId: string): number {
    for (let at = 0; at < this.pairs.length; at += 2) if (this.pairs[at] === allocationId) return at;
    return -1;
  }
}

/** Past this many, a copy of the array on each change and a scan for each lookup would grow with the number. */
const SMALL_LIMIT = 16;

/** For tests. */
export const STANDING_ALLOCATIONS_SMALL_LIMIT = SMALL_LIMIT;
