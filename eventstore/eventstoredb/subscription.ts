// A catch-up-then-live subscription to $all, reconnecting with backoff.
import { START } from '@eventstore/db-client';
import type { AllStreamResolvedEvent, AllStreamSubscription, Filter } from '@eventstore/db-client';
import type { GlobalPosition, Subscription, SubscriptionBatch } from '../port.js';
import { backoffDelay, type BackoffOptions } from '../backoff.js';
import { isTransientError, SubscriptionEndedError } from './errors.js';
import { toClientFilter, type FilterPlan } from './filters.js';
import { isHiddenEvent, positionToNumber, toRecordedEvent } from './mapping.js';
import { assembleBatch, SubscriptionBuffer, type BatchState, type BufferItem } from './subscription-buffer.js';
import type { EsdbEventStore } from './esdb-event-store.js';

interface SubscriptionSettings {
  plan: FilterPlan;
  batchSize: number;
  backoff: BackoffOptions;
  onError: ((error: unknown, attempt: number) => void) | undefined;
  onClose: (subscription: EsdbSubscription) => void;
}

/** One server subscription: it lives until it fails or the Kepler subscription closes. */
interface Source {
  buffer: SubscriptionBuffer;
  headAtOpen: GlobalPosition;
  confirmed: boolean;
  close(): Promise<void>;
}

/**
 * A catch-up-then-live subscription to $all with a server-side filter, handed
 * out in batches. It reconnects with backoff on transient errors, resuming
 * after the scannedTo of the last batch it handed out.
 */
export class EsdbSubscription implements Subscription {
  private closed = false;
  private current: Source | null = null;
  private interruptSleep: (() => void) | null = null;
  private readonly iterator: AsyncGenerator<SubscriptionBatch, void, undefined>;

  constructor(
    private readonly store: EsdbEventStore,
    after: GlobalPosition,
    private readonly settings: SubscriptionSettings,
  ) {
    this.iterator = this.run(after);
  }

  [Symbol.asyncIterator](): AsyncIterator<SubscriptionBatch> {
    return this.iterator;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.interruptSleep?.();
    const source = this.current;
    this.current = null;
    if (source) await source.close();
    await this.iterator.return(undefined);
    this.settings.onClose(this);
  }

  private async *run(after: GlobalPosition): AsyncGenerator<SubscriptionBatch, void, undefined> {
    let state: BatchState = { scannedTo: after, serverCaughtUp: false, headAtOpen: null, announced: false };
    let attempt = 0;
    while (!this.closed) {
      let source: Source | null = null;
      try {
        source = await this.open(state.scannedTo);
        if (this.closed) return;
        this.current = source;
        state = { ...state, serverCaughtUp: false, headAtOpen: source.headAtOpen, announced: false };
        for (;;) {
          const items = await source.buffer.take(this.settings.batchSize);
          if (items === null || this.closed) return;
          if (source.confirmed) attempt = 0;
          const assembled = assembleBatch(items, state);
          state = assembled.state;
          if (assembled.batch) yield assembled.batch;
          if (this.closed) return;
        }
      } catch (error) {
        if (this.closed) return;
        if (!isTransientError(error)) throw error;
        attempt += 1;
        this.settings.onError?.(error, attempt);
        await this.sleep(backoffDelay(attempt, this.settings.backoff));
      } finally {
        if (source) {
          if (this.current === source) this.current = null;
          await source.close();
        }
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.interruptSleep = () => {
        this.interruptSleep = null;
        done();
      };
    });
  }

  /** Subscribes so that the first event handed out is the first one after `resumeAfter`. */
  private async open(resumeAfter: GlobalPosition): Promise<Source> {
    const headAtOpen = await this.store.headPosition();
    // Start at an event known to be before resumeAfter (see the header), drop what is not after it.
    const anchor = resumeAfter === 0 ? null : await this.store.lastEventBefore(resumeAfter);
    const { plan, batchSize } = this.settings;

    let closing = false;
    let subscription: AllStreamSubscription | null = null;
    const buffer = new SubscriptionBuffer({
      highWater: Math.max(32, batchSize * 2),
      lowWater: Math.max(16, batchSize),
      pause: () => subscription?.pause(),
      resume: () => subscription?.resume(),
    });
    const source: Source = {
      buffer,
      headAtOpen,
      confirmed: false,
      close: async () => {
        if (closing) return;
        closing = true;
        buffer.close();
        try {
          await subscription?.unsubscribe();
        } catch {
          // The call may never have started (connection failure): nothing to cancel.
        }
      },
    };

    const checkpointReached: Filter['checkpointReached'] = (sub, position) => {
      buffer.pushMarker({ kind: 'checkpoint', position: positionToNumber(position) }, sub.readableLength);
    };
    const sub = this.store.client.subscribeToAll({
      fromPosition: anchor ?? START,
      resolveLinkTos: false,
      filter: toClientFilter(plan.server, checkpointReached),
    });
    subscription = sub;

    sub.on('data', (resolved: AllStreamResolvedEvent) => {
      let item: BufferItem | undefined;
      try {
        item = toBufferItem(resolved, resumeAfter, plan);
      } catch (error) {
        buffer.fail(error);
        return;
      }
      buffer.pushData(item);
    });
    sub.on('confirmation', () => (source.confirmed = true));
    sub.on('caughtUp', () => buffer.pushMarker({ kind: 'caughtUp' }, sub.readableLength));
    sub.on('fellBehind', () => buffer.pushMarker({ kind: 'fellBehind' }, sub.readableLength));
    sub.on('error', (error: Error) => {
      if (!closing) buffer.fail(error);
    });
    sub.on('end', () => {
      if (!closing) buffer.fail(new SubscriptionEndedError());
    });
    sub.on('close', () => {
      if (!closing) buffer.fail(new SubscriptionEndedError());
    });

    // Already at the head: say so now rather than wait for the server (older servers never do).
    if (resumeAfter >= headAtOpen) buffer.pushMarker({ kind: 'caughtUp' }, 0);
    return source;
  }
}

function toBufferItem(resolved: AllStreamResolvedEvent, resumeAfter: GlobalPosition, plan: FilterPlan): BufferItem | undefined {
  const record = resolved.event;
  if (!record) return undefined;
  const position = positionToNumber(record.position);
  if (position <= resumeAfter) return undefined;
  if (isHiddenEvent(record.streamId, record.type)) return { kind: 'event', position, event: null };
  const event = toRecordedEvent(record, position);
  return { kind: 'event', position, event: plan.matches(event.stream, event.type) ? event : null };
}
