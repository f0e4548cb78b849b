// The release journal: the promotion, environment and candidate aggregates in
// Kepler's own event store. Commands are decided on the stream's state and
// appended with its revision as the expectation, so two operators acting at
// once are serialised by the store; the whole history folds into the view the
// gates and `pipeline status` read.
import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import type { TSchema } from '@sinclair/typebox';
import { WrongExpectedRevisionError, type Actor, type EventStore, type RecordedEvent } from '../eventstore/index.js';
import {
  candidateStream,
  decideCut,
  decideEnvironment,
  environmentStream,
  evolveCut,
  evolveEnvironment,
  initialEnvironmentState,
  type CandidateCut,
  type CandidateState,
  type EnvironmentCommand,
  type EnvironmentState,
} from './environment.js';
import { decide, evolve, initialPromotionState, promotionStream, type PromotionCommand, type PromotionState } from './promotion.js';
import { CandidateEvent, EnvironmentEvent, PromotionEvent } from './schemas.js';
import { validate } from './validate.js';

export const RELEASE_STREAMS = 'release-';

/** A command the aggregate refused: the operator's error, not the system's. */
export class RefusedError extends Error {
  override readonly name = 'RefusedError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Aggregate<S, C, Ev extends { type: string }> {
  initial: S;
  evolve(state: S, event: Ev): S;
  decide(command: C, state: S): E.Either<{ code: string; message: string }, Ev[]>;
  schema: TSchema;
}

const promotion: Aggregate<PromotionState, PromotionCommand, PromotionEvent> = { initial: initialPromotionState, evolve, decide, schema: PromotionEvent };
const environmentAggregate: Aggregate<EnvironmentState, EnvironmentCommand, EnvironmentEvent> = {
  initial: initialEnvironmentState,
  evolve: evolveEnvironment,
  decide: decideEnvironment,
  schema: EnvironmentEvent,
};
const cutAggregate: Aggregate<CandidateState, CandidateCut, CandidateEvent> = { initial: null, evolve: evolveCut, decide: decideCut, schema: CandidateEvent };

async function execute<S, C, Ev extends { type: string }>(
  store: EventStore,
  stream: string,
  aggregate: Aggregate<S, C, Ev>,
  command: C,
  meta: { correlationId: string; actor: Actor },
): Promise<{ events: Ev[]; state: S }> {
  for (let attempt = 1; ; attempt++) {
    const recorded = await store.readStream(stream);
    const state = recorded.reduce((s, e) => aggregate.evolve(s, e.data as Ev), aggregate.initial);
    const decision = aggregate.decide(command, state);
    if (E.isLeft(decision)) throw new RefusedError(decision.left.code, decision.left.message);
    const events = decision.right;
    if (events.length === 0) return { events, state };
    for (const event of events) validate(aggregate.schema, event, `${event.type} event`);
    try {
      await store.append(
        stream,
        events.map((data) => ({ id: randomUUID(), type: data.type, data, metadata: { correlationId: meta.correlationId, actor: meta.actor } })),
        recorded.length === 0 ? 'no_stream' : recorded.length - 1,
      );
      return { events, state: events.reduce(aggregate.evolve, state) };
    } catch (error) {
      // Someone else wrote to the stream since it was read: decide again on what they wrote.
      if (!(error instanceof WrongExpectedRevisionError) || attempt >= 10) throw error;
    }
  }
}

export class Journal {
  constructor(
    private readonly store: EventStore,
    private readonly actor: Actor,
  ) {}

  promotion(command: PromotionCommand): Promise<{ events: PromotionEvent[]; state: PromotionState }> {
    return execute(this.store, promotionStream(command.environment, command.candidate.id), promotion, command, {
      correlationId: `release-${command.candidate.id}`,
      actor: this.actor,
    });
  }

  environment(command: EnvironmentCommand): Promise<{ events: EnvironmentEvent[]; state: EnvironmentState }> {
    return execute(this.store, environmentStream(command.environment), environmentAggregate, command, { correlationId: `environment-${command.environment}`, actor: this.actor });
  }

  cut(event: CandidateCut): Promise<{ events: CandidateEvent[]; state: CandidateState }> {
    return execute(this.store, candidateStream(event.candidate.id), cutAggregate, event, { correlationId: `release-${event.candidate.id}`, actor: this.actor });
  }

  async history(): Promise<History> {
    const events: RecordedEvent[] = [];
    for (let after = 0; ; ) {
      const page = await this.store.readAll(after, { maxCount: 1000, filter: { streamPrefixes: [RELEASE_STREAMS] } });
      events.push(...page.events);
      after = page.scannedTo;
      if (page.endOfStore) break;
    }
    return foldHistory(events);
  }
}

// ── The history every gate and `pipeline status` read ───────────────────────

export interface LogEntry {
  position: number;
  type: string;
  environment: string | null;
  candidate: string | null;
  at: string;
  actor: string | null;
  summary: string;
}

export interface History {
  /** Keyed by promotionKey(environment, id). */
  promotions: Map<string, PromotionState>;
  environments: Map<string, EnvironmentState>;
  cuts: Map<string, CandidateCut>;
  log: LogEntry[];
}

export const promotionKey = (environment: string, id: string) => `${environment}\u0000${id}`;

export function foldHistory(events: readonly RecordedEvent[]): History {
  const history: History = { promotions: new Map(), environments: new Map(), cuts: new Map(), log: [] };
  for (const recorded of events) {
    const data = recorded.data as PromotionEvent | EnvironmentEvent | CandidateEvent;
    const actor = recorded.metadata.actor?.subject ?? null;
    if (recorded.stream.startsWith('release-promotion-')) {
      const event = data as PromotionEvent;
      const key = promotionKey(event.environment, event.candidate.id);
      history.promotions.set(key, evolve(history.promotions.get(key) ?? initialPromotionState, event));
      history.log.push({ position: recorded.position, type: event.type, environment: event.environment, candidate: event.candidate.id, at: event.at, actor, summary: summarise(event) });
    } else if (recorded.stream.startsWith('release-environment-')) {
      const event = data as EnvironmentEvent;
      history.environments.set(event.environment, evolveEnvironment(history.environments.get(event.environment) ?? initialEnvironmentState, event));
      history.log.push({ position: recorded.position, type: event.type, environment: event.environment, candidate: null, at: event.at, actor, summary: summarise(event) });
    } else if (recorded.stream.startsWith('release-candidate-')) {
      const event = data as CandidateCut;
      history.cuts.set(event.candidate.id, event);
      history.log.push({ position: recorded.position, type: event.type, environment: null, candidate: event.candidate.id, at: event.at, actor, summary: summarise(event) });
    }
  }
  return history;
}

export function promotionOf(history: History, environment: string, id: string): PromotionState {
  return history.promotions.get(promotionKey(environment, id)) ?? initialPromotionState;
}

export function environmentStateOf(history: History, environment: string): EnvironmentState {
  return history.environments.get(environment) ?? initialEnvironmentState;
}

function summarise(event: PromotionEvent | EnvironmentEvent | CandidateEvent): string {
  switch (event.type) {
    case 'PromotionRequested':
      return `${event.kind} of ${event.candidate.id} to ${event.environment} requested (attempt ${event.attempt}, into slot ${event.slot})${event.reason ? `: ${event.reason}` : ''}`;
    case 'GateEvaluated':
      return `gate ${event.gate}: ${event.verdict}${event.waived ? ` (waived: ${event.waived})` : ''} — ${event.reason}`;
    case 'PromotionApproved':
      return `approved by ${event.approver.subject}${event.overrides.length ? ` (overrides ${event.overrides.join(', ')})` : ''}${event.reason ? `: ${event.reason}` : ''}`;
    case 'PromotionApplied':
      return `applied in commit ${event.commit.slice(0, 12)}, tag ${event.tag}, slot ${event.slot}`;
    case 'SlotSwitched':
      return `traffic switched ${event.from ? `from ${event.from} ` : ''}to ${event.to}`;
    case 'PromotionVerified':
      return `verified by ${event.by.subject}${event.evidence ? `: ${event.evidence}` : ''}`;
    case 'PromotionSoaked':
      return `soaked for ${Math.round(event.soakedMs / 60_000)} min`;
    case 'PromotionRolledBack':
      return `rolled back to ${event.to.id}: ${event.reason}`;
    case 'PromotionReplaced':
      return `replaced by ${event.by.id} in slot ${event.slot}`;
    case 'PromotionVetoed':
      return `vetoed by ${event.by.subject}: ${event.reason}`;
    case 'VetoLifted':
      return `veto lifted by ${event.by.subject}: ${event.reason}`;
    case 'EnvironmentFrozen':
      return `frozen${event.until ? ` until ${event.until}` : ''}: ${event.reason}`;
    case 'EnvironmentUnfrozen':
      return 'freeze lifted';
    case 'EnvironmentPinned':
      return `pinned to ${event.candidate.id}: ${event.reason}`;
    case 'EnvironmentUnpinned':
      return 'pin lifted';
    case 'CandidateCut':
      return `cut ${event.candidate.id} (${event.version})${event.parent ? ` from ${event.parent.id}: ${event.reason}` : ''}`;
  }
}
