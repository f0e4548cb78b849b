// What follows a promotion commit that reached the remote, whether the process
// that pushed it records it or reconcile does for a process that stopped: the
// promotion's events in the event store, and the registry's dist-tags.
import type { ReleaseContext } from './context.js';
import { RefusedError } from './journal.js';
import type { Slot } from './promotion.js';
import type { CandidateRef, Pipeline, ReleaseCandidate } from './schemas.js';

export interface Applied {
  environment: string;
  ref: CandidateRef;
  attempt: number;
  commit: string;
  tag: string;
  slot: Slot;
  live: Slot;
  previousLive: Slot | null;
  replacing: CandidateRef | null;
  /** The candidate that ran in the slot before. */
  displaced: CandidateRef | null;
  reason: string | null;
}

export async function recordApplied(ctx: ReleaseContext, a: Applied): Promise<void> {
  const { journal } = ctx;
  const at = ctx.now().toISOString();
  const on = { environment: a.environment, candidate: a.ref, at };
  await journal.promotion({ type: 'Apply', ...on, attempt: a.attempt, commit: a.commit, tag: a.tag, slot: a.slot });
  if (a.live === a.slot) await journal.promotion({ type: 'SwitchSlot', ...on, from: a.previousLive, to: a.slot, commit: a.commit });
  if (a.replacing) {
    try {
      await journal.promotion({ type: 'RollBack', environment: a.environment, candidate: a.replacing, at, to: a.ref, reason: a.reason ?? `rolled back to ${a.ref.id}` });
    } catch (error) {
      if (!(error instanceof RefusedError)) throw error;
    }
  }
  if (a.displaced) await journal.promotion({ type: 'Replace', environment: a.environment, candidate: a.displaced, at, by: a.ref, slot: a.slot });
}

/** Moves the environment's dist-tag (and latest, when it follows the environment) to the candidate; a failure is a warning. */
export async function moveDistTags(ctx: ReleaseContext, pipeline: Pipeline, manifest: ReleaseCandidate, environment: string, warnings: string[]): Promise<void> {
  const { artifact } = manifest;
  if (!artifact.registry) return;
  const tags = [environment, ...(pipeline.latestFollows === environment ? ['latest'] : [])];
  for (const tag of tags) {
    try {
      await ctx.registryFor(artifact.registry).setDistTag(artifact.name, artifact.version, tag);
    } catch (error) {
      const line = `the dist-tag ${tag} did not move to ${artifact.version}: ${(error as Error).message} (the next promotion of ${environment} moves it)`;
      warnings.push(line);
      ctx.warn(line);
    }
  }
}
