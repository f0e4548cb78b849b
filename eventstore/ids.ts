import { hash as digest } from 'node:crypto';

const VARIANT_NIBBLE = '89ab89ab89ab89ab';

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
  const variant = VARIANT_NIBBLE[Number.parseInt(hex[16]!, 16)]!;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
