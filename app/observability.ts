// Wires telemetry to the platform: where the platform-state figures, the
// readiness checks and the queue figures come from.
import { EXCEPTION_CODES } from '../domain/index.js';
import type { EventStore } from '../eventstore/index.js';
import { LiveReadModels, readCounts, type FeedRecordCount, type TradeStatus } from '../projections/index.js';
import type { ReadStore } from '../readstore/index.js';
import { probe, readiness, type FeedRecordFigure, type PlatformStateSource, type Readiness, type ReadinessCheck } from '../telemetry/index.js';
import type { AmqpConfig } from './config.js';
import type { Platform } from './platform.js';

const TRADE_STATUSES = ['AWAITING_TRADE', 'PENDING', 'BOOKED', 'CANCELLED'] as const satisfies readonly TradeStatus[];
/** Queue figures are asked of the management API at most this often (every /status and scrape would otherwise ask). */
const QUEUE_REPORT_CACHE_MS = 1000;

/** Counts read from the read models (zero where there are none, so every series exists). */
export function platformStateSource(platform: Platform, reads: ReadStore, queues: QueueStatus | null, onError: (what: string, error: unknown) => void): PlatformStateSource {
  const models = new LiveReadModels(reads, 100);
  return {
    followers: () => platform.status(),
    feedRecords: async () => {
      const rows = await reads.find(await models.collection('feed'), {});
      return rows.map(({ doc }) => {
        const { source, outcome, reason, count } = doc as unknown as FeedRecordCount;
        return { source, outcome, reason, count } satisfies FeedRecordFigure;
      });
    },
    // The counts the projections keep (projections/counts.ts): a few small documents, however many trades.
    tradesByStatus: async () => withZeros(TRADE_STATUSES, await readCounts(reads, 'trades', await models.generation('trades'), 'byStatus')),
    openExceptionsByCode: async () => withZeros(EXCEPTION_CODES, await readCounts(reads, 'exceptions', await models.generation('exceptions'), 'openByCode')),
    ...(queues && {
      liveSlot: async () => {
        const report = await queues.report();
        if ('error' in report) throw new Error(report.error);
        return { live: report.live, queues: Object.fromEntries(report.queues.filter((q) => q.role.startsWith('feed:')).map((q) => [q.role.slice('feed:'.length), q.name])) };
      },
    }),
    onError,
  };
}

function withZeros(keys: readonly string[], counts: Record<string, number>): Record<string, number> {
  return { ...Object.fromEntries(keys.map((key) => [key, 0])), ...counts };
}

export interface QueueStatus {
  report(): Promise<import('../messaging/index.js').QueueReport | { error: string }>;
}

/** Depth and consumers of Kepler's queues from the management API, cached for a second. */
export function queueStatus(amqp: AmqpConfig): QueueStatus {
  let cached: { at: number; value: Promise<import('../messaging/index.js').QueueReport | { error: string }> } | null = null;
  return {
    report: () => {
      if (cached && Date.now() - cached.at < QUEUE_REPORT_CACHE_MS) return cached.value;
      const value = (async () => {
        const { managementEndpoint, queueReport } = await import('../messaging/index.js');
        try {
          // Short: /status waits for it, and an unreachable management API must not make /status slow.
          return await queueReport(managementEndpoint(amqp.url, amqp.managementUrl), amqp.prefix, 1500);
        } catch (error) {
          return { error: `RabbitMQ management API: ${error instanceof Error ? error.message : String(error)}` };
        }
      })();
      cached = { at: Date.now(), value };
      return value;
    },
  };
}

/** Ready: both stores answer, this process's followers run, no follower of the platform is too far behind. */
export async function platformReadiness(
  platform: Platform,
  events: EventStore,
  reads: ReadStore,
  options: { maxGapSeconds: number; projectionsThread: { running: boolean } | null; others: ReadinessCheck[] },
): Promise<Readiness> {
  const stores = await Promise.all([probe('eventstore', () => events.headPosition()), probe('readstore', () => reads.getSetting('kepler:readiness'))]);
  const followers = [...platform.followersRunning(), ...(options.projectionsThread ? [{ name: 'projections-thread', running: options.projectionsThread.running }] : [])];
  let gaps: Awaited<ReturnType<Platform['status']>>['subscriptions'] = [];
  const others = [...options.others];
  if (stores.every((check) => check.ok)) {
    try {
      gaps = (await platform.status()).subscriptions;
    } catch (error) {
      others.push({ name: 'status', ok: false, detail: error instanceof Error ? error.message : String(error) });
    }
  }
  return readiness({ stores, followers, gaps, maxGapSeconds: options.maxGapSeconds, others });
}
