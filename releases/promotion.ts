// The Promotion aggregate: one candidate's life in one environment, from the
// request through its gates, approvals, the commit that applies it, the slot it
// runs in, verification and soak, to its rollback or veto. Pure: decide answers
// a command with events or a refusal; evolve folds an event into the state.
import * as E from 'fp-ts/lib/Either.js';
import type { ActorValue, CandidateRef, GateName, PromotionEvent } from './schemas.js';

export type Slot = 'blue' | 'green';
export type Verdict = 'pass' | 'fail' | 'pending';
export type PromotionKind = 'promotion' | 'hotfix' | 'rollback';

export interface GateResult {
  gate: GateName;
  verdict: Verdict;
  reason: string;
  /** Who or what decided the gate instead of its rule: "hotfix: <reason>", "rollback", "override approved by ...". */
  waived: string | null;
  evidenceDigest: string | null;
  evidence: unknown;
}

export interface Approval {
  approver: ActorValue;
  overrides: Array<'windows'>;
  reason: string | null;
  at: string;
}

export interface PromotionState {
  environment: string | null;
  candidate: CandidateRef | null;
  /** The latest attempt; 0 before the first request. */
  attempt: number;
  kind: PromotionKind | null;
  slot: Slot | null;
  reason: string | null;
  replacing: CandidateRef | null;
  requestedBy: ActorValue | null;
  requestedAt: string | null;
  /** The gates of the latest attempt, in the order they were evaluated. */
  gates: GateResult[];
  approvals: Approval[];
  applied: { attempt: number; commit: string; tag: string; slot: Slot; at: string } | null;
  /** How many times this candidate was applied to this environment (a re-promotion after a rollback is the second). */
  appliedCount: number;
  live: { from: Slot | null; to: Slot; commit: string; at: string } | null;
  verified: { by: ActorValue; evidence: string | null; at: string } | null;
  soaked: { soakedMs: number; at: string } | null;
  rolledBack: { to: CandidateRef; reason: string; at: string } | null;
  replaced: { by: CandidateRef; slot: Slot; at: string } | null;
  veto: { by: ActorValue; reason: string; at: string } | null;
}

export const initialPromotionState: PromotionState = {
  environment: null,
  candidate: null,
  attempt: 0,
  kind: null,
  slot: null,
  reason: null,
  replacing: null,
  requestedBy: null,
  requestedAt: null,
  gates: [],
  approvals: [],
  applied: null,
  appliedCount: 0,
  live: null,
  verified: null,
  soaked: null,
  rolledBack: null,
  replaced: null,
  veto: null,
};

interface On {
  environment: string;
  candidate: CandidateRef;
  at: string;
}

export type PromotionCommand =
  | (On & { type: 'Request'; kind: PromotionKind; slot: Slot; reason: string | null; replacing: CandidateRef | null; actor: ActorValue })
  | (On & { type: 'RecordGates'; attempt: number; results: readonly GateResult[] })
  | (On & { type: 'Approve'; approver: ActorValue; cutBy: ActorValue; overrides: Array<'windows'>; reason: string | null })
  | (On & { type: 'Apply'; attempt: number; commit: string; tag: string; slot: Slot })
  | (On & { type: 'SwitchSlot'; from: Slot | null; to: Slot; commit: string })
  | (On & { type: 'Verify'; by: ActorValue; evidence: string | null })
  | (On & { type: 'MarkSoaked'; soakedMs: number })
  | (On & { type: 'RollBack'; to: CandidateRef; reason: string })
  | (On & { type: 'Replace'; by: CandidateRef; slot: Slot })
  | (On & { type: 'Veto'; by: ActorValue; reason: string })
  | (On & { type: 'LiftVeto'; by: ActorValue; reason: string });

export interface PromotionRefusal {
  code: 'SELF_APPROVAL' | 'ALREADY_APPLIED' | 'NOT_REQUESTED' | 'STALE_ATTEMPT' | 'GATES_NOT_PASSED' | 'NOT_APPLIED' | 'NOT_VERIFIED' | 'ROLLED_BACK' | 'NOT_VETOED' | 'WRONG_AGGREGATE';
  message: string;
}

const refuse = (code: PromotionRefusal['code'], message: string) => E.left<PromotionRefusal, PromotionEvent[]>({ code, message });

export function decide(command: PromotionCommand, state: PromotionState): E.Either<PromotionRefusal, PromotionEvent[]> {
  const { environment, candidate, at } = command;
  const name = `${candidate.id} in ${environment}`;
  if (state.candidate && (state.candidate.digest !== candidate.digest || state.environment !== environment)) {
    return refuse('WRONG_AGGREGATE', `this promotion is of ${state.candidate.id} (${state.candidate.digest}) in ${state.environment}`);
  }
  const on = { environment, candidate, at };
  const current = state.applied !== null && state.rolledBack === null && state.replaced === null;
  switch (command.type) {
    case 'Request':
      // A rollback may go back to a candidate still deployed in the idle slot: a new promotion of it.
      if (current && command.kind !== 'rollback') return refuse('ALREADY_APPLIED', `${name} is already applied (commit ${state.applied!.commit.slice(0, 12)})`);
      return E.right([
        {
          type: 'PromotionRequested',
          ...on,
          attempt: state.attempt + 1,
          kind: command.kind,
          slot: command.slot,
          reason: command.reason,
          replacing: command.replacing,
          requestedBy: command.actor,
        },
      ]);
    case 'RecordGates':
      if (state.attempt === 0) return refuse('NOT_REQUESTED', `${name} was never requested`);
      if (command.attempt !== state.attempt) return refuse('STALE_ATTEMPT', `attempt ${command.attempt} of ${name} is not the latest (${state.attempt})`);
      return E.right(command.results.map((r) => ({ type: 'GateEvaluated' as const, ...on, attempt: command.attempt, ...r })));
    case 'Approve': {
      if (command.approver.subject === command.cutBy.subject) {
        return refuse('SELF_APPROVAL', `${command.approver.subject} cut ${candidate.id} and cannot approve it`);
      }
      const earlier = state.approvals.find((a) => a.approver.subject === command.approver.subject);
      if (earlier && command.overrides.every((o) => earlier.overrides.includes(o))) return E.right([]);
      return E.right([{ type: 'PromotionApproved', ...on, approver: command.approver, overrides: command.overrides, reason: command.reason }]);
    }
    case 'Apply':
      if (state.applied?.commit === command.commit) return E.right([]);
      if (current) return refuse('ALREADY_APPLIED', `${name} is already applied (commit ${state.applied!.commit.slice(0, 12)})`);
      if (state.attempt === 0) return refuse('NOT_REQUESTED', `${name} was never requested`);
      if (command.attempt !== state.attempt) return refuse('STALE_ATTEMPT', `attempt ${command.attempt} of ${name} is not the latest (${state.attempt})`);
      if (state.gates.length === 0 || state.gates.some((g) => g.verdict !== 'pass')) {
        const open = state.gates.filter((g) => g.verdict !== 'pass').map((g) => g.gate);
        return refuse('GATES_NOT_PASSED', `the gates of attempt ${state.attempt} have not all passed${open.length ? ` (${open.join(', ')})` : ''}`);
      }
      return E.right([{ type: 'PromotionApplied', ...on, attempt: command.attempt, commit: command.commit, tag: command.tag, slot: command.slot }]);
    case 'SwitchSlot':
      if (!current) return refuse(state.rolledBack ? 'ROLLED_BACK' : 'NOT_APPLIED', `${name} is not applied${state.rolledBack ? ' (rolled back)' : state.replaced ? ` (replaced by ${state.replaced.by.id})` : ''}`);
      if (state.live?.to === command.to) return E.right([]);
      return E.right([{ type: 'SlotSwitched', ...on, from: command.from, to: command.to, commit: command.commit }]);
    case 'Verify':
      if (!current) return refuse(state.rolledBack ? 'ROLLED_BACK' : 'NOT_APPLIED', `${name} is not applied${state.rolledBack ? ' (rolled back)' : state.replaced ? ` (replaced by ${state.replaced.by.id})` : ''}`);
      if (state.verified) return E.right([]);
      return E.right([{ type: 'PromotionVerified', ...on, by: command.by, evidence: command.evidence }]);
    case 'MarkSoaked':
      if (!state.verified) return refuse('NOT_VERIFIED', `${name} is not verified`);
      if (state.soaked) return E.right([]);
      return E.right([{ type: 'PromotionSoaked', ...on, soakedMs: command.soakedMs }]);
    case 'RollBack':
      if (!current) return refuse(state.rolledBack ? 'ROLLED_BACK' : 'NOT_APPLIED', `${name} is not applied${state.rolledBack ? ' (rolled back)' : state.replaced ? ` (replaced by ${state.replaced.by.id})` : ''}`);
      return E.right([{ type: 'PromotionRolledBack', ...on, to: command.to, reason: command.reason }]);
    case 'Replace':
      if (!current) return E.right([]);
      return E.right([{ type: 'PromotionReplaced', ...on, by: command.by, slot: command.slot }]);
    case 'Veto':
      if (state.veto) return E.right([]);
      return E.right([{ type: 'PromotionVetoed', ...on, by: command.by, reason: command.reason }]);
    case 'LiftVeto':
      if (!state.veto) return refuse('NOT_VETOED', `${name} is not vetoed`);
      return E.right([{ type: 'VetoLifted', ...on, by: command.by, reason: command.reason }]);
  }
}

export function evolve(state: PromotionState, event: PromotionEvent): PromotionState {
  const base = { ...state, environment: event.environment, candidate: event.candidate };
  switch (event.type) {
    case 'PromotionRequested':
      // A new attempt starts afresh; approvals and a veto stay with the candidate in this environment.
      return {
        ...base,
        attempt: event.attempt,
        kind: event.kind,
        slot: event.slot,
        reason: event.reason,
        replacing: event.replacing,
        requestedBy: event.requestedBy,
        requestedAt: event.at,
        gates: [],
        applied: null,
        live: null,
        verified: null,
        soaked: null,
        rolledBack: null,
        replaced: null,
      };
    case 'GateEvaluated': {
      if (event.attempt !== state.attempt) return base;
      const result: GateResult = { gate: event.gate, verdict: event.verdict, reason: event.reason, waived: event.waived, evidenceDigest: event.evidenceDigest, evidence: event.evidence };
      return { ...base, gates: [...state.gates.filter((g) => g.gate !== event.gate), result] };
    }
    case 'PromotionApproved':
      return {
        ...base,
        approvals: [...state.approvals.filter((a) => a.approver.subject !== event.approver.subject), { approver: event.approver, overrides: event.overrides, reason: event.reason, at: event.at }],
      };
    case 'PromotionApplied':
      return { ...base, applied: { attempt: event.attempt, commit: event.commit, tag: event.tag, slot: event.slot, at: event.at }, appliedCount: state.appliedCount + 1 };
    case 'SlotSwitched':
      return { ...base, live: { from: event.from, to: event.to, commit: event.commit, at: event.at } };
    case 'PromotionVerified':
      return { ...base, verified: { by: event.by, evidence: event.evidence, at: event.at } };
    case 'PromotionSoaked':
      return { ...base, soaked: { soakedMs: event.soakedMs, at: event.at } };
    case 'PromotionRolledBack':
      return { ...base, rolledBack: { to: event.to, reason: event.reason, at: event.at } };
    case 'PromotionReplaced':
      return { ...base, replaced: { by: event.by, slot: event.slot, at: event.at } };
    case 'PromotionVetoed':
      return { ...base, veto: { by: event.by, reason: event.reason, at: event.at } };
    case 'VetoLifted':
      return { ...base, veto: null };
  }
}

/** A one-word account of where the promotion stands. */
export function statusOf(state: PromotionState): string {
  if (state.rolledBack) return 'rolled back';
  if (state.replaced) return 'replaced';
  if (state.applied) {
    if (state.soaked) return 'soaked';
    if (state.verified) return 'verified';
    return state.live ? 'live' : 'applied';
  }
  if (state.attempt === 0) return state.approvals.length > 0 ? 'approved' : 'none';
  if (state.gates.some((g) => g.verdict === 'fail')) return 'refused';
  if (state.gates.some((g) => g.verdict === 'pending')) return 'pending';
  return 'requested';
}

export const promotionStream = (environment: string, id: string) => `release-promotion-${environment}-${id}`;
