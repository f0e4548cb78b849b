// The gates of a promotion. Each answers pass, fail or pending, with a reason
// and evidence; fail needs someone to act, pending passes with time or an
// approval. Veto, pin and freezes apply to every environment; the others as the
// pipeline configures them. The rules here are pure functions of the history
// and the clock; the gates that look outside (the registry, the regression
// engine, a replay) are probes handed in, run only once the cheap gates pass.
import { digestOf } from './canonical.js';
import { environmentStateOf, promotionOf, type History } from './journal.js';
import { gateOf, upstreamOf } from './pipeline.js';
import type { GateResult, PromotionKind, Verdict } from './promotion.js';
import type { CandidateRef, EnvironmentDefinition, GateConfig, Pipeline, ReleaseCandidate } from './schemas.js';
import { durationMs, windowState } from './windows.js';

export interface GateContext {
  pipeline: Pipeline;
  environment: string;
  definition: EnvironmentDefinition;
  candidate: ReleaseCandidate;
  ref: CandidateRef;
  kind: PromotionKind;
  /** Why a hotfix skips phases. */
  reason: string | null;
  history: History;
  now: Date;
}

/** What a probe answers; its evidence digest defaults to the digest of its evidence. */
export interface ProbeAnswer {
  verdict: Verdict;
  reason: string;
  evidence: unknown;
  evidenceDigest?: string;
}

export interface Probes {
  integrity(ctx: GateContext): Promise<ProbeAnswer>;
  regression(ctx: GateContext, config: Extract<GateConfig, { gate: 'regression' }>): Promise<ProbeAnswer>;
  replay(ctx: GateContext, config: Extract<GateConfig, { gate: 'replay' }>): Promise<ProbeAnswer>;
}

const result = (gate: GateResult['gate'], verdict: Verdict, reason: string, evidence: unknown = null, waived: string | null = null): GateResult => ({
  gate,
  verdict,
  reason,
  waived,
  evidenceDigest: evidence === null ? null : digestOf(evidence),
  evidence,
});

export function vetoGate(ctx: GateContext): GateResult {
  const veto = promotionOf(ctx.history, ctx.environment, ctx.candidate.id).veto;
  return veto
    ? result('veto', 'fail', `vetoed by ${veto.by.subject} at ${veto.at}: ${veto.reason}`, { by: veto.by.subject, at: veto.at, reason: veto.reason })
    : result('veto', 'pass', 'no veto');
}

export function pinGate(ctx: GateContext): GateResult {
  const pin = environmentStateOf(ctx.history, ctx.environment).pin;
  if (!pin) return result('pin', 'pass', `${ctx.environment} is not pinned`);
  if (pin.candidate.digest === ctx.ref.digest) return result('pin', 'pass', `${ctx.environment} is pinned to this candidate`);
  return result('pin', 'fail', `${ctx.environment} is pinned to ${pin.candidate.id} by ${pin.by.subject}: ${pin.reason}`, { pinned: pin.candidate, by: pin.by.subject, at: pin.at });
}

/** The environments of the previous phase this candidate must have been verified in, with when. */
function upstreamVerification(ctx: GateContext): { phase: string | null; verified: Record<string, string>; missing: string[] } {
  const up = upstreamOf(ctx.pipeline, ctx.environment);
  const verified: Record<string, string> = {};
  const missing: string[] = [];
  // An optional environment the candidate entered counts like a required one.
  const entered = up.optional.filter((env) => promotionOf(ctx.history, env, ctx.candidate.id).attempt > 0);
  for (const env of [...up.required, ...entered]) {
    const state = promotionOf(ctx.history, env, ctx.candidate.id);
    if (state.verified && !state.rolledBack && state.candidate?.digest === ctx.ref.digest) verified[env] = state.verified.at;
    else missing.push(env);
  }
  return { phase: up.phase, verified, missing };
}

export function upstreamGate(ctx: GateContext): GateResult {
  if (ctx.kind === 'hotfix') return result('upstream', 'pass', 'skipped by a hotfix', { hotfix: ctx.reason }, `hotfix: ${ctx.reason}`);
  if (ctx.kind === 'rollback') return result('upstream', 'pass', 'skipped by a rollback to a candidate that ran here before', null, 'rollback');
  const { phase, verified, missing } = upstreamVerification(ctx);
  if (phase === null) return result('upstream', 'pass', `${ctx.environment} is in the first phase`);
  if (missing.length > 0) {
    return result('upstream', 'fail', `${ctx.candidate.id} is not verified in ${missing.join(', ')} (phase ${phase})`, { phase, verified, missing });
  }
  return result('upstream', 'pass', `verified in ${Object.keys(verified).join(', ')} (phase ${phase})`, { phase, verified });
}

export function soakGate(ctx: GateContext, duration: string): GateResult {
  if (ctx.kind !== 'promotion') return result('soak', 'pass', `skipped by a ${ctx.kind}`, null, ctx.kind === 'hotfix' ? `hotfix: ${ctx.reason}` : 'rollback');
  const { phase, verified, missing } = upstreamVerification(ctx);
  if (phase === null) return result('soak', 'pass', 'nothing upstream to soak in');
  if (missing.length > 0) return result('soak', 'pending', `waits for verification in ${missing.join(', ')}`, { phase, missing });
  const since = Math.max(...Object.values(verified).map((t) => Date.parse(t)));
  const needed = durationMs(duration);
  const soaked = ctx.now.getTime() - since;
  const evidence = { since: new Date(since).toISOString(), soakedMs: soaked, requiredMs: needed };
  if (soaked < needed) {
    return result('soak', 'pending', `soaked ${formatMs(soaked)} of ${duration} since ${new Date(since).toISOString()}; passes at ${new Date(since + needed).toISOString()}`, evidence);
  }
  return result('soak', 'pass', `soaked ${formatMs(soaked)} (${duration} required) in phase ${phase}`, evidence);
}

export function windowsGate(ctx: GateContext): GateResult {
  const windows = gateOf(ctx.definition, 'windows')?.windows ?? [];
  const freeze = environmentStateOf(ctx.history, ctx.environment).freeze;
  const state = windowState(windows, freeze ? { until: freeze.until, reason: freeze.reason, by: freeze.by.subject } : null, ctx.now);
  const evidence = { at: ctx.now.toISOString(), ...state };
  if (state.state === 'open') return result('windows', 'pass', state.reason, evidence);
  if (ctx.kind === 'rollback') return result('windows', 'pass', `${state.reason}; a rollback is let through`, evidence, 'rollback');
  const override = promotionOf(ctx.history, ctx.environment, ctx.candidate.id).approvals.find((a) => a.overrides.includes('windows'));
  if (override) {
    return result('windows', 'pass', `${state.reason}; overridden`, { ...evidence, override: { by: override.approver.subject, at: override.at, reason: override.reason } }, `override approved by ${override.approver.subject}`);
  }
  return result('windows', state.state === 'denied' ? 'fail' : 'pending', state.reason, evidence);
}

export function approvalsGate(ctx: GateContext, configured: number): GateResult {
  const required = ctx.kind === 'hotfix' ? Math.max(configured, ctx.pipeline.hotfix.approvals) : configured;
  const cutBy = ctx.candidate.createdBy.subject;
  const approvers = [...new Set(promotionOf(ctx.history, ctx.environment, ctx.candidate.id).approvals.map((a) => a.approver.subject))].filter((s) => s !== cutBy);
  const evidence = { required, approvers, cutBy };
  if (required === 0) return result('approvals', 'pass', 'no approval required', evidence);
  if (approvers.length >= required) return result('approvals', 'pass', `approved by ${approvers.join(', ')} (${required} required${ctx.kind === 'hotfix' ? ' for a hotfix' : ''})`, evidence);
  return result(
    'approvals',
    'pending',
    `${approvers.length} of ${required} approval(s)${approvers.length ? ` (${approvers.join(', ')})` : ''}${ctx.kind === 'hotfix' ? ' required for a hotfix' : ''}; ${cutBy} cut it and cannot approve`,
    evidence,
  );
}

/** Every gate of the promotion, cheap ones first; the probes run only when those pass. */
export async function evaluateGates(ctx: GateContext, probes: Probes): Promise<GateResult[]> {
  const def = ctx.definition;
  const cheap: GateResult[] = [vetoGate(ctx), pinGate(ctx)];
  if (gateOf(def, 'upstream')) cheap.push(upstreamGate(ctx));
  const soak = gateOf(def, 'soak');
  if (soak) cheap.push(soakGate(ctx, soak.duration));
  cheap.push(windowsGate(ctx));
  const approvals = gateOf(def, 'approvals');
  if (approvals || ctx.kind === 'hotfix') cheap.push(approvalsGate(ctx, approvals?.required ?? 0));

  const blocked = cheap.filter((g) => g.verdict !== 'pass').map((g) => g.gate);
  const costly: Array<{ gate: GateResult['gate']; run: () => Promise<ProbeAnswer> }> = [];
  if (gateOf(def, 'integrity')) costly.push({ gate: 'integrity', run: () => probes.integrity(ctx) });
  const replay = gateOf(def, 'replay');
  if (replay) costly.push({ gate: 'replay', run: () => probes.replay(ctx, replay) });
  const regression = gateOf(def, 'regression');
  if (regression) costly.push({ gate: 'regression', run: () => probes.regression(ctx, regression) });

  const results = [...cheap];
  for (const { gate, run } of costly) {
    if (blocked.length > 0) {
      results.push(result(gate, 'pending', `not run until ${blocked.join(', ')} pass`));
      continue;
    }
    try {
      const r = await run();
      const answer = result(gate, r.verdict, r.reason, r.evidence);
      results.push(r.evidenceDigest ? { ...answer, evidenceDigest: r.evidenceDigest } : answer);
    } catch (error) {
      results.push(result(gate, 'fail', `could not be evaluated: ${(error as Error).message}`));
    }
    if (results.at(-1)!.verdict !== 'pass') blocked.push(gate);
  }
  return results;
}

/** fail when any gate fails, else pending when any is pending, else pass. */
export function overallVerdict(results: readonly GateResult[]): Verdict {
  if (results.some((r) => r.verdict === 'fail')) return 'fail';
  if (results.some((r) => r.verdict === 'pending')) return 'pending';
  return 'pass';
}

function formatMs(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  return minutes >= 60 ? `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m` : `${minutes}m`;
}
