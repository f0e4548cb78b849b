/**
 * Work shared between several processes of one role: each takes the trade
 * references (or read-model keys) whose hash falls in its partition, and keeps a
 * checkpoint of its own. Everything of one key stays in one process, in order.
 */
export interface Partition {
  index: number;
  count: number;
}

export const WHOLE: Partition = { index: 0, count: 1 };

export function parsePartition(text: string): Partition {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = match ? Number(match[1]) : NaN;
  const count = match ? Number(match[2]) : NaN;
  if (!match || count < 1 || index >= count) throw new Error(`a partition is i/n with 0 <= i < n, not "${text}"`);
  return { index, count };
}

export function owns(partition: Partition, key: string): boolean {
  return partition.count === 1 || fnv1a(key) % partition.count === partition.index;
}

/** The checkpoint name of one partition of a follower; the whole keeps the plain name. */
export function partitionedName(name: string, partition: Partition): string {
  return partition.count === 1 ? name : `${name}#${partition.index}of${partition.count}`;
}

/** FNV-1a, 32 bits: stable across processes and versions, and cheap. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
