// Keeping the broker as desired: one round (plan, then apply) and the `topology` role,
// which runs rounds on an interval. Every instance derives the same desired topology
// from the same slot registry and every operation is idempotent, so two instances
// running at once converge on the same state instead of fighting.
import { pino, type Logger } from 'pino';
import type { QueueType } from '../messaging/index.js';
import { applyPlan, observe, type ApplyReport, type BrokerAccess } from './apply.js';
import { desiredTopology, type Routing } from './desired.js';
import { planTopology, type Plan } from './plan.js';

export interface TopologyTarget {
  access: BrokerAccess;
  prefix: string;
  queueType?: QueueType;
}

/** The plan that would make the broker match what `routing` asks for. */
export async function planFor(target: TopologyTarget, routing: Routing, options: { prune?: boolean } = {}): Promise<Plan> {
  const { topology } = await observe(target.access, target.prefix);
  const desired = desiredTopology(routing, { prefix: target.prefix, ...(target.queueType && { queueType: target.queueType }) });
  return planTopology(desired, topology, { prefix: target.prefix, vhost: target.access.vhost, prune: options.prune ?? false });
}

export interface Convergence {
  rounds: number;
  applied: ApplyReport['applied'];
  refused: ApplyReport['refused'];
  /** What is still different (refused operations, or what another writer changed meanwhile). */
  remaining: Plan;
}

/**
 * Plans and applies until nothing is left to do (a replaced queue needs its bindings
 * again on the next round), or until a round changes nothing.
 */
export async function converge(target: TopologyTarget, routing: () => Promise<Routing>, options: { prune?: boolean; force?: boolean; maxRounds?: number } = {}): Promise<Convergence> {
  let planned = await routing();
  const result: Convergence = { rounds: 0, applied: [], refused: [], remaining: await planFor(target, planned, options) };
  // Another writer (a cut-over, another reconciler) may change what is wanted meanwhile: before
  // removing anything, make sure it still is what the plan was made for.
  const stillWanted = async () => sameRouting(await routing(), planned);
  while (result.remaining.ops.length > 0 && result.rounds < (options.maxRounds ?? 3)) {
    result.rounds++;
    const report = await applyPlan(result.remaining, target.access, { force: options.force ?? false, stillWanted });
    result.applied.push(...report.applied);
    result.refused = report.refused;
    planned = await routing();
    result.remaining = await planFor(target, planned, options);
    if (report.applied.length === 0) break;
  }
  return result;
}

function sameRouting(a: Routing, b: Routing): boolean {
  return a.feed.join() === b.feed.join() && a.events.join() === b.events.join();
}

export interface ReconcilerStatus {
  checks: number;
  /** Operations carried out to repair drift, since start. */
  repairs: number;
  refused: number;
  lastCheckAt: string | null;
  /** Operations the last check found necessary. */
  lastDrift: number;
  lastError: string | null;
}

/** The `topology` role: re-checks on an interval, repairs drift of what Kepler owns, logs and counts. */
export class TopologyReconciler {
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;
  private stopped = false;
  private readonly logger: Logger;
  readonly status: ReconcilerStatus = { checks: 0, repairs: 0, refused: 0, lastCheckAt: null, lastDrift: 0, lastError: null };

  constructor(
    private readonly target: TopologyTarget,
    private readonly routing: () => Promise<Routing>,
    private readonly options: { intervalMs: number; prune?: boolean; logger?: Logger; onRound?: (status: ReconcilerStatus) => void },
  ) {
    this.logger = (options.logger ?? pino({ level: 'silent' })).child({ component: 'topology-reconciler', prefix: target.prefix });
  }

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.round = this.check().finally(() => {
        this.round = null;
        if (!this.stopped) this.timer = setTimeout(tick, this.options.intervalMs);
      });
    };
    tick();
  }

  /** One round; never throws (the next round tries again). */
  async check(): Promise<void> {
    try {
      const result = await converge(this.target, this.routing, { prune: this.options.prune ?? false });
      this.status.checks++;
      this.status.lastCheckAt = new Date().toISOString();
      this.status.lastDrift = result.applied.length + result.refused.length;
      this.status.repairs += result.applied.length;
      this.status.refused += result.refused.length;
      this.status.lastError = null;
      for (const action of result.applied) this.logger.warn({ repaired: action }, 'topology drift repaired');
      for (const { action, reason } of result.refused) this.logger.error({ action, reason }, 'topology drift not repaired');
    } catch (error) {
      this.status.lastError = error instanceof Error ? error.message : String(error);
      this.logger.warn({ err: error }, 'topology check failed; trying again next round');
    }
    this.options.onRound?.(this.status);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.round;
  }
}
