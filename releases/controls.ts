// Operators' decisions about the pipeline, recorded in the event store for
// the gates to read: approvals, freezes, vetoes and pins. Each checks the
// environments it names exist before it records anything.
import type { ReleaseContext } from './context.js';
import { promotionOf } from './journal.js';
import { environmentsOf, placeOf } from './pipeline.js';
import type { CandidateRef } from './schemas.js';

export async function approve(ctx: ReleaseContext, idOrDigest: string, environment: string, options: { overrides?: Array<'windows'>; reason?: string | null } = {}): Promise<{ recorded: boolean }> {
  await ctx.repo.git.syncToRemote();
  placeOf(ctx.repo.pipeline(), environment);
  const stored = ctx.repo.readCandidate(idOrDigest);
  const r = await ctx.journal.promotion({
    type: 'Approve',
    environment,
    candidate: stored.ref,
    at: ctx.now().toISOString(),
    approver: ctx.actor,
    cutBy: stored.manifest.createdBy,
    overrides: options.overrides ?? [],
    reason: options.reason ?? null,
  });
  return { recorded: r.events.length > 0 };
}

export async function freeze(ctx: ReleaseContext, environments: readonly string[], options: { until: Date | null; reason: string }): Promise<void> {
  const pipeline = ctx.repo.pipeline();
  for (const env of environments) placeOf(pipeline, env);
  for (const env of environments) {
    await ctx.journal.environment({ type: 'Freeze', environment: env, by: ctx.actor, at: ctx.now().toISOString(), until: options.until?.toISOString() ?? null, reason: options.reason });
  }
}

export async function unfreeze(ctx: ReleaseContext, environments: readonly string[], reason: string | null): Promise<void> {
  const pipeline = ctx.repo.pipeline();
  for (const env of environments) placeOf(pipeline, env);
  for (const env of environments) await ctx.journal.environment({ type: 'Unfreeze', environment: env, by: ctx.actor, at: ctx.now().toISOString(), reason });
}

/** Vetoes a candidate in one environment, or in every one. */
export async function veto(ctx: ReleaseContext, idOrDigest: string, environment: string | null, reason: string, lift = false): Promise<string[]> {
  const pipeline = ctx.repo.pipeline();
  const stored = ctx.repo.readCandidate(idOrDigest);
  const envs = environment ? [placeOf(pipeline, environment).definition.name] : environmentsOf(pipeline).map((e) => e.definition.name);
  for (const env of envs) {
    const on = { environment: env, candidate: stored.ref, at: ctx.now().toISOString(), by: ctx.actor, reason };
    if (!lift) await ctx.journal.promotion({ type: 'Veto', ...on });
    else if (promotionOf(await ctx.journal.history(), env, stored.ref.id).veto) await ctx.journal.promotion({ type: 'LiftVeto', ...on });
  }
  return envs;
}

/** Pins an environment to a candidate (its live one when none is named): no other candidate may be promoted there. */
export async function pin(ctx: ReleaseContext, environment: string, idOrDigest: string | null, reason: string): Promise<CandidateRef> {
  await ctx.repo.git.syncToRemote();
  placeOf(ctx.repo.pipeline(), environment);
  let ref: CandidateRef;
  if (idOrDigest) ref = ctx.repo.readCandidate(idOrDigest).ref;
  else {
    const desired = ctx.repo.desired(environment);
    const live = desired?.slots[desired.live];
    if (!live) throw new Error(`${environment} runs nothing yet: name the candidate to pin it to`);
    ref = live.candidate;
  }
  await ctx.journal.environment({ type: 'Pin', environment, by: ctx.actor, at: ctx.now().toISOString(), candidate: ref, reason });
  return ref;
}

export async function unpin(ctx: ReleaseContext, environment: string, reason: string | null): Promise<void> {
  placeOf(ctx.repo.pipeline(), environment);
  await ctx.journal.environment({ type: 'Unpin', environment, by: ctx.actor, at: ctx.now().toISOString(), reason });
}
