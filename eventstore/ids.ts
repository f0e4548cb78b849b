import { hash as digest } from 'node:crypto';

/**
 * A name-based (version 5 layout) UUID. Kepler derives event ids from what
 * caused the event, so a retried write carries the same ids; idempotency still
 * never depends on the store deduplicating them.
 */
export function deterministicId(...parts: ReadonlyArray<string | number>): string {
  // The one-shot digest: no Hash object per id, which matters at one id per event.
  const hash = digest('sha1', parts.join('\u001f'), 'buffer');
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
