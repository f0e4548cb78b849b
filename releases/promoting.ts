// Promoting a candidate to an environment, or rolling one back to a candidate
// that ran there before, in the order that keeps git, the registry and the
// event store telling one story:
//
//   sync with the remote → evaluate the gates → record the request and gates →
//   commit the desired state and tag it → push (atomically; on losing a race:
//   sync and start again, gates included) → record the commit → move dist-tags.
//
// A crash after the push and before the record is healed by the next command,
// which finds the promotion commit in git and records it (reconciliation.ts).
import { moveDistTags, recordApplied } from './after-push.js';
import { promotionMessage, promotionTag, promotionVerb } from './commits.js';
import { keptMoving, MAX_ROUNDS, type ReleaseContext } from './context.js';
import { overallVerdict } from './gates.js';
import type { Gating } from './gating.js';
import { promotionOf, type History } from './journal.js';
import { placeOf } from './pipeline.js';
import { nextDesired } from './placement.js';
import type { GateResult, PromotionKind, Slot, Verdict } from './promotion.js';
import { reconcile } from './reconciliation.js';
import type { StoredCandidate } from './repository.js';
import type { CandidateRef } from './schemas.js';

export type PromotionStatus = 'applied' | 'unchanged' | 'refused' | 'pending' | 'planned';

export interface PromotionOutcome {
  status: PromotionStatus;
  kind: PromotionKind;
  environment: string;
  candidate: CandidateRef;
  verdict: Verdict;
  gates: GateResult[];
  slot: Slot | null;
  live: Slot | null;
  commit: string | null;
  tag: string | null;
  /** Rounds it took: more than one when it lost a push race and evaluated its gates again. */
  rounds: number;
  message: string;
  warnings: string[];
}

export interface TransitionRequest {
  idOrDigest: string;
  environment: string;
  kind: PromotionKind;
  reason: string | null;
  /** Evaluate the gates and say what would happen, recording nothing. */
  plan: boolean;
}

export async function transition(ctx: ReleaseContext, gating: Gating, request: TransitionRequest): Promise<PromotionOutcome> {
  const { repo, journal, actor } = ctx;
  const { environment, kind } = request;
  const warnings: string[] = [];
  for (let round = 1; round <= MAX_ROUNDS; round++) {
    await ctx.syncClean();
    await reconcile(ctx);
    const pipeline = repo.pipeline();
    placeOf(pipeline, environment);
    const stored = repo.readCandidate(request.idOrDigest);
    const ref = stored.ref;
    const profile = stored.profiles.get(environment);
    if (!profile) throw new Error(`${ref.id} froze no profile for ${environment} (cut before it existed): cut a configuration-only child candidate`);
    const desired = repo.desired(environment);
    const history = await journal.history();
    const liveContent = desired ? desired.slots[desired.live] : undefined;
    const base = { kind, environment, candidate: ref, rounds: round, warnings };

    if (kind === 'rollback') {
      if (!liveContent) throw new Error(`${environment} runs nothing yet: there is nothing to roll back`);
      if (liveContent.candidate.digest === ref.digest) throw new Error(`${environment} already runs ${ref.id}`);
      if (promotionOf(history, environment, ref.id).appliedCount === 0) throw new Error(`${ref.id} never ran in ${environment}: promote it instead of rolling back to it`);
    } else {
      const inSlot = desired && (Object.entries(desired.slots) as Array<[Slot, { candidate: CandidateRef }]>).find(([, c]) => c.candidate.digest === ref.digest);
      const state = promotionOf(history, environment, ref.id);
      if (inSlot && state.applied && !state.rolledBack && !state.replaced) {
        const live = desired!.live === inSlot[0];
        return { ...base, status: 'unchanged', verdict: 'pass', gates: [], slot: inSlot[0], live: desired!.live, commit: state.applied.commit, tag: state.applied.tag, message: `${environment} already has ${ref.id} in slot ${inSlot[0]}${live ? ' (live)' : ' (awaiting cut-over)'}` };
      }
    }

    const { slot, next } = nextDesired(desired, environment, profile.profile.slots as Slot[], kind, {
      candidate: ref,
      version: stored.manifest.artifact.version,
      profileDigest: profile.digest,
      promotion: '',
    });
    const gates = await gating.evaluate(stored, environment, kind, request.reason, history);
    const verdict = overallVerdict(gates);
    const blocking = gates.filter((g) => g.verdict !== 'pass');
    const blockMessage = blocking.map((g) => `gate ${g.gate} ${g.verdict === 'fail' ? 'failed' : 'is pending'}: ${g.reason}`).join('\n');
    if (request.plan) {
      const message = verdict === 'pass' ? `would ${kind === 'rollback' ? 'roll back' : 'promote'} ${environment} to ${ref.id} in slot ${slot}${next.live === slot ? ' (live at once)' : ' (cut over later)'}` : blockMessage;
      return { ...base, status: 'planned', verdict, gates, slot, live: next.live, commit: null, tag: null, message };
    }

    const requested = await journal.promotion({
      type: 'Request',
      environment,
      candidate: ref,
      at: ctx.now().toISOString(),
      kind,
      slot,
      reason: request.reason,
      replacing: liveContent?.candidate ?? null,
      actor,
    });
    const attempt = requested.state.attempt;
    await journal.promotion({ type: 'RecordGates', environment, candidate: ref, at: ctx.now().toISOString(), attempt, results: gates });
    await markSoaked(ctx, gates, stored, history);
    if (verdict !== 'pass') {
      return { ...base, status: verdict === 'fail' ? 'refused' : 'pending', verdict, gates, slot, live: desired?.live ?? null, commit: null, tag: null, message: blockMessage };
    }

    const state = promotionOf(history, environment, ref.id);
    const tag = promotionTag(environment, ref.id, state.appliedCount + 1);
    next.slots[slot] = { ...next.slots[slot]!, promotion: tag };
    const displacedRef = desired?.slots[slot]?.candidate;
    const displaced = displacedRef && displacedRef.digest !== ref.digest ? displacedRef : null;
    const replacing = kind === 'rollback' ? liveContent!.candidate : null;
    const file = repo.writeDesired(next);
    const verb = promotionVerb(kind);
    const commit = await repo.git.commit(
      promotionMessage({ kind, environment, ref, attempt, slot, live: next.live, tag, reason: request.reason, gates, replacing, displaced, actor }),
      [file],
      actor,
    );
    await repo.git.tag(tag, commit, `${verb} ${environment} to ${ref.id} (${ref.digest})`, actor);
    await ctx.options.hooks?.beforePush?.(`${verb} ${environment} ${ref.id}`);
    const pushed = await repo.git.push([tag]);
    if (pushed === 'rejected') {
      const line = `${environment}: another change reached the pipeline repository first; rebasing and evaluating the gates again`;
      warnings.push(line);
      ctx.warn(line);
      await repo.git.deleteTag(tag);
      await repo.git.dropLastCommit();
      continue;
    }
    await ctx.options.hooks?.afterPush?.(`${verb} ${environment} ${ref.id}`);
    await recordApplied(ctx, { environment, ref, attempt, commit, tag, slot, live: next.live, previousLive: desired?.live ?? null, replacing, displaced, reason: request.reason });
    await moveDistTags(ctx, pipeline, stored.manifest, environment, warnings);
    return {
      ...base,
      status: 'applied',
      verdict,
      gates,
      slot,
      live: next.live,
      commit,
      tag,
      message: `${environment} now has ${ref.id} in slot ${slot}${next.live === slot ? ' (live)' : `; ${next.live} stays live until the cut-over`} — commit ${commit.slice(0, 12)}, tag ${tag}`,
    };
  }
  throw keptMoving(environment);
}

/** Soak is measured, not declared: when a soak gate passes, the upstream promotions it measured are marked soaked. */
async function markSoaked(ctx: ReleaseContext, gates: readonly GateResult[], stored: StoredCandidate, history: History): Promise<void> {
  const soak = gates.find((g) => g.gate === 'soak' && g.verdict === 'pass' && g.waived === null);
  const verified = (soak?.evidence as { since?: string } | null)?.since ? (gates.find((g) => g.gate === 'upstream')?.evidence as { verified?: Record<string, string> } | null)?.verified : undefined;
  for (const [env, at] of Object.entries(verified ?? {})) {
    if (promotionOf(history, env, stored.ref.id).soaked) continue;
    await ctx.journal.promotion({ type: 'MarkSoaked', environment: env, candidate: stored.ref, at: ctx.now().toISOString(), soakedMs: Math.max(0, ctx.now().getTime() - Date.parse(at)) });
  }
}
