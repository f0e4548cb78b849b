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
    // A new booking's set (every capture's): nothing to pack the id for.
    if (this.packed === '' && this.others.length === 0) return false;
    const key = packUuid(id);
    return key === null ? this.others.includes(id) : this.hasPacked(key);
  }

  add(id: string): HandledInputs {
    if (this.large) {
      const large = this.large.add(id);
      return large === this.large ? this : new HandledInputs('', [], large);
    }
    const key = packUuid(id);
    // The first id: the packed key is already the flat string that joining it to nothing would copy.
    if (this.packed === '' && this.others.length === 0) return key === null ? new HandledInputs('', [id], null) : new HandledInputs(key, this.others, null);
    if (key === null ? this.others.includes(id) : this.hasPacked(key)) return this;
    if (this.size >= SMALL_LIMIT) return new HandledInputs('', [], PersistentSet<string>().withMutations((all) => this.addEachTo(all).add(id)));
    return key === null ? new HandledInputs(this.packed, [...this.others, id], null) : new HandledInputs(flatConcat(this.packed, key), this.others, null);
  }

  private hasPacked(key: string): boolean {
    // A match must start on an id's boundary: one straddling two ids is not one of them.
    for (let at = this.packed.indexOf(key); at !== -1; at = this.packed.indexOf(key, at + 1)) {
      if (at % PACKED_LENGTH === 0) return true;
    }
    return false;
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

/**
 * The UUID's 16 bytes as eight code units, or null when the id is not a canonical (lowercase)
 * UUID. By hand rather than with a regular expression and parseInt: it runs for every input.
 */
function packUuid(id: string): string | null {
  if (id.length !== 36 || id.charCodeAt(8) !== HYPHEN || id.charCodeAt(13) !== HYPHEN || id.charCodeAt(18) !== HYPHEN || id.charCodeAt(23) !== HYPHEN) return null;
  // Each group as a local, not an array of eight filled in a loop: this runs twice for every input a booking handles.
  const u0 = unitAt(id, 0);
  const u1 = unitAt(id, 4);
  const u2 = unitAt(id, 9);
  const u3 = unitAt(id, 14);
  const u4 = unitAt(id, 19);
  const u5 = unitAt(id, 24);
  const u6 = unitAt(id, 28);
  const u7 = unitAt(id, 32);
  if ((u0 | u1 | u2 | u3 | u4 | u5 | u6 | u7) < 0) return null;
  return String.fromCharCode(u0, u1, u2, u3, u4, u5, u6, u7);
}

/** The four hex digits from `at` as one code unit, or -1 when one of them is not a lowercase hex digit. */
function unitAt(id: string, at: number): number {
  const a = hexDigit(id.charCodeAt(at));
  const b = hexDigit(id.charCodeAt(at + 1));
  const c = hexDigit(id.charCodeAt(at + 2));
  const d = hexDigit(id.charCodeAt(at + 3));
  return (a | b | c | d) < 0 ? -1 : (a << 12) | (b << 8) | (c << 4) | d;
}

const HYPHEN = 0x2d;

/** 0–15 for a lowercase hex digit, -1 for anything else. */
function hexDigit(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x66) return code - 0x61 + 10;
  return -1;
}

/**
 * The two strings as one flat string. `a + b` makes a rope pointing at both, and a rope of ropes
 * kept in a state holds every piece apart (measured: 2.8 ropes and as many 8-unit pieces per
 * booking, about 140 bytes); joining copies them into one.
 */
function flatConcat(a: string, b: string): string {
  return [a, b].join('');
}

function unpackUuid(key: string): string {
  let hex = '';
  for (let i = 0; i < PACKED_LENGTH; i++) hex += key.charCodeAt(i).toString(16).padStart(4, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** For tests: the packing is lossless. */
export const packingForTests = { packUuid, unpackUuid, SMALL_LIMIT };
