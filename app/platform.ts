import type { Logger } from 'pino';
import type { EventStore } from '../eventstore/index.js';
import { bookingManager, partitionedName, ProcessorRunner, tradeProcessor, WHOLE, type Partition } from '../processors/index.js';
import { CATCH_UP_HOLD, checkpointOf, collectionOf, countsCollectionOf, DROP_GRACE_MS, EventFanOut, followedFilter, LiveReadModels, PROJECTIONS, ProjectionRunner, type AnyProjection, type HoldBounds } from '../projections/index.js';
import type { PlatformStatus } from '../query-api/index.js';
import type { ReadStore } from '../readstore/index.js';
import type { Slot } from '../messaging/index.js';
import { slotCheckpointName } from '../slots/index.js';
import { followerGaps, followersAtHead, type FollowerGap } from '../telemetry/index.js';

/** Something that follows the event store until stopped, such as a processor or an integration publisher. */
export interface Follower {
  run(): Promise<void>;
  stop(): Promise<void>;
  readonly status: { name: string; position: number };
}

export interface PlatformOptions {
  /** Run the trade processor and the booking manager here. */
  processors: boolean;
  /** Run the projections here. */
  projections: boolean;
  /** This process's share of the work when several processes run the same role. */
  partition: Partition;
  /** Further followers that belong to this process (the AMQP publisher, for instance). */
  extraFollowers?: Follower[];
  /** The blue/green slot: its processors decide only for the trades it owns, under checkpoints of their own. */
  slot?: Slot;
  /**
   * Tells the thread that runs the projections, when not this one, that a reader waits for a read model
   * to reach a position (see ProjectionRunner.awaitPosition); projections in another process are not told,
   * and write by the bounds of their hold.
   */
  awaitElsewhere?: (projection: string, position: number) => void;
  /**
   * Where the projections run here for another thread (the projections thread): takes in what it says on
   * their port, synchronously, at each batch's decision and each look again (HoldBounds.hear): the
   * positions its requests wait for, and how far its processors are behind the head.
   */
  hearPort?: () => void;
  /** The hold's bound in time, where it must be shorter than its own (KeplerConfig.catchUpStalenessMs). */
  catchUpStalenessMs?: number;
  /**
   * Where the projections run here for another thread whose processors they follow (the projections
   * thread): how far those processors are behind the head, as last heard (through hearPort), so that a
   * projection may hold at the head while they are far behind it (HoldBounds.processorsGap).
   */
  processorsGap?: () => number | undefined;
  /**
   * Tells the thread that runs the projections, when not this one, how far this process's processors are
   * behind the head, every PROCESSORS_TOLD_MS when it changed.
   */
  tellProcessorsGap?: (events: number) => void;
}

/** How soon a process notices that a rebuild promoted a new generation of a read model. */
const PROMOTION_POLL_MS = 250;
/** How often read-your-writes looks at a checkpoint kept by another process. */
const CHECKPOINT_POLL_MS = 10;
/**
 * How often a process whose processors and projections run together looks how far the processors are
 * behind the head (telling the projections thread when it changed): what the projections know of it is
 * this much late at most, a few thousand events of a heavy command load, well inside CATCH_UP_HOLD's headGap.
 */
const PROCESSORS_TOLD_MS = 100;

const PROCESSOR_NAMES = [tradeProcessor.name, bookingManager.name];

/**
 * The bounds a projection runner of this process holds what it projected by: `base` (CATCH_UP_HOLD), hearing
 * the projections thread's port and told where the processors stand where this process can, and held no
 * longer than catchUpStalenessMs where that is set. That may only shorten the hold, never lengthen it: it is
 * half the wait of readers who cannot reach the projections (app/config.ts), and where their wait is long
 * the hold keeps its own bound (KEPLER_CATCHUP_STALENESS_MS), which bounds how stale every reader's view is.
 */
export function projectionHold(
  options: { hearPort?: (() => void) | undefined; catchUpStalenessMs?: number | undefined; processorsGap?: (() => number | undefined) | undefined },
  base: HoldBounds = CATCH_UP_HOLD,
): HoldBounds {
  const { hearPort, catchUpStalenessMs, processorsGap } = options;
  return {
    ...base,
    ...(hearPort && { hear: hearPort }),
    ...(catchUpStalenessMs !== undefined && { ms: Math.min(base.ms, catchUpStalenessMs) }),
    ...(processorsGap && { processorsGap }),
  };
}

interface Waiter {
  projection: string;
  position: number;
  resolve: (reached: boolean) => void;
}

/**
 * Everything that follows the event store in this process: the trade processor,
 * the booking process manager and the projections, as its roles say. Each
 * resumes from its own durable checkpoint, so stopping or killing the process at
 * any point loses nothing. Followers running in other processes are seen through
 * their durable checkpoints.
 */
export class Platform {
  readonly processors: Follower[] = [];
  /** The trade processor and the booking manager, when they run here: where they stand is told to the projections. */
  private readonly deciders: Follower[] = [];
  private processorsWatch: NodeJS.Timeout | null = null;
  /** How far this process's processors were behind the head when last looked at (processorsGap). */
  private processorsBehind: number | undefined;
  readonly projections: ProjectionRunner[] = [];
  private readonly running = new Map<Follower | ProjectionRunner, Promise<void>>();
  private readonly ended = new WeakSet<Follower | ProjectionRunner>();
  private waiters: Waiter[] = [];
  private readonly models: LiveReadModels;
  /**
   * One read of the store for every projection of this process: each page read and decoded once
   * rather than once per projection (five scans of every row: 16 % of the projections thread).
   */
  private readonly fanOut: EventFanOut | null;
  private onFailure: (error: unknown) => void = () => {};
  private promotionWatch: NodeJS.Timeout | null = null;
  private switching = false;

  constructor(
    readonly events: EventStore,
    readonly reads: ReadStore,
    private readonly logger: Logger,
    private readonly options: PlatformOptions = { processors: true, projections: true, partition: WHOLE },
  ) {
    if (options.processors) {
      const runnerOptions = { partition: options.partition, ...(options.slot && { slot: options.slot }) };
      this.deciders.push(new ProcessorRunner(events, tradeProcessor, logger, runnerOptions), new ProcessorRunner(events, bookingManager, logger, runnerOptions));
      this.processors.push(...this.deciders);
    }
    this.processors.push(...(options.extraFollowers ?? []));
    this.models = new LiveReadModels(reads);
    // With the filters its runners will bring (a runner that reads every event's metadata itself asks for it).
    this.fanOut = options.projections ? new EventFanOut(events, PROJECTIONS.map((p) => followedFilter(p, logger))) : null;
  }

  /** Starts every follower of this process; `onFailure` hears of one that stopped on an error. */
  async start(onFailure: (error: unknown) => void): Promise<void> {
    this.onFailure = onFailure;
    if (this.options.projections) {
      for (const projection of PROJECTIONS) {
        const generation = await this.models.generation(projection.name);
        await this.dropRetired(projection.name, generation);
        const runner = this.projectionRunner(projection, generation);
        await runner.prepare();
        this.projections.push(runner);
      }
      this.promotionWatch = setInterval(() => {
        this.followPromotions().catch((error: unknown) => this.fail(error));
      }, PROMOTION_POLL_MS);
    }
    for (const follower of [...this.processors, ...this.projections]) this.launch(follower);
    const tell = this.options.tellProcessorsGap;
    if (this.deciders.length > 0 && (tell || this.options.projections)) {
      let looking = false;
      this.processorsWatch = setInterval(() => {
        if (looking) return;
        looking = true;
        void this.processorsGap()
          .then((gap) => {
            if (gap === this.processorsBehind) return;
            this.processorsBehind = gap;
            tell?.(gap);
          })
          // A store that cannot say its head now says it at a later look; the hold's bounds stand meanwhile.
          .catch(() => undefined)
          .finally(() => (looking = false));
      }, PROCESSORS_TOLD_MS);
      this.processorsWatch.unref();
    }
  }

  /** How many events this process's processors are behind the head, the furthest behind of them. */
  private async processorsGap(): Promise<number> {
    const slowest = Math.min(...this.deciders.map((p) => p.status.position));
    return Math.max(0, (await this.events.headPosition()) - slowest);
  }

  private projectionRunner(projection: AnyProjection, generation: number): ProjectionRunner {
    const { hearPort, catchUpStalenessMs } = this.options;
    // The processors these projections follow: in this thread, or heard from the thread they run in; none in a process without them.
    const processorsGap = this.options.processorsGap ?? (this.deciders.length > 0 ? () => this.processorsBehind : undefined);
    const hold = projectionHold({ hearPort, catchUpStalenessMs, processorsGap });
    return new ProjectionRunner(this.events, this.reads, projection, generation, this.logger, () => this.settleWaiters(), this.options.partition, this.fanOut?.subscribe, hold);
  }

  private launch(follower: Follower | ProjectionRunner): void {
    this.running.set(
      follower,
      follower
        .run()
        .catch((error: unknown) => this.fail(error))
        .finally(() => this.ended.add(follower)),
    );
  }

  /** This process's followers, and whether each is still running (for readiness). */
  followersRunning(): Array<{ name: string; running: boolean }> {
    return [...this.running.keys()].map((follower) => ({
      name: 'status' in follower ? follower.status.name : `projection:${follower.name}`,
      running: !this.ended.has(follower),
    }));
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
      const replaced: Array<{ old: ProjectionRunner; live: number }> = [];
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
        replaced.push({ old: current, live });
      }
      if (replaced.length === 0) return;
      await new Promise((resolve) => setTimeout(resolve, DROP_GRACE_MS));
      for (const { old, live } of replaced) {
        await this.dropRetired(old.name, live);
        this.logger.info({ projection: old.name, from: old.generation, to: live }, 'switched to the rebuilt read model');
      }
    } finally {
      this.switching = false;
    }
  }

  private async dropRetired(projection: string, live: number): Promise<void> {
    const retired = await this.models.retired(projection);
    if (retired === null || retired === live) return;
    // Partitioned runners share one collection; the first to switch drops it, the rest find it gone.
    await this.reads.dropCollection(collectionOf(projection, retired));
    await this.reads.dropCollection(countsCollectionOf(projection, retired));
    await this.reads.deleteCheckpoint(checkpointOf(projection, retired, this.options.partition));
    await this.models.clearRetired(projection);
  }

  /**
   * Caught up when every follower of the whole platform, in this process or
   * another, has processed everything in the store, including what the
   * processors themselves appended. Each follower's gap says how far behind it is.
   */
  async status(): Promise<PlatformStatus & { subscriptions: FollowerGap[] }> {
    const { caughtUp, head, positions } = await followersAtHead(
      async () => [...(await this.processorPositions()), ...(await this.projectionPositions())],
      () => this.events.headPosition(),
    );
    return { caughtUp, head, subscriptions: await followerGaps(this.events, head, positions) };
  }

  private async processorPositions(): Promise<Array<{ name: string; position: number }>> {
    if (this.options.processors && this.options.partition.count === 1) return this.processors.map((p) => p.status);
    const positions = [];
    for (const processor of PROCESSOR_NAMES) {
      for (const partition of partitionsOf(this.options.partition)) {
        const name = partitionedName(this.options.slot ? slotCheckpointName(processor, this.options.slot) : processor, partition);
        positions.push({ name, position: (await this.events.readCheckpoint(name)) ?? 0 });
      }
    }
    return positions;
  }

  private async projectionPositions(): Promise<Array<{ name: string; position: number }>> {
    if (this.options.projections && this.options.partition.count === 1) {
      return this.projections.map((p) => ({ name: `projection:${p.name}`, position: p.currentPosition }));
    }
    const positions = [];
    for (const projection of PROJECTIONS) {
      positions.push({ name: `projection:${projection.name}`, position: await this.storedProjectionPosition(projection.name) });
    }
    return positions;
  }

  /** The slowest partition's checkpoint of the live generation. */
  private async storedProjectionPosition(projection: string): Promise<number> {
    const generation = await this.models.generation(projection);
    let slowest = Number.POSITIVE_INFINITY;
    for (const partition of partitionsOf(this.options.partition)) {
      slowest = Math.min(slowest, (await this.reads.readCheckpoint(checkpointOf(projection, generation, partition))) ?? 0);
    }
    return slowest;
  }

  waitForPosition(projection: string, position: number, timeoutMs: number): Promise<boolean> {
    if (!this.options.projections || this.options.partition.count > 1) {
      const tell = this.options.projections ? () => this.awaitPosition(projection, position) : () => this.options.awaitElsewhere?.(projection, position);
      return this.pollStoredPosition(projection, position, timeoutMs, tell);
    }
    const runner = this.projections.find((p) => p.name === projection);
    if (!runner || runner.currentPosition >= position) return Promise.resolve(true);
    runner.awaitPosition(position);
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

  /** A reader waits for this process's runner of `projection` to write its read model up to `position`: it writes as soon as a batch passes it. */
  awaitPosition(projection: string, position: number): void {
    this.projections.find((p) => p.name === projection)?.awaitPosition(position);
  }

  /** Polls the read model's checkpoint; `tell` says once to the runners that can hear it that a reader waits. */
  private async pollStoredPosition(projection: string, position: number, timeoutMs: number, tell: () => void): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (let polls = 0; ; polls++) {
      if ((await this.storedProjectionPosition(projection)) >= position) return true;
      if (polls === 0) tell();
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, CHECKPOINT_POLL_MS));
    }
  }

  private settleWaiters(): void {
    for (const waiter of [...this.waiters]) {
      const runner = this.projections.find((p) => p.name === waiter.projection);
      if (runner && runner.currentPosition >= waiter.position) waiter.resolve(true);
    }
  }

  async stop(): Promise<void> {
    if (this.promotionWatch) clearInterval(this.promotionWatch);
    if (this.processorsWatch) clearInterval(this.processorsWatch);
    await Promise.all([...this.processors, ...this.projections].map((runner) => runner.stop()));
    await Promise.allSettled(this.running.values());
    await this.fanOut?.close();
    for (const waiter of [...this.waiters]) waiter.resolve(false);
  }
}

function partitionsOf(mine: Partition): Partition[] {
  return Array.from({ length: mine.count }, (_, index) => ({ index, count: mine.count }));
}
