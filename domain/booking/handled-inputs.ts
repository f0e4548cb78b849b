import { Set as PersistentSet } from 'immutable';

/**
 * The ids of the inputs a booking has handled: what makes a redelivered input a no-op.
 *
 * The booking process manager keeps the state of every booking it may see again (hundreds of
 * thousands of them while a day's files catch up), and a booking has handled a handful of inputs:
 * a persistent set of their UUID strings cost about 920 bytes a booking, more than a third of its
 * state. While small, the set is one string holding each canonical (lowercase) UUID as its 16
 * bytes, eight UTF-16 code units each; ids of any other shape are kept as they are beside it.
 * Past SMALL_LIMIT ids (a block trade has thousands of allocations, each an input) it becomes a
 * persistent set again, so that adding and looking up cost the same whatever the size.
 *
 * It is a set of strings like any other: an id is handled exactly when that same string was
 * added. A value: adding returns a new set and leaves this one as it was.
 */
export class HandledInputs {
  static readonly empty = new HandledInputs('', [], null);

  private constructor(
    /** The canonical UUIDs among the ids, PACKED_LENGTH code units each, in the order added. */
    private readonly packed: string,
    /** The ids that are not canonical UUIDs. */
    private readonly others: readonly string[],
    /** Every id, once there are more than SMALL_LIMIT (then `packed` and `others` are empty). */
    private readonly large: PersistentSet<string> | null,
  ) {}

  get size(): number {
    return this.large ? this.large.size : this.packed.length / PACKED_LENGTH + this.others.length;
  }

  has(id: string): boolean {
    if (this.large) return this.large.has(id);
    const key = packUuid(id);
    if (key === null) return this.others.includes(id);
    // A match must start on an id's boundary: one straddling two ids is not one of them.
    for (let at = this.packed.indexOf(key); at !== -1; at = this.packed.indexOf(key, at + 1)) {
      if (at % PACKED_LENGTH === 0) return true;
    }
    return false;
  }

  add(id: string): HandledInputs {
    if (this.has(id)) return this;
    if (this.large) return new HandledInputs('', [], this.large.add(id));
    if (this.size >= SMALL_LIMIT) return new HandledInputs('', [], PersistentSet<string>().withMutations((all) => this.addEachTo(all).add(id)));
    const key = packUuid(id);
    return key === null ? new HandledInputs(this.packed, [...this.others, id], null) : new HandledInputs(this.packed + key, this.others, null);
  }

  private addEachTo(all: PersistentSet<string>): PersistentSet<string> {
    for (let at = 0; at < this.packed.length; at += PACKED_LENGTH) all.add(unpackUuid(this.packed.slice(at, at + PACKED_LENGTH)));
    for (const id of this.others) all.add(id);
    return all;
  }
}

/** Past this many ids, adding to the packed string (a copy each time) and scanning it would grow with the size. */
const SMALL_LIMIT = 64;
const PACKED_LENGTH = 8;
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The UUID's 16 bytes as eight code units, or null when the id is not a canonical UUID. */
function packUuid(id: string): string | null {
  if (id.length !== 36 || !CANONICAL_UUID.test(id)) return null;
  const hex = (at: number) => Number.parseInt(id.slice(at, at + 4), 16);
  return String.fromCharCode(hex(0), hex(4), hex(9), hex(14), hex(19), hex(24), hex(28), hex(32));
}

function unpackUuid(key: string): string {
  let hex = '';
  for (let i = 0; i < PACKED_LENGTH; i++) hex += key.charCodeAt(i).toString(16).padStart(4, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** For tests: the packing is lossless. */
export const packingForTests = { packUuid, unpackUuid, SMALL_LIMIT };
