import type { Logger } from 'pino';
import type { EventStore } from '../eventstore/index.js';
import { bookingManager, ProcessorRunner, tradeProcessor } from '../processors/index.js';
import { PROJECTIONS, ProjectionRunner } from '../projections/index.js';
import { LiveReadModels, type PlatformStatus } from '../query-api/index.js';
import type { ReadStore } from '../readstore/index.js';

/** A processor as the platform sees it: something that follows the store until stopped. */
interface Follower {
  run(): Promise<void>;
  stop(): Promise<void>;
  readonly status: { name: string; position: number };
}

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
  private running: Array<Promise<void>> = [];
  private waiters: Waiter[] = [];

  constructor(
    readonly events: EventStore,
    readonly reads: ReadStore,
    private readonly logger: Logger,
  ) {
    this.processors = [new ProcessorRunner(events, tradeProcessor, logger), new ProcessorRunner(events, bookingManager, logger)];
  }

  /** Starts every follower; `onFailure` hears of one that stopped on an error. */
  async start(onFailure: (error: unknown) => void): Promise<void> {
    const models = new LiveReadModels(this.reads);
    for (const projection of PROJECTIONS) {
      const generation = await models.generation(projection.name);
      const runner = new ProjectionRunner(this.events, this.reads, projection, generation, this.logger, () => this.settleWaiters());
      await runner.prepare();
      this.projections.push(runner);
    }
    const runAll = [...this.processors.map((p) => () => p.run()), ...this.projections.map((p) => () => p.run())];
    this.running = runAll.map((run) =>
      run().catch((error: unknown) => {
        this.logger.fatal({ err: error }, 'a follower of the event store failed');
        onFailure(error);
      }),
    );
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
    await Promise.all([...this.processors, ...this.projections].map((runner) => runner.stop()));
    await Promise.allSettled(this.running);
    for (const waiter of [...this.waiters]) waiter.resolve(false);
  }
}
