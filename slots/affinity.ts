// Slot affinity: which slot decides for a trade. Pure: no I/O.
//
// Each decision stream (trade-{ref}, booking-{ref}) records its own owner as events
// in the stream itself, so a decision and the ownership it relied on are guarded by
// the same expected revision: a slot that lost a stream finds out on its next append.
import type { Slot } from '../messaging/index.js';

export const SLOT_CLAIMED = 'SlotClaimed';
export const SLOT_HANDED_OVER = 'SlotHandedOver';
export const OWNERSHIP_EVENT_TYPES: readonly string[] = [SLOT_CLAIMED, SLOT_HANDED_OVER];

/** The first decision for a stream was taken by `slot`. */
export interface SlotClaimed {
  type: typeof SLOT_CLAIMED;
  tradeRef: string;
  slot: Slot;
}

/**
 * The stream passes from one slot to the other. `quiescent`: the old owner had
 * decided every input before it; `drained`/`deadline`: recorded by a drain, and the
 * new owner decides every input after `since` that is still undecided.
 */
export interface SlotHandedOver {
  type: typeof SLOT_HANDED_OVER;
  tradeRef: string;
  from: Slot;
  to: Slot;
  reason: 'quiescent' | 'drained' | 'deadline';
  /** Inputs after this position may be undecided: the new owner looks for them. Null: none can be. */
  since: number | null;
}

export type OwnershipEvent = SlotClaimed | SlotHandedOver;

export interface Ownership {
  owner: Slot | null;
  /** Global position of the ownership event that stands. */
  at: number | null;
}

export const UNOWNED: Ownership = { owner: null, at: null };

export function isOwnershipEvent(type: string): boolean {
  return type === SLOT_CLAIMED || type === SLOT_HANDED_OVER;
}

export function evolveOwnership(_state: Ownership, event: OwnershipEvent, position: number): Ownership {
  return { owner: event.type === SLOT_CLAIMED ? event.slot : event.to, at: position };
}

export interface AffinityContext {
  /** The slot deciding. */
  slot: Slot;
  /** Position of the input (for a command: just past the head of the store). */
  position: number;
  /** The live slot as of that position; undefined while none was ever made live (affinity is then not in force). */
  live: Slot | null | undefined;
  /** The position from which this slot has been live, if it is. */
  liveSince: number | null;
  /**
   * How far the other slot's follower of the same kind has got (its checkpoint);
   * null when it never ran. Tells whether the other slot still has work for a stream.
   */
  peerProgress: number | null;
}

export type AffinityDecision =
  /** This slot owns the stream: decide. */
  | { kind: 'decide' }
  /** Nobody owns it and this slot is live: claim it with the first decision. `recoverAfter`: inputs after it may have been left by the previous live slot. */
  | { kind: 'claim'; event: SlotClaimed; recoverAfter: number | null }
  /** The other slot owns it but has nothing left to do for it: take it over with this decision. */
  | { kind: 'take-over'; event: SlotHandedOver }
  /** Not this slot's to decide. */
  | { kind: 'skip'; owner: Slot | null; reason: string };

/**
 * New trades start on the live slot; a trade in flight finishes on the slot that
 * started it; the live slot takes a stream over from the other at a quiescent
 * point, which is when the other slot's follower has passed every input before this one.
 */
export function decideAffinity(tradeRef: string, ownership: Ownership, context: AffinityContext): AffinityDecision {
  const { slot, position, live, peerProgress } = context;
  if (ownership.owner === slot) return { kind: 'decide' };
  if (ownership.owner === null) {
    // Until a slot is first made live, nothing is recorded: a single-slot platform works as it always did.
    if (live === undefined) return { kind: 'decide' };
    if (live !== slot) return { kind: 'skip', owner: null, reason: `new trades start on the live slot (${live ?? 'none'})` };
    // The slot live before this one may not have reached the point where this one became live:
    // inputs of the trade it had not decided yet are this slot's now, and are looked for.
    const recoverAfter = context.liveSince !== null && peerProgress !== null && peerProgress < context.liveSince ? peerProgress : null;
    return { kind: 'claim', event: { type: SLOT_CLAIMED, tradeRef, slot }, recoverAfter };
  }
  if (live !== slot) return { kind: 'skip', owner: ownership.owner, reason: `owned by ${ownership.owner}` };
  if (peerProgress !== null && peerProgress < position - 1) {
    return { kind: 'skip', owner: ownership.owner, reason: `owned by ${ownership.owner}, which has not passed position ${position - 1} yet` };
  }
  return { kind: 'take-over', event: { type: SLOT_HANDED_OVER, tradeRef, from: ownership.owner, to: slot, reason: 'quiescent', since: null } };
}

/** The checkpoint name of a follower in a slot. Blue keeps the names followers had before slots had followers of their own. */
export function slotCheckpointName(name: string, slot: Slot): string {
  return slot === 'blue' ? name : `${name}@${slot}`;
}
