// Healing what a crash left half done: a promotion or cut-over that reached
// git (its commit's trailers say so) but not the event store. Run before every
// promotion and every status, so the two never tell different stories for long.
import { moveDistTags, recordApplied } from './after-push.js';
import { trailerRef, trailers } from './commits.js';
import type { ReleaseContext } from './context.js';
import { promotionOf, type History } from './journal.js';
import type { Slot } from './promotion.js';
import type { CandidateRef } from './schemas.js';

/**
 * Records what git holds and the event store does not: a promotion pushed by
 * a process that stopped before recording it. Idempotent.
 */
export async function reconcile(ctx: ReleaseContext): Promise<number> {
  const { repo, journal } = ctx;
  const commits = (await repo.git.log(200)).reverse();
  let healed = 0;
  let history: History | null = null;
  /** Per environment, the candidate its newest promotion applied: where its dist-tag belongs. */
  const newest = new Map<string, CandidateRef>();
  const healedEnvironments = new Set<string>();
  for (const c of commits) {
    const t = trailers(c.body);
    const action = t.get('Kepler-Action');
    if (action !== 'promotion' && action !== 'hotfix' && action !== 'rollback' && action !== 'cut-over') continue;
    history ??= await journal.history();
    const environment = t.get('Kepler-Environment')!;
    const ref = { id: t.get('Kepler-Candidate')!, digest: t.get('Kepler-Digest')! };
    if (action !== 'cut-over') newest.set(environment, ref);
    const state = promotionOf(history, environment, ref.id);
    const slot = t.get('Kepler-Slot') as Slot;
    const live = t.get('Kepler-Live') as Slot;
    if (action === 'cut-over') {
      if (state.applied && state.live?.commit !== c.commit && state.live?.to !== slot) {
        await journal.promotion({ type: 'SwitchSlot', environment, candidate: ref, at: ctx.now().toISOString(), from: null, to: slot, commit: c.commit });
        healed++;
      }
      continue;
    }
    const attempt = Number(t.get('Kepler-Attempt'));
    if (state.applied?.commit === c.commit || state.attempt !== attempt || state.applied) continue;
    ctx.warn(`recording ${action} of ${ref.id} to ${environment} (commit ${c.commit.slice(0, 12)}), which reached git but not the event store`);
    await recordApplied(ctx, {
      environment,
      ref,
      attempt,
      commit: c.commit,
      tag: t.get('Kepler-Tag')!,
      slot,
      live,
      previousLive: null,
      replacing: trailerRef(t.get('Kepler-Rolls-Back')),
      displaced: trailerRef(t.get('Kepler-Displaces')),
      reason: state.reason,
    });
    healed++;
    healedEnvironments.add(environment);
    history = null;
  }
  // The process that stopped after its push never moved the dist-tag either.
  for (const environment of healedEnvironments) {
    await moveDistTags(ctx, repo.pipeline(), repo.readCandidate(newest.get(environment)!.id).manifest, environment, []);
  }
  return healed;
}
