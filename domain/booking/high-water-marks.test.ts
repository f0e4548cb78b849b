// A standing record keeps its feeds' high-water marks only when its provenance does not say them:
// `highestSequence` must read exactly as when every record carried its own marks.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../bench/feed-generator.js';
import type { Source } from '../values.js';
import type { BookingEvent, Provenance } from './events.js';
import { evolve, initialBookingState } from './state.js';

const SOURCES: readonly Source[] = ['ALLOC', 'CUSTODY', 'CORE', 'API'];

/** The marks as they were kept before: every record its own object, whatever it says. */
function heard(highest: Readonly<Record<string, number>> | undefined, provenance: Provenance): Readonly<Record<string, number>> {
  if (provenance.source === 'API') return highest ?? {};
  return { ...highest, [provenance.source]: Math.max(highest?.[provenance.source] ?? 0, provenance.sourceSequence) };
}

describe('high-water marks of standing records (property, 300 random histories)', () => {
  it('read the same as marks kept on every record', () => {
    const rng = new Rng(16);
    for (let run = 0; run < 300; run++) {
      let state = initialBookingState;
      const expected = new Map<string | null, Readonly<Record<string, number>>>();
      const base = { tradeRef: 'TR-1' };
      const steps = rng.int(1, 40);
      for (let step = 0; step < steps; step++) {
        // Sequences of 0 and below too: a new record's marks are its provenance's own only from 0 up
        // (heard() keeps the highest of 0 and the sequence), which evolve's shortcut for them must respect.
        const provenance: Provenance = { source: SOURCES[rng.int(0, SOURCES.length - 1)]!, sourceSequence: rng.int(-2, 30), position: step + 1 };
        const allocationId = rng.chance(0.3) ? null : `A${rng.int(1, 3)}`;
        const inputId = `in-${run}-${step}`;
        const standing = allocationId === null ? state.confirmation : state.allocations.get(allocationId);
        let event: BookingEvent;
        if (standing && rng.chance(0.4)) {
          // Outranked: the standing record stays, only the marks move.
          event = { ...base, inputId, type: 'FeedRecordOutranked', allocationId, provenance };
          expected.set(allocationId, heard(expected.get(allocationId), provenance));
        } else {
          event =
            allocationId === null
              ? { ...base, inputId, type: 'ConfirmationNoted', status: 'AFFIRMED', quantity: 10, price: '1', reason: '', provenance }
              : { ...base, inputId, type: 'AllocationNoted', allocationId, account: 'ACC-1', quantity: rng.int(0, 10), provenance };
          expected.set(allocationId, heard(expected.get(allocationId), provenance));
        }
        state = evolve(state, event);
        for (const [id, marks] of expected) {
          const record = id === null ? state.confirmation : state.allocations.get(id);
          expect(record?.highestSequence).toEqual(marks);
        }
      }
    }
  });
});
