// The pipeline at a glance: what each environment runs and holds in its slots,
// its latest promotion, its freeze and pin, and the candidates. describePipeline
// is pure; status() syncs, reconciles and reads what it describes.
import type { ReleaseContext } from './context.js';
import { environmentStateOf, promotionOf, type History, type LogEntry } from './journal.js';
import { environmentsOf } from './pipeline.js';
import { statusOf, type PromotionKind, type Slot, type Verdict } from './promotion.js';
import { reconcile } from './reconciliation.js';
import type { StoredCandidate } from './repository.js';
import type { CandidateRef, DesiredState, Pipeline } from './schemas.js';

export interface PipelineStatus {
  pipeline: string;
  at: string;
  environments: Array<{
    environment: string;
    phase: string;
    optional: boolean;
    gates: string[];
    live: { slot: Slot; candidate: string; version: string; status: string; since: string | null; ageMs: number | null } | null;
    slots: Record<string, { candidate: string; version: string; profileDigest: string; status: string; appliedAt: string | null; tag: string }>;
    latestPromotion: {
      candidate: string;
      kind: PromotionKind | null;
      status: string;
      attempt: number;
      requestedBy: string | null;
      requestedAt: string | null;
      gates: Array<{ gate: string; verdict: Verdict; reason: string; waived: string | null; evidenceDigest: string | null }>;
    } | null;
    frozen: { until: string | null; reason: string; by: string } | null;
    pinned: { candidate: string; reason: string; by: string } | null;
  }>;
  candidates: Array<{ id: string; digest: string; version: string; createdAt: string; createdBy: string; parent: string | null; reason: string | null }>;
  history: LogEntry[];
}

export async function status(ctx: ReleaseContext): Promise<PipelineStatus> {
  const { repo } = ctx;
  await repo.git.syncToRemote();
  await reconcile(ctx);
  const pipeline = repo.pipeline();
  const history = await ctx.journal.history();
  const now = ctx.now();
  const desired = new Map(environmentsOf(pipeline).map(({ definition }) => [definition.name, repo.desired(definition.name)]));
  const candidates = repo.candidateIds().map((id) => repo.readCandidate(id));
  return describePipeline({ pipeline, history, now, desired, candidates });
}

/** The status of a pipeline from its history, each environment's desired state and the candidates, at `now`. */
export function describePipeline(at: {
  pipeline: Pipeline;
  history: History;
  now: Date;
  desired: ReadonlyMap<string, DesiredState | null>;
  candidates: readonly StoredCandidate[];
}): PipelineStatus {
  const { pipeline, history, now } = at;
  const environments = environmentsOf(pipeline).map(({ definition, phaseName }) => {
    const name = definition.name;
    const desired = at.desired.get(name) ?? null;
    const slots = Object.fromEntries(
      (Object.entries(desired?.slots ?? {}) as Array<[Slot, { candidate: CandidateRef; version: string; profileDigest: string; promotion: string }]>).map(([slot, c]) => {
        const p = promotionOf(history, name, c.candidate.id);
        return [slot, { candidate: c.candidate.id, version: c.version, profileDigest: c.profileDigest, status: statusOf(p), appliedAt: p.applied?.at ?? null, tag: c.promotion }];
      }),
    );
    const liveContent = desired ? desired.slots[desired.live] : undefined;
    const livePromotion = liveContent ? promotionOf(history, name, liveContent.candidate.id) : null;
    const since = livePromotion?.live?.at ?? livePromotion?.applied?.at ?? null;
    const latest = [...history.log].reverse().find((e) => e.environment === name && e.type === 'PromotionRequested');
    const latestState = latest ? promotionOf(history, name, latest.candidate!) : null;
    const envState = environmentStateOf(history, name);
    const frozen = envState.freeze && (envState.freeze.until === null || Date.parse(envState.freeze.until) > now.getTime()) ? envState.freeze : null;
    return {
      environment: name,
      phase: phaseName,
      optional: definition.optional ?? false,
      gates: definition.gates.map((g) => g.gate),
      live: liveContent ? { slot: desired!.live, candidate: liveContent.candidate.id, version: liveContent.version, status: statusOf(livePromotion!), since, ageMs: since ? now.getTime() - Date.parse(since) : null } : null,
      slots,
      latestPromotion: latestState?.candidate
        ? {
            candidate: latestState.candidate.id,
            kind: latestState.kind,
            status: statusOf(latestState),
            attempt: latestState.attempt,
            requestedBy: latestState.requestedBy?.subject ?? null,
            requestedAt: latestState.requestedAt,
            gates: latestState.gates.map((g) => ({ gate: g.gate, verdict: g.verdict, reason: g.reason, waived: g.waived, evidenceDigest: g.evidenceDigest })),
          }
        : null,
      frozen: frozen ? { until: frozen.until, reason: frozen.reason, by: frozen.by.subject } : null,
      pinned: envState.pin ? { candidate: envState.pin.candidate.id, reason: envState.pin.reason, by: envState.pin.by.subject } : null,
    };
  });
  const candidates = at.candidates.map((c) => ({
    id: c.ref.id,
    digest: c.ref.digest,
    version: c.manifest.artifact.version,
    createdAt: c.manifest.createdAt,
    createdBy: c.manifest.createdBy.subject,
    parent: c.manifest.parent?.id ?? null,
    reason: c.manifest.reason,
  }));
  return { pipeline: pipeline.name, at: now.toISOString(), environments, candidates, history: history.log.slice(-100) };
}
