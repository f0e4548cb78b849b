// Figures of the platform's state, derived at scrape time from the event store
// and the read models, so every process shows the same truth whichever process
// did the work (a `kepler ingest` exits before anyone could scrape it):
//
//   kepler_feed_records_total{source, outcome, reason}   lines taken from the feed
//   kepler_trades{status}                                trades per status now
//   kepler_exceptions_open{code}                         open exceptions per reason code
//   kepler_subscription_position / _gap_events / _gap_seconds {subscription, partition}
//   kepler_eventstore_head_position
//   kepler_feed_slot_live{slot, queue}                   which slot's queue is bound (with RabbitMQ)
//
// The trades and exceptions counts are read from counts their projections keep
// (a few small documents, projections/counts.ts), no longer by counting every
// trade; still, each count is kept until its read model's position moves, so a scrape of an idle platform reads only positions,
// and while a read model moves its count is taken again only so often (see
// PositionCache): exact at rest, bounded in cost under any scrape interval.
// Duplicates append nothing, so the store cannot count them: the duplicate
// outcome is what this process saw itself (its feed consumer, its file intake).
import type { Attributes, BatchObservableResult, Observable } from '@opentelemetry/api';
import type { FollowerGap } from './followers.js';
import { observableCounter, observableGauge, subscriptionAttributes } from './instruments.js';
import { keplerMeter } from './sdk.js';

export interface FeedRecordFigure {
  source: string;
  outcome: 'accepted' | 'rejected';
  reason: string;
  count: number;
}

export interface PlatformStateSource {
  /** The head and every follower of the platform with its gap. */
  followers(): Promise<{ head: number; subscriptions: readonly FollowerGap[] }>;
  /** Per read model: its position (the cache key) and its counts. */
  feedRecords(): Promise<FeedRecordFigure[]>;
  tradesByStatus(): Promise<Record<string, number>>;
  openExceptionsByCode(): Promise<Record<string, number>>;
  /** The live slot and its queue, when the process knows RabbitMQ. */
  liveSlot?(): Promise<{ live: string | null; queues: Record<string, string> } | null>;
  /** Reports a figure that could not be derived (the others are still reported). */
  onError?(what: string, error: unknown): void;
}

const duplicates = new Map<string, number>();

/** A duplicate line seen by this process: counted as kepler_feed_records_total{outcome="duplicate"}. */
export function countDuplicates(source: string, count: number): void {
  if (count > 0) duplicates.set(source, (duplicates.get(source) ?? 0) + count);
}

/** The read models each count comes from: a count is derived again only once that read model moved. */
const READ_MODEL_OF = { feed: 'projection:feed', trades: 'projection:trades', exceptions: 'projection:exceptions' } as const;

/**
 * While a read model catches up, counting it again at every scrape would cost
 * the catch-up itself (a count reads the whole collection): its counts are
 * derived again at most this often then.
 */
export const RECOUNT_WHILE_CATCHING_UP_MS = 10_000;
/**
 * At the head, a read model that keeps moving (commands arriving) is counted
 * again at most this often, …
 */
export const RECOUNT_WHILE_MOVING_MS = 1000;
/**
 * … and, in both cases, no sooner than this many times the last count took: a
 * count of 50,000 trades takes about 50 ms, so it is taken again at most every
 * 5 s, at most 1 % of the thread however often /metrics is scraped, while the
 * small feed-records count still follows every second. (At Prometheus's usual
 * 15 s interval neither limit is reached.)
 */
export const RECOUNT_COST_FACTOR = 100;

/**
 * A count kept until its read model's position moves. Behind the head, and at
 * the head while the read model keeps moving, it is kept a while longer (see
 * above); a read model found at the head where the previous scrape found it is
 * still, and is counted again at once: at rest every figure is exact.
 */
export class PositionCache<T> {
  private kept: { position: number; value: T; at: number; tookMs: number } | null = null;
  /** Where the previous call found the read model. */
  private lastSeen: number | null = null;

  constructor(private readonly now: () => number = () => performance.now()) {}

  async get(follower: { position: number; atHead: boolean } | undefined, derive: () => Promise<T>): Promise<T> {
    const kept = this.kept;
    const previous = this.lastSeen;
    this.lastSeen = follower?.position ?? null;
    if (kept && follower) {
      if (kept.position === follower.position) return kept.value;
      const age = this.now() - kept.at;
      const bound = RECOUNT_COST_FACTOR * kept.tookMs;
      if (!follower.atHead && age < Math.max(RECOUNT_WHILE_CATCHING_UP_MS, bound)) return kept.value;
      const moving = previous !== follower.position;
      if (follower.atHead && moving && age < Math.max(RECOUNT_WHILE_MOVING_MS, bound)) return kept.value;
    }
    const started = this.now();
    const value = await derive();
    const at = this.now();
    this.kept = follower === undefined ? null : { position: follower.position, value, at, tookMs: at - started };
    return value;
  }
}

/**
 * Registers the platform-state figures with this process's meter; returns the
 * unregistration. Without a source (a CLI process) only the duplicates it saw are reported.
 */
export function observePlatformState(source: PlatformStateSource | null): () => void {
  const meter = keplerMeter();
  const feedRecords = observableCounter('kepler.feed.records', 'Lines taken from the feed, by source and outcome (accepted, rejected with its reason; duplicate as seen by this process)', '{line}');
  const instruments: Observable[] = [feedRecords];
  let callback: (result: BatchObservableResult) => Promise<void>;
  if (!source) {
    callback = async (result) => observeDuplicates(result, feedRecords);
  } else {
    const trades = observableGauge('kepler.trades', 'Trades per status now', '{trade}');
    const exceptions = observableGauge('kepler.exceptions.open', 'Open (unresolved) exceptions per reason code', '{exception}');
    const position = observableGauge('kepler.subscription.position', "A follower's checkpoint: the global position it has handled everything up to");
    const gapEvents = observableGauge('kepler.subscription.gap.events', 'How far behind the head of the event store a follower is, in events', '{event}');
    const gapSeconds = observableGauge('kepler.subscription.gap.seconds', 'Age of the oldest event a follower has not handled (0 at the head)', 's');
    const head = observableGauge('kepler.eventstore.head.position', 'The global position of the last event in the store');
    const slotLive = observableGauge('kepler.feed.slot.live', '1 for the slot whose feed queue is bound to the feed exchange (the live slot), 0 for the other');
    instruments.push(trades, exceptions, position, gapEvents, gapSeconds, head, slotLive);
    const feedCache = new PositionCache<FeedRecordFigure[]>();
    const tradesCache = new PositionCache<Record<string, number>>();
    const exceptionsCache = new PositionCache<Record<string, number>>();
    const failed = (what: string) => (error: unknown) => source.onError?.(what, error);
    callback = async (result) => {
      observeDuplicates(result, feedRecords);
      let positions = new Map<string, { position: number; atHead: boolean }>();
      try {
        const followers = await source.followers();
        result.observe(head, followers.head);
        for (const follower of followers.subscriptions) {
          const attributes = subscriptionAttributes(follower.name);
          result.observe(position, follower.position, attributes);
          result.observe(gapEvents, follower.gapEvents, attributes);
          result.observe(gapSeconds, follower.gapSeconds, attributes);
        }
        positions = new Map(followers.subscriptions.map((s) => [s.name, { position: s.position, atHead: s.gapEvents === 0 }]));
      } catch (error) {
        failed('followers')(error);
      }
      await Promise.all([
        feedCache.get(positions.get(READ_MODEL_OF.feed), () => source.feedRecords())
          .then((figures) => {
            for (const f of figures) result.observe(feedRecords, f.count, f.outcome === 'rejected' ? { source: f.source, outcome: f.outcome, reason: f.reason } : { source: f.source, outcome: f.outcome });
          })
          .catch(failed('feed records')),
        tradesCache.get(positions.get(READ_MODEL_OF.trades), () => source.tradesByStatus())
          .then((counts) => observeCounts(result, trades, 'status', counts))
          .catch(failed('trades')),
        exceptionsCache.get(positions.get(READ_MODEL_OF.exceptions), () => source.openExceptionsByCode())
          .then((counts) => observeCounts(result, exceptions, 'code', counts))
          .catch(failed('exceptions')),
        source.liveSlot?.()
          .then((slots) => {
            if (!slots) return;
            for (const [slot, queue] of Object.entries(slots.queues)) result.observe(slotLive, slots.live === slot ? 1 : 0, { slot, queue });
          })
          .catch(failed('live slot')),
      ]);
    };
  }
  meter.addBatchObservableCallback(callback, instruments);
  return () => meter.removeBatchObservableCallback(callback, instruments);
}

function observeDuplicates(result: BatchObservableResult, feedRecords: Observable): void {
  for (const [source, count] of duplicates) result.observe(feedRecords, count, { source, outcome: 'duplicate' });
}

function observeCounts(result: BatchObservableResult, gauge: Observable, label: string, counts: Record<string, number>): void {
  for (const [value, count] of Object.entries(counts)) result.observe(gauge, count, { [label]: value } as Attributes);
}
