import { hash as digest } from 'node:crypto';

/** The RFC 4122 variant's nibble (10xx) for each value of the hash's nibble in that place. */
const VARIANT_NIBBLE = '89ab89ab89ab89ab';

/**
 * Where each of the 36 characters of the id comes from: a character of the hash's 40 hex digits,
 * or DASH, VERSION ('5') or VARIANT (the hash's 17th digit, mapped by VARIANT_NIBBLE).
 */
const DASH = -1;
const VERSION = -2;
const VARIANT = -3;
const LAYOUT = Int8Array.from([
  ...[0, 1, 2, 3, 4, 5, 6, 7],
  DASH,
  ...[8, 9, 10, 11],
  DASH,
  VERSION,
  ...[13, 14, 15],
  DASH,
  VARIANT,
  ...[17, 18, 19],
  DASH,
  ...[20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31],
]);

/** The id is written here and read out as one string (one per isolate: nothing else writes it in between). */
const ID = Buffer.alloc(LAYOUT.length);

/**
 * A name-based (version 5 layout) UUID. Kepler derives event ids from what
 * caused the event, so a retried write carries the same ids; idempotency still
 * never depends on the store deduplicating them.
 */
export function deterministicId(...parts: ReadonlyArray<string | number>): string {
  // The one-shot digest straight to hex: no Hash object and no Buffer per id, which matters at one id per event.
  // One part (an event's stream, as for every line of a feed) is its own name: no join.
  const name = parts.length === 1 ? String(parts[0]) : parts.join('\u001f');
  const hex = digest('sha1', name, 'hex');
  // Laid out character by character into one buffer, read as one string: five slices and a
  // template of eleven pieces allocated about 420 bytes an id (360 more than this), at one id
  // for every event decided and every line ingested.
  for (let i = 0; i < LAYOUT.length; i++) {
    const from = LAYOUT[i]!;
    ID[i] = from >= 0 ? hex.charCodeAt(from) : from === DASH ? 0x2d : from === VERSION ? 0x35 : VARIANT_NIBBLE.charCodeAt(Number.parseInt(hex[16]!, 16));
  }
  return ID.toString('latin1', 0, LAYOUT.length);
}
