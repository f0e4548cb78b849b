import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import {
  applyChange,
  cutoverSteps,
  decideAffinity,
  decideCutover,
  evolveCutover,
  evolveRegistry,
  INITIAL_CUTOVER,
  INITIAL_REGISTRY,
  INITIAL_ROUTING,
  liveAt,
  liveSince,
  nextStep,
  UNOWNED,
  type CutoverCommand,
  type CutoverState,
  type SlotRouting,
} from './index.js';

const actor = { subject: 'ops', clientId: 'kepler-cli' };
const who = { actor, at: '2026-12-01T10:00:00Z' };
const context = { slot: 'green' as const, position: 100, live: 'green' as const, liveSince: 50, peerProgress: 99 };

describe('slot affinity', () => {
  it('before any slot was made live, every slot decides and nothing is recorded', () => {
    expect(decideAffinity('T1', UNOWNED, { ...context, live: undefined, liveSince: null })).toEqual({ kind: 'decide' });
  });

  it('the live slot claims a new trade; the idle slot leaves it', () => {
    expect(decideAffinity('T1', UNOWNED, context)).toMatchObject({ kind: 'claim', event: { type: 'SlotClaimed', slot: 'green', tradeRef: 'T1' }, recoverAfter: null });
    expect(decideAffinity('T1', UNOWNED, { ...context, slot: 'blue' })).toMatchObject({ kind: 'skip', owner: null });
  });

  it('a claim right after a cut-over looks for what the previous live slot had not reached', () => {
    expect(decideAffinity('T1', UNOWNED, { ...context, peerProgress: 40 })).toMatchObject({ kind: 'claim', recoverAfter: 40 });
  });

  it('a trade in flight finishes on its slot; the live slot takes it over once the other has passed every earlier input', () => {
    const blueOwns = { owner: 'blue' as const, at: 10 };
    expect(decideAffinity('T1', blueOwns, { ...context, slot: 'blue' })).toEqual({ kind: 'decide' });
    expect(decideAffinity('T1', blueOwns, { ...context, peerProgress: 80 })).toMatchObject({ kind: 'skip', owner: 'blue' });
    expect(decideAffinity('T1', blueOwns, context)).toMatchObject({ kind: 'take-over', event: { type: 'SlotHandedOver', from: 'blue', to: 'green', reason: 'quiescent', since: null } });
    // The idle slot never takes a trade from the live one.
    expect(decideAffinity('T1', { owner: 'green', at: 10 }, { ...context, slot: 'blue', live: 'green', peerProgress: 1000 })).toMatchObject({ kind: 'skip' });
  });
});

describe('slot registry', () => {
  const change = (routing: Partial<SlotRouting>, position: number, revision: number) => ({ data: { type: 'SlotsChanged', ...INITIAL_ROUTING, ...routing }, position, revision });

  it('knows the live slot as of any position, and since when a slot has been live', () => {
    let state = evolveRegistry(INITIAL_REGISTRY, change({ live: 'blue', publishing: ['blue'] }, 10, 0));
    state = evolveRegistry(state, change({ live: 'green', publishing: ['blue', 'green'] }, 20, 1));
    expect(liveAt(state, 5)).toBeUndefined();
    expect(liveAt(state, 11)).toBe('blue');
    expect(liveAt(state, 20)).toBe('blue');
    expect(liveAt(state, 21)).toBe('green');
    expect(liveSince(state, 'green', 30)).toBe(20);
    expect(liveSince(state, 'blue', 30)).toBeNull();
    expect(state.publishingSince).toEqual({ blue: 10, green: 20 });
  });
});

describe('cut-over plan', () => {
  const run = (state: CutoverState, command: CutoverCommand) => {
    const decided = decideCutover(command, state, who);
    if (E.isLeft(decided)) throw new Error(decided.left.message);
    return decided.right.reduce(evolveCutover, state);
  };

  it('makes before it breaks: at every step some slot takes the feed and publishes events', () => {
    const blue: SlotRouting = { live: 'blue', feed: ['blue'], events: ['blue'], publishing: ['blue'] };
    const steps = cutoverSteps(blue, 'green');
    expect(steps.map((s) => s.name)).toEqual([
      "bind green's feed queue",
      "bind green's events exchange",
      "start green's publisher",
      'make green live (new trades start there)',
      "stop blue's publisher",
      "unbind blue's events exchange",
      "unbind blue's feed queue",
    ]);
    let routing = blue;
    for (const step of steps) {
      routing = applyChange(routing, step.change);
      expect(routing.feed.length).toBeGreaterThan(0);
      expect(routing.events.length).toBeGreaterThan(0);
      expect(routing.publishing!.length).toBeGreaterThan(0);
    }
    expect(routing).toEqual({ live: 'green', feed: ['green'], events: ['green'], publishing: ['green'] });
    // Every inverse, newest first, goes back to where it started.
    for (const step of [...steps].reverse()) routing = applyChange(routing, step.inverse);
    expect(routing).toEqual(blue);
  });

  it('is carried out in order, can halt part-way and resume, and rolls back newest first', () => {
    let state = run(INITIAL_CUTOVER, { type: 'Plan', id: 'c1', routing: { live: 'blue', feed: ['blue'], events: ['blue'], publishing: ['blue'] }, to: 'green' });
    expect(E.isLeft(decideCutover({ type: 'CarryOutStep', index: 1, check: 'ok' }, state, who))).toBe(true);
    state = run(state, { type: 'CarryOutStep', index: 0, check: 'ok' });
    state = run(state, { type: 'Halt', reason: 'operator' });
    expect(state.status).toBe('halted');
    expect(nextStep(state)).toMatchObject({ index: 1, direction: 'forward' });
    state = run(state, { type: 'CarryOutStep', index: 1, check: 'ok' });
    expect(E.isLeft(decideCutover({ type: 'Complete' }, state, who))).toBe(true);
    state = run(state, { type: 'StartRollback' });
    expect(nextStep(state)).toMatchObject({ index: 1, direction: 'back' });
    state = run(state, { type: 'RevertStep', index: 1, check: 'ok' });
    state = run(state, { type: 'RevertStep', index: 0, check: 'ok' });
    expect(nextStep(state)).toBeNull();
    state = run(state, { type: 'FinishRollback' });
    expect(state.status).toBe('rolled-back');
    expect(state.history.map((h) => h.what)).toContain("undid step 1: unbind green's feed queue (ok)");
    expect(state.history.every((h) => h.actor.subject === 'ops')).toBe(true);
  });

  it('refuses a cut-over to the slot that already is the only one', () => {
    const decided = decideCutover({ type: 'Plan', id: 'c2', routing: { live: 'blue', feed: ['blue'], events: ['blue'], publishing: ['blue'] }, to: 'blue' }, INITIAL_CUTOVER, who);
    expect(E.isLeft(decided) && decided.left.code).toBe('NOTHING_TO_DO');
  });
});
