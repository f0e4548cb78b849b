import { hash as digest } from 'node:crypto';

const VARIANT_NIBBLE = '89ab89ab89ab89ab';

/**
 * A name-based (version 5 layout) UUID. Kepler derives event ids from what
 * caused the event, so a retried write carries the same ids; idempotency still
 * never depends on the store deduplicating them.
 */
export function deterministicId(...parts: ReadonlyArray<string | number>): string {
  // The one-shot digest straight to hex: no Hash object and no Buffer per id, which matters at one id per event.
  const hex = digest('sha1', parts.join('\u001f'), 'hex');
  const variant = VARIANT_NIBBLE[Number.parseInt(hex[16]!, 16)]!;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
