// After a promotion is applied: recording that it was verified in its slot,
// and switching the environment's traffic to that slot (the cut-over).
import { cutOverMessage } from './commits.js';
import { keptMoving, MAX_ROUNDS, type ReleaseContext } from './context.js';
import { promotionOf, RefusedError } from './journal.js';
import { placeOf } from './pipeline.js';
import type { PromotionState, Slot } from './promotion.js';

export async function markVerified(ctx: ReleaseContext, idOrDigest: string, environment: string, evidence: string | null): Promise<PromotionState> {
  const stored = ctx.repo.readCandidate(idOrDigest);
  placeOf(ctx.repo.pipeline(), environment);
  const r = await ctx.journal.promotion({ type: 'Verify', environment, candidate: stored.ref, at: ctx.now().toISOString(), by: ctx.actor, evidence });
  return r.state;
}

/** Switches traffic to the slot the candidate was deployed into, once it is verified there. */
export async function cutOver(ctx: ReleaseContext, idOrDigest: string, environment: string): Promise<{ from: Slot; to: Slot; commit: string; unchanged: boolean }> {
  const { repo, journal, actor } = ctx;
  for (let round = 1; round <= MAX_ROUNDS; round++) {
    await repo.git.syncToRemote();
    const stored = repo.readCandidate(idOrDigest);
    const history = await journal.history();
    const state = promotionOf(history, environment, stored.ref.id);
    if (!state.applied || state.rolledBack || state.replaced) throw new RefusedError('NOT_APPLIED', `${stored.ref.id} is not applied to ${environment}`);
    if (!state.verified) throw new RefusedError('NOT_VERIFIED', `${stored.ref.id} is not verified in ${environment} (slot ${state.applied.slot}): verify it before the cut-over`);
    const desired = repo.desired(environment);
    const slot = state.applied.slot;
    if (!desired || desired.slots[slot]?.candidate.digest !== stored.ref.digest) throw new Error(`slot ${slot} of ${environment} no longer holds ${stored.ref.id}`);
    if (desired.live === slot) {
      const commit = state.live?.commit ?? state.applied.commit;
      if (!state.live) await journal.promotion({ type: 'SwitchSlot', environment, candidate: stored.ref, at: ctx.now().toISOString(), from: null, to: slot, commit });
      return { from: slot, to: slot, commit, unchanged: true };
    }
    const from = desired.live;
    const file = repo.writeDesired({ ...desired, live: slot });
    const commit = await repo.git.commit(cutOverMessage({ environment, from, to: slot, ref: stored.ref, actor }), [file], actor);
    await ctx.options.hooks?.beforePush?.(`cut over ${environment}`);
    if ((await repo.git.push([])) === 'rejected') {
      await repo.git.dropLastCommit();
      continue;
    }
    await journal.promotion({ type: 'SwitchSlot', environment, candidate: stored.ref, at: ctx.now().toISOString(), from, to: slot, commit });
    return { from, to: slot, commit, unchanged: false };
  }
  throw keptMoving(environment);
}
