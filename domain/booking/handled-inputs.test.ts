// The compact set of handled input ids answers exactly as a set of strings would.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../bench/feed-generator.js';
import { HandledInputs, packingForTests } from './handled-inputs.js';

const { packUuid, unpackUuid, SMALL_LIMIT } = packingForTests;

function anId(rng: Rng): string {
  const uuid = randomUUID();
  switch (rng.int(0, 5)) {
    case 0:
      return uuid.toUpperCase();
    case 1:
      return `idem-${rng.int(0, 50)}`;
    case 2:
      return uuid.replaceAll('-', '');
    default:
      return uuid;
  }
}

describe('HandledInputs', () => {
  it('packs a canonical UUID losslessly, and nothing else', () => {
    for (const id of [randomUUID(), '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-5fff-bfff-ffffffffffff']) {
      expect(packUuid(id)).toHaveLength(8);
      expect(unpackUuid(packUuid(id)!)).toBe(id);
    }
    for (const id of [randomUUID().toUpperCase(), 'not-a-uuid', '', `${randomUUID()} `, randomUUID().replaceAll('-', '')]) expect(packUuid(id)).toBeNull();
  });

  it('answers as a set of strings does, through growth past the small size (property, 200 runs)', () => {
    const rng = new Rng(14);
    for (let run = 0; run < 200; run++) {
      const pool = Array.from({ length: rng.int(1, 3 * SMALL_LIMIT) }, () => anId(rng));
      let compact = HandledInputs.empty;
      const reference = new Set<string>();
      const versions: Array<[HandledInputs, Set<string>]> = [];
      const steps = rng.int(1, 3 * SMALL_LIMIT);
      for (let step = 0; step < steps; step++) {
        const id = pool[rng.int(0, pool.length - 1)]!;
        compact = compact.add(id);
        reference.add(id);
        versions.push([compact, new Set(reference)]);
      }
      // Every version still answers as it did when it was made: adding copies, never changes.
      for (const [version, expected] of versions) {
        expect(version.size).toBe(expected.size);
        for (const id of pool) expect(version.has(id)).toBe(expected.has(id));
      }
    }
  });

  it('does not take a match straddling two packed ids for an id', () => {
    const a = 'aaaaaaaa-bbbb-5ccc-8ddd-eeeeeeeeeeee';
    const b = '11112222-3333-5444-9555-666677778888';
    // The last four code units of a followed by the first four of b.
    const straddling = unpackUuid(packUuid(a)!.slice(4) + packUuid(b)!.slice(0, 4));
    const set = HandledInputs.empty.add(a).add(b);
    expect(set.has(a) && set.has(b)).toBe(true);
    expect(set.has(straddling)).toBe(false);
  });

  it('adding an id already there returns the same set', () => {
    const set = HandledInputs.empty.add(randomUUID()).add('other');
    expect(set.add('other')).toBe(set);
  });
});
