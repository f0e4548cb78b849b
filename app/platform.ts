import type { Logger } from 'pino';
import type { EventStore } from '../eventstore/index.js';
import { bookingManager, ProcessorRunner, tradeProcessor } from '../processors/index.js';
import { checkpointOf, collectionOf, LiveReadModels, PROJECTIONS, ProjectionRunner, type AnyProjection } from '../projections/index.js';
import type { PlatformStatus } from '../query-api/index.js';
import type { ReadStore } from '../readstore/index.js';

/** A processor as the platform sees it: something that follows the store until stopped. */
interface Follower {
  run(): Promise<void>;
  stop(): Promise<void>;
  readonly status: { name: string; position: number };
}

/** How soon `serve` notices that a rebuild promoted a new generation of a read model. */
const PROMOTION_POLL_MS = 250;

interface Waiter {
  projection: string;
  position: number;
  resolve: (reached: boolean) => void;
}

/**
 * Everything that follows the event store: the trade processor, the booking
 * process manager and the projections. Each resumes from its own durable
 * checkpoint, so stopping or killing the process at any point loses nothing.
 */
export class Platform {
  readonly processors: Follower[];
  readonly projections: ProjectionRunner[] = [];
  private readonly running = new Map<Follower | ProjectionRunner, Promise<void>>();
  private waiters: Waiter[] = [];
  private readonly models: LiveReadModels;
  private onFailure: (error: unknown) => void = () => {};
  private promotionWatch: NodeJS.Timeout | null = null;
  private switching = false;

  constructor(
    readonly events: EventStore,
    readonly reads: ReadStore,
    private readonly logger: Logger,
  ) {
    this.processors = [new ProcessorRunner(events, tradeProcessor, logger), new ProcessorRunner(events, bookingManager, logger)];
    this.models = new LiveReadModels(reads);
  }

  /** Starts every follower; `onFailure` hears of one that stopped on an error. */
  async start(onFailure: (error: unknown) => void): Promise<void> {
    this.onFailure = onFailure;
    for (const projection of PROJECTIONS) {
      const generation = await this.models.generation(projection.name);
      await this.dropRetired(projection.name, generation);
      const runner = this.projectionRunner(projection, generation);
      await runner.prepare();
      this.projections.push(runner);
    }
    for (const follower of [...this.processors, ...this.projections]) this.launch(follower);
    this.promotionWatch = setInterval(() => {
      this.followPromotions().catch((error: unknown) => this.fail(error));
    }, PROMOTION_POLL_MS);
  }

  private projectionRunner(projection: AnyProjection, generation: number): ProjectionRunner {
    return new ProjectionRunner(this.events, this.reads, projection, generation, this.logger, () => this.settleWaiters());
  }

  private launch(follower: Follower | ProjectionRunner): void {
    this.running.set(follower, follower.run().catch((error: unknown) => this.fail(error)));
  }

  private fail(error: unknown): void {
    this.logger.fatal({ err: error }, 'a follower of the event store failed');
    this.onFailure(error);
  }

  /** A rebuild promoted a new generation: carry on with it, then let go of the old one and drop it. */
  private async followPromotions(): Promise<void> {
    if (this.switching) return;
    this.switching = true;
    try {
      for (const [index, current] of this.projections.entries()) {
        const live = await this.models.generation(current.name);
        if (live === current.generation) continue;
        const projection = PROJECTIONS.find((p) => p.name === current.name)!;
        const next = this.projectionRunner(projection, live);
        await next.prepare();
        this.projections[index] = next;
        this.launch(next);
        await current.stop();
        await this.running.get(current);
        this.running.delete(current);
        await this.dropRetired(current.name, live);
        this.logger.info({ projection: current.name, from: current.generation, to: live }, 'switched to the rebuilt read model');
      }
    } finally {
      this.switching = false;
    }
  }

  private async dropRetired(projection: string, live: number): Promise<void> {
    const retired = await this.models.retired(projection);
    if (retired === null || retired === live) return;
    await this.reads.dropCollection(collectionOf(projection, retired));
    await this.reads.deleteCheckpoint(checkpointOf(projection, retired));
    await this.models.clearRetired(projection);
  }

  async status(): Promise<PlatformStatus> {
    const head = await this.events.headPosition();
    const subscriptions = [
      ...this.processors.map((p) => p.status),
      ...this.projections.map((p) => ({ name: `projection:${p.name}`, position: p.currentPosition })),
    ];
    return { caughtUp: subscriptions.every((s) => s.position >= head), head, subscriptions };
  }

  waitForPosition(projection: string, position: number, timeoutMs: number): Promise<boolean> {
    const runner = this.projections.find((p) => p.name === projection);
    if (!runner || runner.currentPosition >= position) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        projection,
        position,
        resolve: (reached) => {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(reached);
        },
      };
      const timer = setTimeout(() => waiter.resolve(false), timeoutMs);
      this.waiters.push(waiter);
    });
  }

  private settleWaiters(): void {
    for (const waiter of [...this.waiters]) {
      const runner = this.projections.find((p) => p.name === waiter.projection);
      if (runner && runner.currentPosition >= waiter.position) waiter.resolve(true);
    }
  }

  async stop(): Promise<void> {
    if (this.promotionWatch) clearInterval(this.promotionWatch);
    await Promise.all([...this.processors, ...this.projections].map((runner) => runner.stop()));
    await Promise.allSettled(this.running.values());
    for (const waiter of [...this.waiters]) waiter.resolve(false);
  }
}
