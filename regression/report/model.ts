// What a report shows, gathered from a run's stores: one model rendered as
// HTML, JSON and JUnit XML, and gated for CI.
import { existsSync } from 'node:fs';
import { formatChecksum, type SetChecksum } from '../hash.js';
import { acceptedAt, type AcceptedSignature, type Ledger } from '../ledger.js';
import { classifySignature, sortSignatures, type SignatureStatus } from '../signature.js';
import { RunStore, ShardStore, type Invocation, type PairDetail } from '../store.js';
import { AGREEING, VERDICTS, type Verdict } from '../verdict.js';

export type FailOn = 'new' | 'any' | 'none';
export const FAIL_ON: readonly FailOn[] = ['new', 'any', 'none'];

export interface ReportSignature {
  signature: string;
  reconciler: string;
  path: string;
  kind: string;
  rule: string;
  pairs: number;
  occurrences: number;
  examples: string[];
  status: SignatureStatus;
  accepted?: AcceptedSignature;
}

export interface ReportPair extends PairDetail {
  /** The signatures of its differences and their status. */
  signatures: Array<{ signature: string; status: SignatureStatus }>;
}

export interface ChecksumSummary {
  reconciler: string;
  partitions: number;
  matching: number;
  prodIds: number;
  uatIds: number;
  mismatching: Array<{ partition: number; prod: string; uat: string }>;
}

export interface ReportModel {
  title: string;
  generatedAt: string;
  run: {
    dir: string;
    id: string;
    createdAt: string;
    prod: { label: string; source: string };
    uat: { label: string; source: string };
    partitions: number;
    shards: number;
    reconcilers: Array<{ name: string; version: string }>;
    invocations: Invocation[];
  };
  totals: { pairs: number; byVerdict: Record<Verdict, number> };
  byReconciler: Array<{ reconciler: string; version: string | null; pairs: number; byVerdict: Record<Verdict, number> }>;
  checksums: ChecksumSummary[];
  signatures: ReportSignature[];
  signatureCounts: Record<SignatureStatus, number>;
  timeline: { bucketMs: number; buckets: Array<{ at: number; counts: Partial<Record<Verdict, number>> }> };
  pairs: ReportPair[];
  /** Non-agreeing pairs left out of `pairs` (the drill-down is bounded). */
  pairsOmitted: number;
  ledger: { path: string | null; accepted: number };
  noise: { learned: number; baselineDir: string | null };
  gate: { failOn: FailOn; failed: boolean; reason: string };
}

export interface ReportOptions {
  ledger?: Ledger;
  ledgerPath?: string | null;
  /** Noise signatures learned from a baseline run (read from run.db when absent). */
  noise?: ReadonlySet<string>;
  baselineDir?: string | null;
  failOn?: FailOn;
  /** Most pairs in the drill-down (default 500). */
  maxPairs?: number;
  examples?: number;
  title?: string;
  now?: Date;
}

const zeroCounts = (): Record<Verdict, number> => Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;

/** Reads a run (while it runs, too: SQLite readers do not block the writers). */
export function buildReport(runDir: string, options: ReportOptions = {}): ReportModel {
  if (!RunStore.exists(runDir)) throw new Error(`${runDir}: no regression run there`);
  const run = RunStore.open(runDir, { readonly: true });
  const shards: ShardStore[] = [];
  try {
    const meta = run.meta();
    if (!meta) throw new Error(`${runDir}: the run was never initialised`);
    for (let s = 0; s < meta.shards; s++) if (existsSync(run.shardPath(s))) shards.push(ShardStore.open(run.shardPath(s), { readonly: true }));

    const accepted = acceptedAt(options.ledger ?? { version: 1, accepted: [] }, options.now);
    const noise = options.noise ?? new Set(run.noise().map((n) => n.signature));
    const acceptedSet = new Set(accepted.keys());
    const examples = options.examples ?? 5;

    // Verdict counts.
    const totals = { pairs: 0, byVerdict: zeroCounts() };
    const perReconciler = new Map<string, { pairs: number; byVerdict: Record<Verdict, number> }>();
    for (const shard of shards) {
      for (const { reconciler, verdict, count } of shard.verdictCounts()) {
        const entry = perReconciler.get(reconciler) ?? { pairs: 0, byVerdict: zeroCounts() };
        entry.pairs += count;
        entry.byVerdict[verdict] += count;
        perReconciler.set(reconciler, entry);
        totals.pairs += count;
        totals.byVerdict[verdict] += count;
      }
    }
    const versions = run.reconcilerVersions();

    // Signatures, merged over shards.
    const bySignature = new Map<string, ReportSignature>();
    for (const shard of shards) {
      for (const s of shard.signatures(examples)) {
        const existing = bySignature.get(s.signature);
        if (existing) {
          existing.pairs += s.pairs;
          existing.occurrences += s.occurrences;
          existing.examples = [...existing.examples, ...s.examples].sort().slice(0, examples);
        } else {
          const status = classifySignature(s.signature, acceptedSet, noise);
          const entry: ReportSignature = { ...s, status };
          const acceptance = accepted.get(s.signature);
          if (acceptance) entry.accepted = acceptance;
          bySignature.set(s.signature, entry);
        }
      }
    }
    const statusOrder: Record<SignatureStatus, number> = { new: 0, noise: 1, accepted: 2 };
    const signatures = sortSignatures([...bySignature.values()]).sort((a, b) => statusOrder[a.status] - statusOrder[b.status]);
    const signatureCounts: Record<SignatureStatus, number> = { new: 0, accepted: 0, noise: 0 };
    for (const s of signatures) signatureCounts[s.status]++;
    const statusOf = (signature: string): SignatureStatus => bySignature.get(signature)?.status ?? classifySignature(signature, acceptedSet, noise);

    // Checksums: per reconciler and partition, PROD against UAT.
    const checksumParts = new Map<string, Map<number, { prod?: SetChecksum; uat?: SetChecksum }>>();
    for (const shard of shards) {
      for (const c of shard.checksums()) {
        const byPartition = checksumParts.get(c.reconciler) ?? new Map<number, { prod?: SetChecksum; uat?: SetChecksum }>();
        const entry = byPartition.get(c.partition) ?? {};
        entry[c.side] = { count: c.count, sumA: c.sumA, sumB: c.sumB };
        byPartition.set(c.partition, entry);
        checksumParts.set(c.reconciler, byPartition);
      }
    }
    const empty: SetChecksum = { count: 0, sumA: 0, sumB: 0 };
    const checksums: ChecksumSummary[] = [...checksumParts.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([reconciler, byPartition]) => {
        const summary: ChecksumSummary = { reconciler, partitions: meta.partitions, matching: 0, prodIds: 0, uatIds: 0, mismatching: [] };
        for (let p = 0; p < meta.partitions; p++) {
          const entry = byPartition.get(p) ?? {};
          const prod = formatChecksum(entry.prod ?? empty);
          const uat = formatChecksum(entry.uat ?? empty);
          summary.prodIds += entry.prod?.count ?? 0;
          summary.uatIds += entry.uat?.count ?? 0;
          if (prod === uat) summary.matching++;
          else summary.mismatching.push({ partition: p, prod, uat });
        }
        return summary;
      });

    // Verdicts over time.
    let from = Infinity;
    let to = -Infinity;
    for (const shard of shards) {
      const b = shard.timelineBounds();
      if (b.from !== null) from = Math.min(from, b.from);
      if (b.to !== null) to = Math.max(to, b.to);
    }
    const timeline: ReportModel['timeline'] = { bucketMs: 1000, buckets: [] };
    if (Number.isFinite(from)) {
      const nice = [100, 250, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000, 300_000, 600_000, 1_800_000, 3_600_000, 21_600_000, 86_400_000];
      const bucketMs = nice.find((n) => (to - from) / n <= 60) ?? 86_400_000;
      const buckets = new Map<number, Partial<Record<Verdict, number>>>();
      for (const shard of shards) {
        for (const row of shard.timeline(bucketMs)) {
          const at = Math.floor(row.bucket) * bucketMs;
          const counts = buckets.get(at) ?? {};
          counts[row.verdict] = (counts[row.verdict] ?? 0) + row.count;
          buckets.set(at, counts);
        }
      }
      timeline.bucketMs = bucketMs;
      timeline.buckets = [...buckets.entries()].sort(([a], [b]) => a - b).map(([at, counts]) => ({ at, counts }));
    }

    // Drill-down: every signature's examples first, then other disagreeing pairs.
    const maxPairs = options.maxPairs ?? 500;
    const wanted: Array<{ reconciler: string; cid: string }> = [];
    const wantedKeys = new Set<string>();
    const want = (reconciler: string, cid: string) => {
      const key = `${reconciler}\u0000${cid}`;
      if (wantedKeys.has(key) || wanted.length >= maxPairs) return;
      wantedKeys.add(key);
      wanted.push({ reconciler, cid });
    };
    for (const s of signatures) for (const cid of s.examples) want(s.reconciler, cid);
    const disagreeing = VERDICTS.filter((v) => v !== 'PENDING' && !AGREEING.has(v));
    let disagreeingTotal = 0;
    for (const v of disagreeing) disagreeingTotal += totals.byVerdict[v];
    for (const shard of shards) {
      if (wanted.length >= maxPairs) break;
      for (const row of shard.verdicts({ verdicts: disagreeing, limit: maxPairs })) want(row.reconciler, row.correlationId);
    }
    const pairs: ReportPair[] = [];
    for (const { reconciler, cid } of wanted) {
      for (const shard of shards) {
        const detail = shard.pairDetail(reconciler, cid);
        if (!detail) continue;
        const signatures = [...new Set(detail.differences.map((d) => d.signature))].map((signature) => ({ signature, status: statusOf(signature) }));
        pairs.push({ ...detail, signatures });
        break;
      }
    }
    pairs.sort((a, b) => (a.reconciler < b.reconciler ? -1 : a.reconciler > b.reconciler ? 1 : a.correlationId < b.correlationId ? -1 : a.correlationId > b.correlationId ? 1 : 0));

    const model: ReportModel = {
      title: options.title ?? `Regression: ${meta.prodLabel} against ${meta.uatLabel}`,
      generatedAt: (options.now ?? new Date()).toISOString(),
      run: {
        dir: runDir,
        id: meta.id,
        createdAt: meta.createdAt,
        prod: { label: meta.prodLabel, source: meta.prodSource },
        uat: { label: meta.uatLabel, source: meta.uatSource },
        partitions: meta.partitions,
        shards: meta.shards,
        reconcilers: [...versions.entries()].map(([name, v]) => ({ name, version: v.version })).sort((a, b) => (a.name < b.name ? -1 : 1)),
        invocations: run.invocations(),
      },
      totals,
      byReconciler: [...perReconciler.entries()]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([reconciler, e]) => ({ reconciler, version: versions.get(reconciler)?.version ?? null, pairs: e.pairs, byVerdict: e.byVerdict })),
      checksums,
      signatures,
      signatureCounts,
      timeline,
      pairs,
      pairsOmitted: Math.max(0, disagreeingTotal - pairs.filter((p) => !AGREEING.has(p.verdict) && p.verdict !== 'PENDING').length),
      ledger: { path: options.ledgerPath ?? null, accepted: accepted.size },
      noise: { learned: noise.size, baselineDir: options.baselineDir ?? null },
      gate: { failOn: options.failOn ?? 'new', failed: false, reason: '' },
    };
    model.gate = evaluateGate(model, options.failOn ?? 'new');
    return model;
  } finally {
    for (const shard of shards) shard.close();
    run.close();
  }
}

/** The CI gate: `new` fails on any signature neither accepted nor noise; `any` on any disagreement; `none` never. */
export function evaluateGate(model: Pick<ReportModel, 'totals' | 'signatures' | 'signatureCounts'>, failOn: FailOn): ReportModel['gate'] {
  if (failOn === 'none') return { failOn, failed: false, reason: 'the gate is off (--fail-on none)' };
  if (failOn === 'any') {
    const disagreeing = VERDICTS.filter((v) => v !== 'PENDING' && !AGREEING.has(v)).reduce((n, v) => n + model.totals.byVerdict[v], 0);
    return disagreeing > 0
      ? { failOn, failed: true, reason: `${disagreeing} pair(s) disagree (--fail-on any)` }
      : { failOn, failed: false, reason: 'every judged pair agrees' };
  }
  const fresh = model.signatures.filter((s) => s.status === 'new');
  return fresh.length > 0
    ? { failOn, failed: true, reason: `${fresh.length} new signature(s) in ${fresh.reduce((n, s) => n + s.pairs, 0)} pair(s) (--fail-on new)` }
    : { failOn, failed: false, reason: `no new signatures (${model.signatureCounts.accepted} accepted, ${model.signatureCounts.noise} noise)` };
}
