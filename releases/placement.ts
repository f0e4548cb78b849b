// Where a promotion puts a candidate in an environment's desired state. Pure.
import type { PromotionKind, Slot } from './promotion.js';
import type { DesiredState } from './schemas.js';

/**
 * Where the candidate goes: the only slot, or the idle one of two. A rollback
 * goes live at once (it ran before); a promotion into the idle slot waits for
 * the cut-over, except the first one, with nothing live to cut over from.
 */
export function nextDesired(
  desired: DesiredState | null,
  environment: string,
  slots: readonly Slot[],
  kind: PromotionKind,
  content: DesiredState['slots']['blue'] & object,
): { slot: Slot; next: DesiredState } {
  if (!desired) {
    const slot = slots[0]!;
    return { slot, next: { schema: 'kepler.desired-state/v1', environment, slots: { [slot]: content }, live: slot } };
  }
  const idle: Slot = desired.live === 'blue' ? 'green' : 'blue';
  if (slots.length === 1 || !slots.includes(idle)) {
    const slot = slots.includes(desired.live) ? desired.live : slots[0]!;
    return { slot, next: { ...desired, slots: { [slot]: content }, live: slot } };
  }
  return { slot: idle, next: { ...desired, slots: { ...desired.slots, [idle]: content }, live: kind === 'rollback' ? idle : desired.live } };
}
