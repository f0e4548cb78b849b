// A cut-over as a recorded, reversible plan: an aggregate with a stream of its own
// (cutover-{id}) holding each step, its inverse, who carried it out and when. Pure.
import * as E from 'fp-ts/lib/Either.js';
import type { Actor } from '../eventstore/index.js';
import { otherSlot, type Slot } from '../messaging/index.js';
import type { SlotRouting } from './registry.js';

/** One change of the routing; every step makes one, and its inverse makes the opposite one. */
export type RoutingChange =
  | { kind: 'route-feed' | 'route-events' | 'publish'; slot: Slot; on: boolean }
  | { kind: 'live'; slot: Slot | null };

export interface CutoverStep {
  name: string;
  change: RoutingChange;
  inverse: RoutingChange;
}

export function applyChange(routing: SlotRouting, change: RoutingChange): SlotRouting {
  const toggle = (slots: readonly Slot[], slot: Slot, on: boolean) => (on ? [...new Set([...slots, slot])] : slots.filter((s) => s !== slot));
  switch (change.kind) {
    case 'live':
      return { ...routing, live: change.slot };
    case 'route-feed':
      return { ...routing, feed: toggle(routing.feed, change.slot, change.on) };
    case 'route-events':
      return { ...routing, events: toggle(routing.events, change.slot, change.on) };
    case 'publish':
      // Nothing recorded yet means every publisher ran: the first change names them.
      return { ...routing, publishing: toggle(routing.publishing ?? [], change.slot, change.on) };
  }
}

export function describeChange(change: RoutingChange): string {
  switch (change.kind) {
    case 'live':
      return change.slot ? `make ${change.slot} live (new trades start there)` : 'make no slot live';
    case 'route-feed':
      return `${change.on ? 'bind' : 'unbind'} ${change.slot}'s feed queue`;
    case 'route-events':
      return `${change.on ? 'bind' : 'unbind'} ${change.slot}'s events exchange`;
    case 'publish':
      return `${change.on ? 'start' : 'stop'} ${change.slot}'s publisher`;
  }
}

/**
 * The steps from `routing` to `to` being the only slot: make before break
 * everywhere, so at every step at least one slot takes the feed and publishes.
 * Steps that would change nothing are left out.
 */
export function cutoverSteps(routing: SlotRouting, to: Slot): CutoverStep[] {
  const from = otherSlot(to);
  const changes: RoutingChange[] = [];
  if (!routing.feed.includes(to)) changes.push({ kind: 'route-feed', slot: to, on: true });
  if (!routing.events.includes(to)) changes.push({ kind: 'route-events', slot: to, on: true });
  if (!(routing.publishing ?? []).includes(to) || routing.publishing === null) changes.push({ kind: 'publish', slot: to, on: true });
  if (routing.live !== to) changes.push({ kind: 'live', slot: to });
  if (routing.publishing === null || routing.publishing.includes(from)) changes.push({ kind: 'publish', slot: from, on: false });
  if (routing.events.includes(from)) changes.push({ kind: 'route-events', slot: from, on: false });
  if (routing.feed.includes(from)) changes.push({ kind: 'route-feed', slot: from, on: false });
  const steps: CutoverStep[] = [];
  let state = routing;
  for (const change of changes) {
    steps.push({ name: describeChange(change), change, inverse: inverseOf(change, state) });
    state = applyChange(state, change);
  }
  return steps;
}

function inverseOf(change: RoutingChange, before: SlotRouting): RoutingChange {
  if (change.kind === 'live') return { kind: 'live', slot: before.live };
  return { ...change, on: !change.on };
}

// ---------------------------------------------------------------------------
// The aggregate

export type CutoverStatus = 'planned' | 'halted' | 'completed' | 'rolling-back' | 'rolled-back';

export type CutoverEvent =
  | { type: 'CutoverPlanned'; id: string; from: Slot | null; to: Slot; steps: CutoverStep[]; actor: Actor; at: string }
  | { type: 'CutoverStepCarriedOut'; id: string; index: number; check: string; actor: Actor; at: string }
  | { type: 'CutoverHalted'; id: string; afterStep: number; reason: string; actor: Actor; at: string }
  | { type: 'CutoverCompleted'; id: string; actor: Actor; at: string }
  | { type: 'RollbackStarted'; id: string; actor: Actor; at: string }
  | { type: 'CutoverStepReverted'; id: string; index: number; check: string; actor: Actor; at: string }
  | { type: 'CutoverRolledBack'; id: string; actor: Actor; at: string };

export const CUTOVER_EVENT_TYPES: readonly CutoverEvent['type'][] = [
  'CutoverPlanned',
  'CutoverStepCarriedOut',
  'CutoverHalted',
  'CutoverCompleted',
  'RollbackStarted',
  'CutoverStepReverted',
  'CutoverRolledBack',
];

export interface CutoverState {
  id: string | null;
  from: Slot | null;
  to: Slot | null;
  steps: readonly CutoverStep[];
  /** Steps carried out forward. */
  done: number;
  /** Steps undone by a rollback, from the last done backwards. */
  reverted: number;
  status: CutoverStatus | null;
  history: ReadonlyArray<{ what: string; actor: Actor; at: string }>;
}

export const INITIAL_CUTOVER: CutoverState = { id: null, from: null, to: null, steps: [], done: 0, reverted: 0, status: null, history: [] };

export type CutoverCommand =
  | { type: 'Plan'; id: string; routing: SlotRouting; to: Slot }
  | { type: 'CarryOutStep'; index: number; check: string }
  | { type: 'Halt'; reason: string }
  | { type: 'Complete' }
  | { type: 'StartRollback' }
  | { type: 'RevertStep'; index: number; check: string }
  | { type: 'FinishRollback' };

export interface CutoverError {
  code: 'EXISTS' | 'NOT_FOUND' | 'OUT_OF_ORDER' | 'FINISHED' | 'NOTHING_TO_DO';
  message: string;
}

export function cutoverStream(id: string): string {
  return `cutover-${id}`;
}

/** The next step to carry out (forward, or back in a rollback), or null when there is none. */
export function nextStep(state: CutoverState): { index: number; step: CutoverStep; direction: 'forward' | 'back' } | null {
  if (state.status === 'rolling-back') {
    const index = state.done - 1 - state.reverted;
    return index >= 0 ? { index, step: state.steps[index]!, direction: 'back' } : null;
  }
  if (state.status === 'planned' || state.status === 'halted') {
    return state.done < state.steps.length ? { index: state.done, step: state.steps[state.done]!, direction: 'forward' } : null;
  }
  return null;
}

export function decideCutover(command: CutoverCommand, state: CutoverState, who: { actor: Actor; at: string }): E.Either<CutoverError, CutoverEvent[]> {
  const base = { actor: who.actor, at: who.at };
  if (command.type === 'Plan') {
    if (state.id !== null) return E.left({ code: 'EXISTS', message: `cut-over ${command.id} already exists` });
    const steps = cutoverSteps(command.routing, command.to);
    if (steps.length === 0) return E.left({ code: 'NOTHING_TO_DO', message: `${command.to} is already the only slot, live and routed` });
    return E.right([{ type: 'CutoverPlanned', id: command.id, from: command.routing.live, to: command.to, steps, ...base }]);
  }
  const id = state.id;
  if (id === null) return E.left({ code: 'NOT_FOUND', message: 'no such cut-over' });
  const finished = state.status === 'completed' || state.status === 'rolled-back';
  switch (command.type) {
    case 'CarryOutStep': {
      const next = nextStep(state);
      if (!next || next.direction !== 'forward' || next.index !== command.index) return E.left(outOfOrder(id, `step ${command.index + 1} is not the next one`));
      return E.right([{ type: 'CutoverStepCarriedOut', id, index: command.index, check: command.check, ...base }]);
    }
    case 'Halt':
      if (finished) return E.left({ code: 'FINISHED', message: `cut-over ${id} is ${state.status}` });
      return E.right([{ type: 'CutoverHalted', id, afterStep: state.done, reason: command.reason, ...base }]);
    case 'Complete':
      if (state.status === 'completed') return E.right([]);
      if (state.status === 'rolling-back' || state.status === 'rolled-back' || state.done < state.steps.length) return E.left(outOfOrder(id, 'not every step was carried out'));
      return E.right([{ type: 'CutoverCompleted', id, ...base }]);
    case 'StartRollback':
      if (state.status === 'rolling-back') return E.right([]);
      if (state.status === 'rolled-back') return E.left({ code: 'FINISHED', message: `cut-over ${id} was already rolled back` });
      return E.right([{ type: 'RollbackStarted', id, ...base }]);
    case 'RevertStep': {
      const next = nextStep(state);
      if (!next || next.direction !== 'back' || next.index !== command.index) return E.left(outOfOrder(id, `step ${command.index + 1} is not the next one to undo`));
      return E.right([{ type: 'CutoverStepReverted', id, index: command.index, check: command.check, ...base }]);
    }
    case 'FinishRollback':
      if (state.status !== 'rolling-back' || state.reverted < state.done) return E.left(outOfOrder(id, 'steps remain to be undone'));
      return E.right([{ type: 'CutoverRolledBack', id, ...base }]);
  }
}

function outOfOrder(id: string, message: string): CutoverError {
  return { code: 'OUT_OF_ORDER', message: `cut-over ${id}: ${message}` };
}

export function evolveCutover(state: CutoverState, event: CutoverEvent): CutoverState {
  const noted = (what: string): CutoverState['history'] => [...state.history, { what, actor: event.actor, at: event.at }];
  switch (event.type) {
    case 'CutoverPlanned':
      return { ...INITIAL_CUTOVER, id: event.id, from: event.from, to: event.to, steps: event.steps, status: 'planned', history: noted(`planned ${event.from ?? 'no slot'} → ${event.to}`) };
    case 'CutoverStepCarriedOut':
      return { ...state, done: event.index + 1, status: state.status === 'halted' ? 'planned' : state.status, history: noted(`step ${event.index + 1}: ${state.steps[event.index]?.name} (${event.check})`) };
    case 'CutoverHalted':
      return { ...state, status: 'halted', history: noted(`halted after step ${event.afterStep}: ${event.reason}`) };
    case 'CutoverCompleted':
      return { ...state, status: 'completed', history: noted('completed') };
    case 'RollbackStarted':
      return { ...state, status: 'rolling-back', history: noted('rollback started') };
    case 'CutoverStepReverted':
      return { ...state, reverted: state.reverted + 1, history: noted(`undid step ${event.index + 1}: ${describeChange(state.steps[event.index]!.inverse)} (${event.check})`) };
    case 'CutoverRolledBack':
      return { ...state, status: 'rolled-back', history: noted('rolled back') };
  }
}
