// Hashing for partitions and checksums: fast, stable across processes and
// versions (FNV-1a over UTF-16 code units), never cryptographic.

export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // Final avalanche, so that similar keys spread over partitions.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function partitionOf(correlationId: string, partitions: number): number {
  return fnv1a(correlationId) % partitions;
}

/**
 * An order-independent checksum of a set of correlation IDs: count and two
 * 32-bit sums of independent hashes. Two sides hold the same IDs (with
 * overwhelming likelihood) exactly when their checksums are equal.
 */
export interface SetChecksum {
  count: number;
  sumA: number;
  sumB: number;
}

export const EMPTY_CHECKSUM: SetChecksum = { count: 0, sumA: 0, sumB: 0 };

export function addToChecksum(checksum: SetChecksum, correlationId: string): SetChecksum {
  return {
    count: checksum.count + 1,
    sumA: (checksum.sumA + fnv1a(correlationId, 0x811c9dc5)) >>> 0,
    sumB: (checksum.sumB + fnv1a(correlationId, 0x050c5d1f)) >>> 0,
  };
}

export function combineChecksums(a: SetChecksum, b: SetChecksum): SetChecksum {
  return { count: a.count + b.count, sumA: (a.sumA + b.sumA) >>> 0, sumB: (a.sumB + b.sumB) >>> 0 };
}

export function formatChecksum(c: SetChecksum): string {
  return `${c.count}:${c.sumA.toString(16).padStart(8, '0')}${c.sumB.toString(16).padStart(8, '0')}`;
}
