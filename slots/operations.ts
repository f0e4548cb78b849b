// Carrying out slot operations against the event store and the broker: cut-over
// plans step by step with checks between steps, rollbacks, drains, and the status.
import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import type { Actor, EventStore } from '../eventstore/index.js';
import { deterministicId, WrongExpectedRevisionError } from '../eventstore/index.js';
import { moveMessages, openConnection, SLOTS, type Slot, type TopologyNames } from '../messaging/index.js';
import { converge, type TopologyTarget } from '../topology/index.js';
import { evolveOwnership, OWNERSHIP_EVENT_TYPES, SLOT_HANDED_OVER, slotCheckpointName, type Ownership, type OwnershipEvent, type SlotHandedOver } from './affinity.js';
import {
  applyChange,
  cutoverStream,
  CUTOVER_EVENT_TYPES,
  decideCutover,
  evolveCutover,
  INITIAL_CUTOVER,
  nextStep,
  type CutoverCommand,
  type CutoverEvent,
  type CutoverState,
  type RoutingChange,
} from './cutover.js';
import { readRegistry, recordRouting, REGISTRY_STREAM, type SlotsChanged } from './registry.js';

const NEVER_RAN_GRACE_MS = 5000;

/** The followers whose progress tells whether a slot has finished what it took. */
export const SLOT_PROCESSORS = ['trade-processor', 'booking-manager'] as const;

export interface SlotOperations {
  store: EventStore;
  broker: TopologyTarget;
  names: TopologyNames;
  actor: Actor;
  /** How many partitions each slot's processors run in (their checkpoints are named by it). */
  partitions: number;
  /** How long a check between steps waits (publisher started, processors caught up). */
  checkTimeoutMs?: number;
  say?: (line: string) => void;
}

export class CutoverRefusedError extends Error {
  override readonly name = 'CutoverRefusedError';
}

// ---------------------------------------------------------------------------
// Cut-over plans

async function loadCutover(store: EventStore, id: string): Promise<{ state: CutoverState; revision: number | null }> {
  const events = await store.readStream(cutoverStream(id));
  return { state: events.reduce((s, e) => evolveCutover(s, e.data as CutoverEvent), INITIAL_CUTOVER), revision: events.at(-1)?.revision ?? null };
}

async function execute(ops: SlotOperations, id: string, command: CutoverCommand): Promise<CutoverState> {
  const { state, revision } = await loadCutover(ops.store, id);
  const decided = decideCutover(command, state, { actor: ops.actor, at: new Date().toISOString() });
  if (E.isLeft(decided)) throw new CutoverRefusedError(decided.left.message);
  if (decided.right.length === 0) return state;
  const stream = cutoverStream(id);
  try {
    await ops.store.append(
      stream,
      decided.right.map((event, i) => ({ id: deterministicId(stream, (revision ?? -1) + 1 + i), type: event.type, data: event, metadata: { correlationId: stream, actor: ops.actor } })),
      revision ?? 'no_stream',
    );
  } catch (error) {
    if (error instanceof WrongExpectedRevisionError) throw new CutoverRefusedError(`cut-over ${id} was changed by someone else meanwhile`);
    throw error;
  }
  return decided.right.reduce(evolveCutover, state);
}

/** Makes and records the plan for making `to` the only slot. */
export async function planCutover(ops: SlotOperations, to: Slot): Promise<CutoverState> {
  const { routing } = await readRegistry(ops.store);
  const id = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${to}-${randomUUID().slice(0, 8)}`;
  return execute(ops, id, { type: 'Plan', id, routing, to });
}

export interface RunOptions {
  /** Stop after carrying out this many steps (1-based), leaving the plan halted part-way. */
  untilStep?: number;
  /** Stops the run after the step in progress (Ctrl-C). */
  signal?: AbortSignal;
}

/** Carries out the plan's remaining steps (forward, or back in a rollback), checking between steps. */
export async function runCutover(ops: SlotOperations, id: string, options: RunOptions = {}): Promise<CutoverState> {
  let { state } = await loadCutover(ops.store, id);
  if (state.id === null) throw new CutoverRefusedError(`no cut-over ${id}`);
  for (let next = nextStep(state); next; next = nextStep(state)) {
    if (options.signal?.aborted) return execute(ops, id, { type: 'Halt', reason: 'stopped by the operator' });
    if (next.direction === 'forward' && options.untilStep !== undefined && next.index >= options.untilStep) {
      return execute(ops, id, { type: 'Halt', reason: `stopped after step ${options.untilStep} as asked` });
    }
    const change = next.direction === 'forward' ? next.step.change : next.step.inverse;
    ops.say?.(`${next.direction === 'forward' ? 'step' : 'undo step'} ${next.index + 1}/${state.steps.length}: ${next.direction === 'forward' ? next.step.name : `undo "${next.step.name}"`}`);
    const check = await carryOutChange(ops, id, `${next.direction}:${next.index}`, change).catch((error: unknown) => ({ failed: error instanceof Error ? error.message : String(error) }));
    if (typeof check !== 'string') {
      ops.say?.(`  check failed: ${check.failed}`);
      return execute(ops, id, { type: 'Halt', reason: check.failed });
    }
    ops.say?.(`  ok: ${check}`);
    state = await execute(ops, id, next.direction === 'forward' ? { type: 'CarryOutStep', index: next.index, check } : { type: 'RevertStep', index: next.index, check });
  }
  if (state.status === 'rolling-back') return execute(ops, id, { type: 'FinishRollback' });
  if (state.status === 'planned' && state.done === state.steps.length) return execute(ops, id, { type: 'Complete' });
  return state;
}

/** Plays the inverses of the steps carried out, newest first. */
export async function rollbackCutover(ops: SlotOperations, id: string, options: RunOptions = {}): Promise<CutoverState> {
  await settleInterruptedStep(ops, id);
  await execute(ops, id, { type: 'StartRollback' });
  return runCutover(ops, id, options);
}

/**
 * A step changes the registry first and is recorded as carried out after its
 * checks: a run stopped in between (a crash, a kill) leaves a change the plan
 * does not know of. The registry's own record (each change names its cut-over
 * and step) says it was made, so a rollback undoes it too. Resuming forward
 * needs nothing: the step is carried out again, and its change is idempotent.
 */
async function settleInterruptedStep(ops: SlotOperations, id: string): Promise<void> {
  const { state } = await loadCutover(ops.store, id);
  const next = nextStep(state);
  if (!next || next.direction !== 'forward') return;
  const changes = (await ops.store.readStream(REGISTRY_STREAM)).map((event) => event.data as SlotsChanged).filter((change) => change.cutoverId === id);
  if (changes.at(-1)?.step !== `forward:${next.index}`) return;
  ops.say?.(`step ${next.index + 1}/${state.steps.length} changed the registry before the run stopped: it is undone too`);
  await execute(ops, id, { type: 'CarryOutStep', index: next.index, check: 'found in the slot registry after an interrupted run' });
}

/** Records the change in the registry, brings the broker in line, and checks what the change needs. Returns what was checked. */
async function carryOutChange(ops: SlotOperations, id: string, step: string, change: RoutingChange): Promise<string> {
  const registry = await readRegistry(ops.store);
  const routing = applyChange(registry.routing, change);
  const recorded = await recordRouting(ops.store, routing, { expectedRevision: registry.revision, cutoverId: id, step, actor: ops.actor });
  const converged = await converge(ops.broker, async () => routing);
  if (converged.remaining.ops.some((op) => op.action === 'bind' || op.action === 'unbind')) {
    throw new Error(`the broker's bindings do not match yet: ${converged.refused.map((r) => r.reason).join('; ') || 'another writer changed them'}`);
  }
  const checks = [`bindings as the registry says (${converged.applied.length} operations)`];
  if (change.kind === 'route-feed' && change.on && registry.routing.feed.length === 0) {
    checks.push(`${await moveUnrouted(ops, change.slot)} messages that waited unrouted moved on`);
  }
  if (change.kind === 'publish' && change.on) checks.push(await waitForFollowers(ops, change.slot, ['publisher:'], recorded.position));
  if (change.kind === 'live' && change.slot) checks.push(await waitForFollowers(ops, change.slot, SLOT_PROCESSORS, recorded.position));
  return checks.join('; ');
}

async function moveUnrouted(ops: SlotOperations, slot: Slot): Promise<number> {
  const connection = await openConnection(ops.broker.access.amqpUrl, 'kepler-slot', ops.broker.access.tls);
  try {
    return await moveMessages(await connection.createConfirmChannel(), ops.names.unroutedQueue, ops.names.feedExchange, { slot });
  } finally {
    await connection.close().catch(() => {});
  }
}

/** The checkpoint names of a slot's followers of these kinds. */
export function followerCheckpoints(slot: Slot, kinds: readonly string[], partitions: number): string[] {
  return kinds.flatMap((kind) => {
    if (kind === 'publisher:') return [`publisher:${slot}`];
    const name = slotCheckpointName(kind, slot);
    return partitions === 1 ? [name] : Array.from({ length: partitions }, (_, i) => `${name}#${i}of${partitions}`);
  });
}

/** The slowest of a slot's followers of these kinds; null when none has ever stored a checkpoint. */
export async function slotProgress(ops: Pick<SlotOperations, 'store' | 'partitions'>, slot: Slot, kinds: readonly string[] = SLOT_PROCESSORS): Promise<number | null> {
  const positions = await Promise.all(followerCheckpoints(slot, kinds, ops.partitions).map((name) => ops.store.readCheckpoint(name)));
  if (positions.every((p) => p === null)) return null;
  return Math.min(...positions.map((p) => p ?? 0));
}

/**
 * Waits until the slot's followers have passed `position` (they then act on the
 * change). A slot whose followers never ran is noted, not waited for.
 */
async function waitForFollowers(ops: SlotOperations, slot: Slot, kinds: readonly string[], position: number): Promise<string> {
  const what = kinds[0] === 'publisher:' ? `${slot}'s publisher` : `${slot}'s processors`;
  const started = Date.now();
  const deadline = started + (ops.checkTimeoutMs ?? 30_000);
  for (;;) {
    const progress = await slotProgress(ops, slot, kinds);
    if (progress !== null && progress >= position) return `${what} passed position ${position}`;
    // Followers that never stored a checkpoint are not running (a running one stores one within a second or two).
    if (progress === null && Date.now() - started > NEVER_RAN_GRACE_MS) return `no ${what} has run yet: they start from the change when they do`;
    if (Date.now() > deadline) {
      throw new Error(`${what} did not reach position ${position} within ${ops.checkTimeoutMs ?? 30_000} ms (at ${progress}); are they running?`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// ---------------------------------------------------------------------------
// Ownership of trade streams

export interface OwnedStream {
  stream: string;
  tradeRef: string;
  ownership: Ownership;
}

/** Every decision stream with an owner, as the ownership events say (a scan of those events only). */
export async function ownedStreams(store: EventStore): Promise<Map<string, OwnedStream>> {
  const owned = new Map<string, OwnedStream>();
  let after = 0;
  for (;;) {
    const page = await store.readAll(after, { maxCount: 5000, filter: { eventTypes: OWNERSHIP_EVENT_TYPES } });
    for (const event of page.events) {
      const data = event.data as OwnershipEvent;
      const before = owned.get(event.stream)?.ownership ?? { owner: null, at: null };
      owned.set(event.stream, { stream: event.stream, tradeRef: data.tradeRef, ownership: evolveOwnership(before, data, event.position) });
    }
    if (page.endOfStore || page.scannedTo <= after) return owned;
    after = page.scannedTo;
  }
}

export interface DrainProgress {
  /** Trade streams the slot still owns. */
  owned: number;
  handedOver: number;
  /** How far the slot's processors have got, and the head they are to reach. */
  progress: number | null;
  head: number;
}

/**
 * Leaves `slot` owning nothing, so it can idle (intact, for a rollback) or go:
 * once its processors have passed the head, every stream it owns is quiescent and
 * is handed to the live slot; at the deadline, what it still owns is handed over
 * anyway, and the live slot decides whatever the drained slot left undecided.
 */
export async function drainSlot(ops: SlotOperations, slot: Slot, options: { deadlineMs: number; onProgress?: (progress: DrainProgress) => void; signal?: AbortSignal }): Promise<DrainProgress & { forced: number }> {
  const { routing } = await readRegistry(ops.store);
  if (routing.live === slot || routing.live === null) throw new CutoverRefusedError(`${slot} is ${routing.live === slot ? 'the live slot' : 'not drainable while no slot is live'}: cut over to the other slot first`);
  const live = routing.live;
  const deadline = Date.now() + options.deadlineMs;
  let handedOver = 0;
  for (;;) {
    // Progress before the head (see followersAtHead): a decision the slot commits between the two reads
    // then shows as a head beyond its progress, never as a progress level with a head read too early.
    const progress = await slotProgress(ops, slot);
    const head = await ops.store.headPosition();
    const owned = [...(await ownedStreams(ops.store)).values()].filter((s) => s.ownership.owner === slot);
    const report = { owned: owned.length, handedOver, progress, head };
    options.onProgress?.(report);
    if (owned.length === 0) return { ...report, forced: 0 };
    // No checkpoint under the names asked for (processors that never ran, or another partition count)
    // says nothing about what was decided: only a known position at the head is quiescent.
    const quiescent = progress !== null && progress >= head;
    const late = Date.now() >= deadline || options.signal?.aborted === true;
    if (quiescent || late) {
      const reason = quiescent ? 'drained' : 'deadline';
      let moved = 0;
      for (const stream of owned) if (await handOver(ops, stream, slot, live, reason, progress)) moved++;
      handedOver += moved;
      if (late && !quiescent) {
        const rest = [...(await ownedStreams(ops.store)).values()].filter((s) => s.ownership.owner === slot).length;
        options.onProgress?.({ owned: rest, handedOver, progress, head });
        return { owned: rest, handedOver, progress, head, forced: moved };
      }
      continue;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * `decidedUpTo` is how far the old owner's processors are known to have got;
 * unknown, the new owner looks again at every input since the old one took the
 * stream (inputs already handled are no-ops to it).
 */
async function handOver(ops: SlotOperations, owned: OwnedStream, from: Slot, to: Slot, reason: SlotHandedOver['reason'], decidedUpTo: number | null): Promise<boolean> {
  const events = await ops.store.readStream(owned.stream);
  const last = events.at(-1);
  const current = events.filter((e) => OWNERSHIP_EVENT_TYPES.includes(e.type)).reduce<Ownership>((o, e) => evolveOwnership(o, e.data as OwnershipEvent, e.position), { owner: null, at: null });
  if (!last || current.owner !== from) return false;
  const since = decidedUpTo ?? current.at ?? 0;
  const event: SlotHandedOver = { type: SLOT_HANDED_OVER, tradeRef: owned.tradeRef, from, to, reason, since };
  try {
    await ops.store.append(
      owned.stream,
      [{ id: deterministicId(owned.stream, last.revision + 1, SLOT_HANDED_OVER), type: SLOT_HANDED_OVER, data: event, metadata: { correlationId: owned.tradeRef, actor: ops.actor } }],
      last.revision,
    );
    return true;
  } catch (error) {
    if (error instanceof WrongExpectedRevisionError) return false; // it moved on: looked at again next round
    throw error;
  }
}

// ---------------------------------------------------------------------------
// Status

export interface SlotStatus {
  live: Slot | null;
  routing: { feed: readonly Slot[]; events: readonly Slot[]; publishing: readonly Slot[] | null };
  slots: Record<Slot, { ownedStreams: number; processors: number | null; publisher: number | null; queue: { messages: number; consumers: number } | null }>;
  head: number;
  cutovers: Array<{ id: string; from: Slot | null; to: Slot | null; status: string | null; done: number; steps: number; last: { what: string; actor: Actor; at: string } | null }>;
}

export async function slotStatus(ops: Pick<SlotOperations, 'store' | 'partitions' | 'broker' | 'names'>, options: { cutovers?: number } = {}): Promise<SlotStatus> {
  const registry = await readRegistry(ops.store);
  const owned = [...(await ownedStreams(ops.store)).values()];
  const queues = await queueDepths(ops).catch(() => null);
  const slots = {} as SlotStatus['slots'];
  for (const slot of SLOTS) {
    slots[slot] = {
      ownedStreams: owned.filter((s) => s.ownership.owner === slot).length,
      processors: await slotProgress(ops, slot),
      publisher: await ops.store.readCheckpoint(`publisher:${slot}`),
      queue: queues?.[slot] ?? null,
    };
  }
  const ids: string[] = [];
  let after = 0;
  for (;;) {
    const page = await ops.store.readAll(after, { maxCount: 5000, filter: { eventTypes: [CUTOVER_EVENT_TYPES[0]!] } });
    ids.push(...page.events.map((e) => (e.data as { id: string }).id));
    if (page.endOfStore || page.scannedTo <= after) break;
    after = page.scannedTo;
  }
  const cutovers = [];
  for (const id of ids.slice(-(options.cutovers ?? 5)).reverse()) {
    const { state } = await loadCutover(ops.store, id);
    cutovers.push({ id, from: state.from, to: state.to, status: state.status, done: state.done, steps: state.steps.length, last: state.history.at(-1) ?? null });
  }
  return { live: registry.routing.live, routing: registry.routing, slots, head: await ops.store.headPosition(), cutovers };
}

/** Each slot's feed queue, as the queue itself counts (not the lagging management statistics). */
async function queueDepths(ops: Pick<SlotOperations, 'broker' | 'names'>): Promise<Record<Slot, { messages: number; consumers: number }>> {
  const connection = await openConnection(ops.broker.access.amqpUrl, 'kepler-slot-status', ops.broker.access.tls);
  connection.on('error', () => {});
  try {
    const result = {} as Record<Slot, { messages: number; consumers: number }>;
    for (const slot of SLOTS) {
      const channel = await connection.createChannel();
      channel.on('error', () => {});
      const { messageCount, consumerCount } = await channel.checkQueue(ops.names.feedQueues[slot]);
      result[slot] = { messages: messageCount, consumers: consumerCount };
      await channel.close().catch(() => {});
    }
    return result;
  } finally {
    await connection.close().catch(() => {});
  }
}

export { loadCutover };
