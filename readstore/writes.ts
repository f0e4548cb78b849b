import type { DocumentWrite } from './port.js';

/**
 * Per collection, one write per id: the one applying the writes in order would
 * end with (highest position; on a tie, the earlier write). For adapters that
 * write a batch as a set rather than one write after another.
 */
export function latestWritePerId(writes: readonly DocumentWrite[]): Map<string, Map<string, DocumentWrite>> {
  const byCollection = new Map<string, Map<string, DocumentWrite>>();
  for (const write of writes) {
    let ids = byCollection.get(write.collection);
    if (!ids) byCollection.set(write.collection, (ids = new Map()));
    const previous = ids.get(write.id);
    if (!previous || write.position > previous.position) ids.set(write.id, write);
  }
  return byCollection;
}
