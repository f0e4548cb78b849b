// The bounded, ordered hand-off between the client's subscription stream and
// the consumer, and the batches it turns into.
import type { GlobalPosition, RecordedEvent, SubscriptionBatch } from '../port.js';

export type BufferItem =
  | { kind: 'event'; position: GlobalPosition; event: RecordedEvent | null }
  | { kind: 'checkpoint'; position: GlobalPosition }
  | { kind: 'caughtUp' }
  | { kind: 'fellBehind' };

export interface SubscriptionBufferOptions {
  /** Pause the source when this many items wait. */
  highWater: number;
  /** Resume it once the consumer has brought the backlog down to this many. */
  lowWater: number;
  pause(): void;
  resume(): void;
}

/**
 * A bounded, ordered hand-off between the client's subscription stream and
 * the consumer. Events arrive through the stream's 'data' events, while
 * checkpoints and caught-up/fell-behind notices arrive through callbacks that
 * the client fires when it *receives* them, possibly while earlier events
 * still sit in its readable buffer. A marker is therefore queued only after
 * the `pendingAhead` objects that were buffered ahead of it have come out, so
 * a checkpoint never overtakes the events it covers.
 */
export class SubscriptionBuffer {
  private readonly items: BufferItem[] = [];
  private readonly deferred: Array<{ remaining: number; item: BufferItem }> = [];
  private failure: { error: unknown } | null = null;
  private closed = false;
  private paused = false;
  private wake: (() => void) | null = null;

  constructor(private readonly options: SubscriptionBufferOptions) {}

  get length(): number {
    return this.items.length;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** One object came out of the client stream; `item` is undefined when it is dropped. */
  pushData(item?: BufferItem): void {
    if (this.closed) return;
    if (item) this.items.push(item);
    if (this.deferred.length > 0) {
      for (const entry of this.deferred) entry.remaining -= 1;
      while (this.deferred.length > 0 && this.deferred[0]!.remaining <= 0) this.items.push(this.deferred.shift()!.item);
    }
    if (!this.paused && this.items.length >= this.options.highWater) {
      this.paused = true;
      this.options.pause();
    }
    this.notify();
  }

  /** A marker received while `pendingAhead` objects were still buffered in the client stream. */
  pushMarker(item: BufferItem, pendingAhead: number): void {
    if (this.closed) return;
    const last = this.deferred.at(-1);
    if (pendingAhead <= 0 && !last) {
      this.items.push(item);
      this.notify();
    } else {
      this.deferred.push({ remaining: Math.max(pendingAhead, last?.remaining ?? 0, 1), item });
    }
  }

  /** The source failed; items already queued are still handed out first. */
  fail(error: unknown): void {
    this.failure ??= { error };
    this.notify();
  }

  /** The consumer went away: take() returns null from now on. */
  close(): void {
    this.closed = true;
    this.items.length = 0;
    this.deferred.length = 0;
    this.notify();
  }

  /**
   * Waits until something is queued, then removes up to `maxEvents` deliverable
   * events together with the markers and skipped events among and right after
   * them. Returns null once closed; throws the source's failure once drained.
   */
  async take(maxEvents: number): Promise<BufferItem[] | null> {
    for (;;) {
      if (this.closed) return null;
      if (this.items.length > 0) break;
      if (this.failure) throw this.failure.error;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    let count = 0;
    let end = 0;
    while (end < this.items.length) {
      const item = this.items[end]!;
      const deliverable = item.kind === 'event' && item.event !== null;
      if (deliverable && count >= maxEvents) break;
      if (deliverable) count += 1;
      end += 1;
    }
    const taken = this.items.splice(0, end);
    if (this.paused && this.items.length <= this.options.lowWater) {
      this.paused = false;
      this.options.resume();
    }
    return taken;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}

export interface BatchState {
  /** Everything at or before this position has been handed out (or skipped). */
  scannedTo: GlobalPosition;
  /** The server said "caught up" (and not "fell behind" since). */
  serverCaughtUp: boolean;
  /** The head when the subscription was opened; reaching it also means caught up. */
  headAtOpen: GlobalPosition | null;
  /** The caughtUp flag of the last batch handed out. */
  announced: boolean;
}

/** Turns drained buffer items into the next batch, or null when there is nothing worth yielding. */
export function assembleBatch(
  items: readonly BufferItem[],
  state: BatchState,
): { batch: SubscriptionBatch | null; state: BatchState } {
  let { scannedTo, serverCaughtUp, headAtOpen } = state;
  const events: RecordedEvent[] = [];
  for (const item of items) {
    switch (item.kind) {
      case 'event':
        if (item.position <= scannedTo) break; // already handed out: never deliver twice
        scannedTo = item.position;
        if (item.event) events.push(item.event);
        break;
      case 'checkpoint':
        if (item.position > scannedTo) scannedTo = item.position;
        break;
      case 'caughtUp':
        serverCaughtUp = true;
        break;
      case 'fellBehind':
        serverCaughtUp = false;
        headAtOpen = null;
        break;
    }
  }
  const caughtUp = serverCaughtUp || (headAtOpen !== null && scannedTo >= headAtOpen);
  const worthYielding = events.length > 0 || scannedTo > state.scannedTo || (caughtUp && !state.announced);
  const next: BatchState = {
    scannedTo,
    serverCaughtUp,
    headAtOpen,
    announced: worthYielding ? caughtUp : caughtUp && state.announced,
  };
  return { batch: worthYielding ? { events, scannedTo, caughtUp } : null, state: next };
}

