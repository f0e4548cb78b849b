// Releasing Kepler, as the CLI and the tests call it: one object per actor
// and pipeline clone, each method one use case. The use cases live in their
// own modules and share a ReleaseContext (context.ts):
//
//   cutting.ts        cut a candidate          verification.ts  verify one
//   comparison.ts     diff two                 gating.ts        evaluate gates
//   promoting.ts      promote, roll back       cut-over.ts      verified, cut over
//   reconciliation.ts heal a half-done push    controls.ts      approve, freeze, veto, pin
//   status.ts         the pipeline at a glance
import type { CandidateDiff } from './candidates.js';
import { diff } from './comparison.js';
import { ReleaseContext, type ReleaseServiceOptions } from './context.js';
import * as controls from './controls.js';
import { cutOver, markVerified } from './cut-over.js';
import { cut, type CutRequest } from './cutting.js';
import { Gating } from './gating.js';
import type { GateResult, PromotionState, Slot, Verdict } from './promotion.js';
import { transition, type PromotionOutcome } from './promoting.js';
import { reconcile } from './reconciliation.js';
import type { PipelineRepository } from './repository.js';
import type { CandidateRef, ReleaseCandidate } from './schemas.js';
import { status, type PipelineStatus } from './status.js';
import { verify, type VerifyCheck } from './verification.js';

export class ReleaseService {
  private readonly ctx: ReleaseContext;
  /** One per service: it keeps each candidate's unpacked package for the process. */
  private readonly gating: Gating;

  constructor(options: ReleaseServiceOptions) {
    this.ctx = new ReleaseContext(options);
    this.gating = new Gating(this.ctx);
  }

  get repo(): PipelineRepository {
    return this.ctx.repo;
  }

  /** Cuts a candidate from the source's code, or a configuration-only child of one (cutting.ts). */
  cut(request: CutRequest): Promise<{ id: string; digest: string; candidate: ReleaseCandidate }> {
    return cut(this.ctx, request);
  }

  /** Everything that makes a candidate trustworthy: its files, its signature, its cut record and its artifact's bytes. */
  verify(idOrDigest: string, options: { offline?: boolean } = {}): Promise<{ ref: CandidateRef | null; ok: boolean; checks: VerifyCheck[] }> {
    return verify(this.ctx, idOrDigest, options);
  }

  diff(a: string, b: string, options: { source?: string } = {}): Promise<CandidateDiff> {
    return diff(this.ctx, a, b, options);
  }

  /** The gates as they stand, recording nothing. */
  gateCheck(idOrDigest: string, environment: string): Promise<{ verdict: Verdict; gates: GateResult[]; candidate: CandidateRef }> {
    return this.gating.check(idOrDigest, environment);
  }

  async promote(idOrDigest: string, environment: string, options: { plan?: boolean; hotfix?: boolean; reason?: string | null } = {}): Promise<PromotionOutcome> {
    if (options.hotfix && !options.reason) throw new Error('a hotfix skips phases and needs a reason (--reason)');
    return transition(this.ctx, this.gating, { idOrDigest, environment, kind: options.hotfix ? 'hotfix' : 'promotion', reason: options.reason ?? null, plan: options.plan ?? false });
  }

  /** A new promotion of an older candidate that ran in the environment before; history is never rewritten. */
  rollback(environment: string, toIdOrDigest: string, options: { reason?: string | null; plan?: boolean } = {}): Promise<PromotionOutcome> {
    return transition(this.ctx, this.gating, { idOrDigest: toIdOrDigest, environment, kind: 'rollback', reason: options.reason ?? null, plan: options.plan ?? false });
  }

  /**
   * Records what git holds and the event store does not: a promotion pushed by
   * a process that stopped before recording it. Idempotent.
   */
  reconcile(): Promise<number> {
    return reconcile(this.ctx);
  }

  markVerified(idOrDigest: string, environment: string, evidence: string | null): Promise<PromotionState> {
    return markVerified(this.ctx, idOrDigest, environment, evidence);
  }

  /** Switches traffic to the slot the candidate was deployed into, once it is verified there. */
  cutOver(idOrDigest: string, environment: string): Promise<{ from: Slot; to: Slot; commit: string; unchanged: boolean }> {
    return cutOver(this.ctx, idOrDigest, environment);
  }

  approve(idOrDigest: string, environment: string, options: { overrides?: Array<'windows'>; reason?: string | null } = {}): Promise<{ recorded: boolean }> {
    return controls.approve(this.ctx, idOrDigest, environment, options);
  }

  freeze(environments: readonly string[], options: { until: Date | null; reason: string }): Promise<void> {
    return controls.freeze(this.ctx, environments, options);
  }

  unfreeze(environments: readonly string[], reason: string | null): Promise<void> {
    return controls.unfreeze(this.ctx, environments, reason);
  }

  /** Vetoes a candidate in one environment, or in every one. */
  veto(idOrDigest: string, environment: string | null, reason: string, lift = false): Promise<string[]> {
    return controls.veto(this.ctx, idOrDigest, environment, reason, lift);
  }

  /** Pins an environment to a candidate (its live one when none is named): no other candidate may be promoted there. */
  pin(environment: string, idOrDigest: string | null, reason: string): Promise<CandidateRef> {
    return controls.pin(this.ctx, environment, idOrDigest, reason);
  }

  unpin(environment: string, reason: string | null): Promise<void> {
    return controls.unpin(this.ctx, environment, reason);
  }

  status(): Promise<PipelineStatus> {
    return status(this.ctx);
  }
}
