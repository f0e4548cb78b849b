// Signatures: what makes two differences "the same problem". The path with ids
// and indices stripped, the kind, and the rule that decided, within one
// reconciler. Reports count pairs per signature and keep a few examples.
import type { Difference, DifferenceKind } from './diff.js';

export const SIGNATURE_SEPARATOR = ' | ';

export interface SignatureParts {
  reconciler: string;
  path: string;
  kind: DifferenceKind;
  rule: string;
}

export function signatureOf(reconciler: string, difference: Pick<Difference, 'pathPattern' | 'kind' | 'rule'>): string {
  return [reconciler, difference.pathPattern, difference.kind, difference.rule].join(SIGNATURE_SEPARATOR);
}

export function parseSignature(signature: string): SignatureParts | null {
  const parts = signature.split(SIGNATURE_SEPARATOR);
  if (parts.length !== 4) return null;
  const [reconciler, path, kind, rule] = parts as [string, string, string, string];
  if (kind !== 'CHANGED' && kind !== 'MISSING_IN_PROD' && kind !== 'MISSING_IN_UAT') return null;
  return { reconciler, path, kind, rule };
}

export interface SignatureSummary extends SignatureParts {
  signature: string;
  /** Pairs (correlation IDs) with at least one difference of this signature. */
  pairs: number;
  /** Differences of this signature, over all pairs. */
  occurrences: number;
  /** A few correlation IDs to look at, in the order met. */
  examples: string[];
}

export type SignatureStatus = 'new' | 'accepted' | 'noise';

export interface JudgedDifferences {
  reconciler: string;
  correlationId: string;
  differences: ReadonlyArray<Pick<Difference, 'pathPattern' | 'kind' | 'rule'>>;
}

/** Groups differences by signature; most frequent first, then by signature. */
export function groupSignatures(items: Iterable<JudgedDifferences>, maxExamples = 5): SignatureSummary[] {
  const bySignature = new Map<string, SignatureSummary>();
  for (const item of items) {
    const seenInPair = new Set<string>();
    for (const d of item.differences) {
      const signature = signatureOf(item.reconciler, d);
      let summary = bySignature.get(signature);
      if (!summary) {
        summary = { signature, reconciler: item.reconciler, path: d.pathPattern, kind: d.kind, rule: d.rule, pairs: 0, occurrences: 0, examples: [] };
        bySignature.set(signature, summary);
      }
      summary.occurrences++;
      if (!seenInPair.has(signature)) {
        seenInPair.add(signature);
        summary.pairs++;
        if (summary.examples.length < maxExamples) summary.examples.push(item.correlationId);
      }
    }
  }
  return sortSignatures([...bySignature.values()]);
}

export function sortSignatures<T extends { signature: string; pairs: number }>(summaries: T[]): T[] {
  return summaries.sort((a, b) => b.pairs - a.pairs || (a.signature < b.signature ? -1 : a.signature > b.signature ? 1 : 0));
}

/** Accepted signatures (the known-difference ledger) win over noise; everything else is new. */
export function classifySignature(signature: string, accepted: ReadonlySet<string>, noise: ReadonlySet<string>): SignatureStatus {
  if (accepted.has(signature)) return 'accepted';
  if (noise.has(signature)) return 'noise';
  return 'new';
}
