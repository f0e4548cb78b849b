// Catch-up, then live: read after the last position handed out until the end
// of the store, then wait for a wake-up (see notifications.ts) and read again.
// Positions become visible in order (see kepler_append), so "after the last
// position handed out" can neither skip nor repeat an event, however often the
// connection is lost and the read tried again.
import { backoffDelay, sleep, type BackoffOptions } from '../backoff.js';
import type { EventFilter, GlobalPosition, ReadAllResult, Subscription, SubscriptionBatch } from '../port.js';
import { isTransient } from './connection.js';
import type { Notifier } from './notifications.js';

export interface SubscriptionSource {
  readAll(after: GlobalPosition, options: { maxCount: number; filter?: EventFilter }): Promise<ReadAllResult>;
  readonly notifier: Notifier;
}

export interface SubscriptionOptions {
  filter: EventFilter | undefined;
  batchSize: number;
  reconnect: BackoffOptions;
  onError: ((error: unknown, attempt: number) => void) | undefined;
  onClose: (subscription: PostgresSubscription) => void;
}

export class PostgresSubscription implements Subscription {
  private readonly closing = new AbortController();
  private readonly iterator: AsyncGenerator<SubscriptionBatch, void, undefined>;

  constructor(
    private readonly source: SubscriptionSource,
    after: GlobalPosition,
    private readonly options: SubscriptionOptions,
  ) {
    this.iterator = this.run(after);
  }

  [Symbol.asyncIterator](): AsyncIterator<SubscriptionBatch> {
    return this.iterator;
  }

  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    await this.iterator.return(undefined);
    this.options.onClose(this);
  }

  private async *run(after: GlobalPosition): AsyncGenerator<SubscriptionBatch, void, undefined> {
    const { notifier } = this.source;
    const stopped = this.closing.signal;
    let position = after;
    let announcedCaughtUp = false;
    let failures = 0;
    while (!stopped.aborted) {
      const seen = notifier.current;
      let result: ReadAllResult;
      try {
        result = await this.source.readAll(position, { maxCount: this.options.batchSize, ...(this.options.filter && { filter: this.options.filter }) });
        failures = 0;
      } catch (error) {
        if (stopped.aborted) return;
        if (!isTransient(error)) throw error;
        failures += 1;
        this.options.onError?.(error, failures);
        await sleep(backoffDelay(failures, this.options.reconnect), stopped);
        continue;
      }
      const moved = result.scannedTo > position;
      position = Math.max(position, result.scannedTo);
      if (moved || (result.endOfStore && !announcedCaughtUp)) {
        announcedCaughtUp = result.endOfStore;
        yield { events: result.events, scannedTo: position, caughtUp: result.endOfStore };
      }
      if (result.endOfStore) await notifier.waitForChange(seen, stopped);
    }
  }
}
