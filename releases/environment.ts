// Two small aggregates beside the promotion: an environment's freeze and pin,
// which operators set and lift, and a candidate's cut, recorded once.
import * as E from 'fp-ts/lib/Either.js';
import type { ActorValue, CandidateEvent, CandidateRef, EnvironmentEvent } from './schemas.js';

export interface EnvironmentState {
  environment: string | null;
  freeze: { until: string | null; reason: string; by: ActorValue; at: string } | null;
  pin: { candidate: CandidateRef; reason: string; by: ActorValue; at: string } | null;
}

export const initialEnvironmentState: EnvironmentState = { environment: null, freeze: null, pin: null };

interface On {
  environment: string;
  by: ActorValue;
  at: string;
}

export type EnvironmentCommand =
  | (On & { type: 'Freeze'; until: string | null; reason: string })
  | (On & { type: 'Unfreeze'; reason: string | null })
  | (On & { type: 'Pin'; candidate: CandidateRef; reason: string })
  | (On & { type: 'Unpin'; reason: string | null });

export interface EnvironmentRefusal {
  code: 'NOT_FROZEN' | 'NOT_PINNED' | 'FREEZE_IN_PAST';
  message: string;
}

export function decideEnvironment(command: EnvironmentCommand, state: EnvironmentState): E.Either<EnvironmentRefusal, EnvironmentEvent[]> {
  const { environment, by, at } = command;
  switch (command.type) {
    case 'Freeze':
      if (command.until !== null && Date.parse(command.until) <= Date.parse(at)) {
        return E.left({ code: 'FREEZE_IN_PAST', message: `a freeze until ${command.until} would already be over` });
      }
      return E.right([{ type: 'EnvironmentFrozen', environment, by, at, until: command.until, reason: command.reason }]);
    case 'Unfreeze':
      if (!state.freeze || (state.freeze.until !== null && Date.parse(state.freeze.until) <= Date.parse(at))) {
        return E.left({ code: 'NOT_FROZEN', message: `${environment} is not frozen` });
      }
      return E.right([{ type: 'EnvironmentUnfrozen', environment, by, at, reason: command.reason }]);
    case 'Pin':
      if (state.pin?.candidate.digest === command.candidate.digest) return E.right([]);
      return E.right([{ type: 'EnvironmentPinned', environment, by, at, candidate: command.candidate, reason: command.reason }]);
    case 'Unpin':
      if (!state.pin) return E.left({ code: 'NOT_PINNED', message: `${environment} is not pinned` });
      return E.right([{ type: 'EnvironmentUnpinned', environment, by, at, reason: command.reason }]);
  }
}

export function evolveEnvironment(state: EnvironmentState, event: EnvironmentEvent): EnvironmentState {
  switch (event.type) {
    case 'EnvironmentFrozen':
      return { ...state, environment: event.environment, freeze: { until: event.until, reason: event.reason, by: event.by, at: event.at } };
    case 'EnvironmentUnfrozen':
      return { ...state, environment: event.environment, freeze: null };
    case 'EnvironmentPinned':
      return { ...state, environment: event.environment, pin: { candidate: event.candidate, reason: event.reason, by: event.by, at: event.at } };
    case 'EnvironmentUnpinned':
      return { ...state, environment: event.environment, pin: null };
  }
}

export const environmentStream = (environment: string) => `release-environment-${environment}`;

// ── The cut ─────────────────────────────────────────────────────────────────

export type CandidateCut = Extract<CandidateEvent, { type: 'CandidateCut' }>;
export type CandidateState = CandidateCut | null;

export interface CandidateRefusal {
  code: 'CANDIDATE_EXISTS';
  message: string;
}

/** A candidate is cut once; the same cut again is a no-op, another one under its id is refused. */
export function decideCut(cut: CandidateCut, state: CandidateState): E.Either<CandidateRefusal, CandidateEvent[]> {
  if (state === null) return E.right([cut]);
  if (state.candidate.digest === cut.candidate.digest) return E.right([]);
  return E.left({ code: 'CANDIDATE_EXISTS', message: `${cut.candidate.id} was already cut as ${state.candidate.digest}` });
}

export const evolveCut = (_: CandidateState, event: CandidateEvent): CandidateState => event;

export const candidateStream = (id: string) => `release-candidate-${id}`;
