// The regression engine: follows both environments' event stores, routes each
// event to the pairs (reconciler, correlation ID) it belongs to, partitions the
// correlation IDs by hash across shards and workers, and lets the workers
// record outputs and judge pairs as they settle.
//
//   PROD store ─┐                       ┌─ worker 0: shards 0, 2  (shard-0.db, shard-2.db)
//               ├─ route by hash(cid) ──┤
//   UAT store  ─┘                       └─ worker 1: shards 1, 3
//
// Batch mode reads a bounded range of positions (by default up to each
// store's head when the run starts) and then judges every pending pair. Follow
// mode subscribes and judges on a clock until stopped. Either way everything is
// durable per shard, so a run that stops (or crashes) resumes where it was.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { randomUUID } from 'node:crypto';
import type { RecordedEvent, Subscription } from '../eventstore/index.js';
import { NO_DOCS, openEnvironment, ReadModelAccess, type DocSource, type EnvironmentInput, type OpenEnvironment } from './environment.js';
import { partitionOf } from './hash.js';
import { loadReconcilers, type LoadedReconcilers, type LoadOptions } from './loader.js';
import type { JsonObject } from './json.js';
import type { OutputEvent, Reconciler } from './reconciler.js';
import { ShardProcessor, type Checkpoints, type JudgeStats } from './shards.js';
import { RunStore, type IngestItem, type RunMeta } from './store.js';
import type { SideName, Timing, Verdict } from './verdict.js';
import type { WorkerInit, WorkerRequest, WorkerResponse } from './worker.js';

export const DEFAULT_TIMING: Timing = { quietMs: 2_000, timeoutMs: 30_000 };
export const DEFAULT_PARTITIONS = 64;
export const DEFAULT_SHARDS = 4;

export interface PositionRange {
  /** Exclusive: events after this position. Default: where the run got to (0 for a new run). */
  from?: number;
  /** Inclusive; batch mode only. Default: the store's head when the run starts. */
  to?: number;
}

export interface RegressionOptions {
  /** Where the run's durable state lives (created if new, resumed if not). */
  runDir: string;
  prod: EnvironmentInput;
  uat: EnvironmentInput;
  reconcilers?: LoadOptions | LoadedReconcilers;
  /** Worker threads; 0 runs the shards in this thread. Default: min(2, cores). */
  workers?: number;
  /** Fixed when the run is created. */
  shards?: number;
  partitions?: number;
  mode?: 'batch' | 'follow';
  range?: { prod?: PositionRange; uat?: PositionRange };
  timing?: Partial<Timing>;
  /** How often follow mode judges what is due. */
  tickMs?: number;
  /** Events read per batch. */
  batchSize?: number;
  /** Batch mode: how long to wait for each environment's read models to reach the end of the range. */
  readModelWaitMs?: number;
  /** Stops a follow run (and interrupts a batch run). */
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
  progressIntervalMs?: number;
  /** The clock (tests). */
  now?: () => number;
  /** The compiled worker entry; by default worker.js beside this module. */
  workerEntry?: URL;
  /** Re-judge every judged pair, whatever version decided it. */
  forceRejudge?: boolean;
  /** Batch mode: record outputs and checksums but judge nothing (a cheap first look). Default true. */
  judge?: boolean;
}

export interface SideProgress {
  label: string;
  from: number;
  position: number;
  /** End of the range in batch mode; the head as last seen in follow mode. */
  target: number | null;
  events: number;
  caughtUp: boolean;
}

export interface Progress {
  phase: 'starting' | 'rejudging' | 'reading' | 'waiting-for-read-models' | 'judging' | 'following' | 'done';
  elapsedMs: number;
  prod: SideProgress;
  uat: SideProgress;
  judged: number;
  byVerdict: Partial<Record<Verdict, number>>;
  warnings: string[];
}

export interface RunOutcome {
  runDir: string;
  meta: RunMeta;
  status: 'completed' | 'stopped';
  workers: number;
  inThreadReason: string | null;
  judged: number;
  rejudged: number;
  rejudgedReconcilers: string[];
  byVerdict: Partial<Record<Verdict, number>>;
  prod: SideProgress;
  uat: SideProgress;
  elapsedMs: number;
  /** Time spent reading and recording both sides, and judging. */
  readMs: number;
  judgeMs: number;
  warnings: string[];
}

/** What the engine needs of a set of shards, in this thread or in a worker. */
export interface ShardClient {
  checkpoints(): Promise<Record<number, Checkpoints>>;
  ingest(side: SideName, items: Record<number, IngestItem[]>, upTo: number, now: number): Promise<number>;
  judge(now: number, final: boolean): Promise<JudgeStats>;
  rejudge(names: readonly string[], force: boolean): Promise<JudgeStats>;
  close(): Promise<void>;
}

class WorkerClient implements ShardClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private failure: Error | null = null;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (response: WorkerResponse) => {
      const waiter = this.pending.get(response.id);
      if (!waiter) return;
      this.pending.delete(response.id);
      if (response.ok) waiter.resolve(response.value);
      else waiter.reject(new Error(`regression worker: ${response.error}`));
    });
    const fail = (error: Error) => {
      this.failure = error;
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (this.pending.size > 0) fail(new Error(`regression worker exited (${code})`));
    });
  }

  static start(entry: URL, init: WorkerInit): Promise<WorkerClient> {
    // Judging allocates many short-lived objects: a larger young generation means fewer scavenges (~10-20 % faster).
    const worker = new Worker(entry, { workerData: init, resourceLimits: { maxYoungGenerationSizeMb: 96 } });
    return new Promise((resolve, reject) => {
      const onReady = (message: WorkerResponse) => {
        if (message.id !== 0) return;
        worker.off('message', onReady);
        if (message.ok) resolve(new WorkerClient(worker));
        else {
          void worker.terminate();
          reject(new Error(`regression worker failed to start: ${message.error}`));
        }
      };
      worker.on('message', onReady);
      worker.once('error', reject);
    });
  }

  private call<T>(request: WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...request, id } as WorkerRequest);
    });
  }

  checkpoints() {
    return this.call<Record<number, Checkpoints>>({ op: 'checkpoints' });
  }
  ingest(side: SideName, items: Record<number, IngestItem[]>, upTo: number, now: number) {
    return this.call<number>({ op: 'ingest', side, items, upTo, now });
  }
  judge(now: number, final: boolean) {
    return this.call<JudgeStats>({ op: 'judge', now, final });
  }
  rejudge(names: readonly string[], force: boolean) {
    return this.call<JudgeStats>({ op: 'rejudge', names: [...names], force });
  }
  async close() {
    try {
      await this.call<null>({ op: 'close' });
    } finally {
      await this.worker.terminate();
    }
  }
}

/** A recorded event as a pair stores it. */
export function toOutputEvent(event: RecordedEvent): OutputEvent {
  return {
    id: event.id,
    type: event.type,
    stream: event.stream,
    revision: event.revision,
    position: event.position,
    recordedAt: event.recordedAt.toISOString(),
    data: event.data as OutputEvent['data'],
    metadata: event.metadata as unknown as JsonObject,
  };
}

export interface Router {
  readonly followedTypes: readonly string[];
  /** Items per client, per shard. */
  route(events: readonly RecordedEvent[]): Array<Record<number, IngestItem[]>>;
}

/** Routes events to pairs: per reconciler interested in the type, per correlation ID, by hash to a partition, shard and client. */
export function createRouter(reconcilers: readonly Reconciler[], layout: { partitions: number; shards: number; clients: number }): Router {
  const byType = new Map<string, Reconciler[]>();
  for (const r of reconcilers) for (const type of r.followedTypes) byType.set(type, [...(byType.get(type) ?? []), r]);
  const shardOwner = (shard: number) => shard % layout.clients;
  return {
    followedTypes: [...byType.keys()],
    route(events) {
      const out: Array<Record<number, IngestItem[]>> = Array.from({ length: layout.clients }, () => ({}));
      for (const event of events) {
        const interested = byType.get(event.type);
        if (!interested) continue;
        let output: OutputEvent | null = null;
        for (const r of interested) {
          const keep = r.keeps(event.type);
          if (keep && output === null) output = toOutputEvent(event);
          for (const cid of r.keysOf(event)) {
            const partition = partitionOf(cid, layout.partitions);
            const shard = partition % layout.shards;
            const bucket = out[shardOwner(shard)]!;
            (bucket[shard] ??= []).push({ reconciler: r.name, cid, partition, position: event.position, event: keep ? output : null });
          }
        }
      }
      return out;
    },
  };
}

function workerEntryUsable(entry: URL): boolean {
  return entry.pathname.endsWith('.js');
}

export async function runRegression(options: RegressionOptions): Promise<RunOutcome> {
  const started = Date.now();
  const now = options.now ?? Date.now;
  const timing: Timing = { ...DEFAULT_TIMING, ...options.timing };
  const warnings: string[] = [];
  const mode = options.mode ?? 'batch';

  const loaded = 'reconcilers' in (options.reconcilers ?? {}) ? (options.reconcilers as LoadedReconcilers) : await loadReconcilers(options.reconcilers as LoadOptions | undefined);
  const reconcilers = loaded.reconcilers;

  const run = RunStore.open(options.runDir);
  const envs: OpenEnvironment[] = [];
  const clients: ShardClient[] = [];
  try {
    const prodEnv = await openEnvironment(options.prod, 'PROD');
    envs.push(prodEnv);
    const uatEnv = await openEnvironment(options.uat, 'UAT');
    envs.push(uatEnv);
    const meta = run.initialise({
      id: randomUUID(),
      createdAt: new Date().toISOString(),
      partitions: options.partitions ?? DEFAULT_PARTITIONS,
      shards: options.shards ?? DEFAULT_SHARDS,
      prodLabel: prodEnv.ref.label,
      uatLabel: uatEnv.ref.label,
      prodSource: prodEnv.ref.describe,
      uatSource: uatEnv.ref.describe,
    });
    if (meta.prodSource !== prodEnv.ref.describe || meta.uatSource !== uatEnv.ref.describe) {
      throw new Error(
        `${options.runDir} holds a run of ${meta.prodSource} against ${meta.uatSource}, not of ${prodEnv.ref.describe} against ${uatEnv.ref.describe}: use another run directory, or start afresh`,
      );
    }
    if (options.shards !== undefined && options.shards !== meta.shards) warnings.push(`the run has ${meta.shards} shards (fixed when it was created); --shards ${options.shards} ignored`);

    // Workers: threads need the compiled entry, and environments they can open themselves.
    const entry = options.workerEntry ?? new URL('./worker.js', import.meta.url);
    let requested = options.workers ?? Math.min(2, availableParallelism());
    let inThreadReason: string | null = null;
    if (requested > 0 && !workerEntryUsable(entry)) inThreadReason = 'running from TypeScript sources: worker threads need the compiled build';
    else if (requested > 0 && (!prodEnv.ref.readStore || !uatEnv.ref.readStore) && (options.prod.reads || options.uat.reads || options.prod.events || options.uat.events)) {
      inThreadReason = 'environments given as open stores cannot be shared with worker threads';
    }
    else if (requested > 0 && reconcilers.some((r) => !loaded.origin.has(r.name))) inThreadReason = 'reconcilers defined in code (not in a module) cannot be loaded by worker threads';
    if (inThreadReason) requested = 0;
    const workers = Math.min(requested, meta.shards);
    const shardPaths = (owner: number, of: number) => {
      const map = new Map<number, string>();
      for (let s = 0; s < meta.shards; s++) if (s % of === owner) map.set(s, run.shardPath(s));
      return map;
    };
    if (workers === 0) {
      const docsOf = (env: OpenEnvironment): DocSource => (env.reads ? new ReadModelAccess(env.reads) : NO_DOCS);
      clients.push(new ShardProcessor({ shards: shardPaths(0, 1), reconcilers, docs: { prod: docsOf(prodEnv), uat: docsOf(uatEnv) }, timing }));
    } else {
      const launched = await Promise.allSettled(
        Array.from({ length: workers }, (_, w) =>
          WorkerClient.start(entry, {
            shards: [...shardPaths(w, workers)],
            modules: loaded.modules,
            reconcilers: reconcilers.map((r) => r.name),
            prod: prodEnv.ref,
            uat: uatEnv.ref,
            timing,
          }),
        ),
      );
      for (const s of launched) if (s.status === 'fulfilled') clients.push(s.value);
      const failed = launched.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
    }
    const router = createRouter(reconcilers, { partitions: meta.partitions, shards: meta.shards, clients: clients.length });

    const progress: Progress = {
      phase: 'starting',
      elapsedMs: 0,
      prod: { label: meta.prodLabel, from: 0, position: 0, target: null, events: 0, caughtUp: false },
      uat: { label: meta.uatLabel, from: 0, position: 0, target: null, events: 0, caughtUp: false },
      judged: 0,
      byVerdict: {},
      warnings,
    };
    let lastReport = 0;
    const report = (force = false) => {
      const t = Date.now();
      if (!options.onProgress || (!force && t - lastReport < (options.progressIntervalMs ?? 250))) return;
      lastReport = t;
      progress.elapsedMs = t - started;
      options.onProgress({ ...progress, prod: { ...progress.prod }, uat: { ...progress.uat }, byVerdict: { ...progress.byVerdict } });
    };
    const addStats = (stats: JudgeStats) => {
      progress.judged += stats.judged;
      for (const [v, n] of Object.entries(stats.byVerdict)) progress.byVerdict[v as Verdict] = (progress.byVerdict[v as Verdict] ?? 0) + n;
    };

    // Re-judge what an older version of a reconciler decided: stored pairs, no replay.
    const known = run.reconcilerVersions();
    const changed = options.forceRejudge ? reconcilers.map((r) => r.name) : reconcilers.filter((r) => known.has(r.name) && known.get(r.name)!.version !== r.version).map((r) => r.name);
    let rejudged = 0;
    if (changed.length > 0) {
      progress.phase = 'rejudging';
      report(true);
      for (const stats of await Promise.all(clients.map((c) => c.rejudge(changed, options.forceRejudge ?? false)))) rejudged += stats.judged;
    }
    for (const r of reconcilers) run.setReconcilerVersion(r.name, r.version, loaded.origin.get(r.name) ?? null);

    // Where to start: each shard knows its own checkpoint; the slowest one decides.
    const checkpoints = (await Promise.all(clients.map((c) => c.checkpoints()))).flatMap((c) => Object.values(c));
    const fromOf = (side: SideName) => Math.max(Math.min(...checkpoints.map((c) => c[side])), options.range?.[side]?.from ?? 0);
    const sides: Record<SideName, { env: OpenEnvironment; from: number; to: number | null }> = {
      prod: { env: prodEnv, from: fromOf('prod'), to: null },
      uat: { env: uatEnv, from: fromOf('uat'), to: null },
    };
    if (mode === 'batch') {
      for (const side of ['prod', 'uat'] as const) sides[side].to = options.range?.[side]?.to ?? (await sides[side].env.events.headPosition());
    }
    for (const side of ['prod', 'uat'] as const) {
      progress[side].from = sides[side].from;
      progress[side].position = sides[side].from;
      progress[side].target = sides[side].to;
    }
    const invocation = run.startInvocation(mode, { prodFrom: sides.prod.from, prodTo: sides.prod.to, uatFrom: sides.uat.from, uatTo: sides.uat.to });

    const filter = { eventTypes: router.followedTypes };
    const batchSize = options.batchSize ?? 2000;
    const inFlight: Array<Promise<unknown>> = [];
    const dispatch = async (side: SideName, events: readonly RecordedEvent[], upTo: number) => {
      const routed = router.route(events);
      const t = now();
      const sent = Promise.all(clients.map((client, i) => client.ingest(side, routed[i]!, upTo, t)));
      // Awaited below (or at the end); handled now so that an early failure elsewhere leaves no unhandled rejection.
      sent.catch(() => undefined);
      inFlight.push(sent);
      while (inFlight.length > 4) await inFlight.shift();
      progress[side].events += events.length;
      progress[side].position = upTo;
      report();
    };

    const aborted = () => options.signal?.aborted ?? false;
    const readBounded = async (side: SideName) => {
      const { env, to } = sides[side];
      let position = sides[side].from;
      while (position < to! && !aborted()) {
        const result = await env.events.readAll(position, { maxCount: batchSize, filter });
        const upTo = Math.min(result.scannedTo, to!);
        if (upTo <= position) break;
        await dispatch(side, result.events.filter((e) => e.position <= upTo), upTo);
        position = upTo;
      }
      progress[side].caughtUp = true;
    };
    const subscriptions: Subscription[] = [];
    const follow = async (side: SideName) => {
      const { env } = sides[side];
      const subscription = env.events.subscribe(sides[side].from, { filter, batchSize });
      subscriptions.push(subscription);
      for await (const batch of subscription) {
        if (aborted()) break;
        await dispatch(side, batch.events, batch.scannedTo);
        progress[side].caughtUp = batch.caughtUp;
        if (batch.caughtUp) progress[side].target = batch.scannedTo;
      }
    };

    let status: RunOutcome['status'] = 'completed';
    const readingFrom = Date.now();
    let readMs = 0;
    let judgeMs = 0;
    if (mode === 'batch') {
      progress.phase = 'reading';
      report(true);
      await Promise.all([readBounded('prod'), readBounded('uat')]);
      await Promise.all(inFlight);
      readMs = Date.now() - readingFrom;
      if (aborted()) status = 'stopped';
      else if (options.judge === false) status = 'completed';
      else {
        progress.phase = 'waiting-for-read-models';
        report(true);
        await waitForReadModels(sides, reconcilers, options.readModelWaitMs ?? 60_000, warnings);
        progress.phase = 'judging';
        report(true);
        const judgingFrom = Date.now();
        for (const stats of await Promise.all(clients.map((c) => c.judge(now(), true)))) addStats(stats);
        judgeMs = Date.now() - judgingFrom;
      }
    } else {
      progress.phase = 'following';
      report(true);
      let ticking: Promise<void> | null = null;
      const tick = () => {
        if (ticking) return;
        ticking = (async () => {
          try {
            for (const stats of await Promise.all(clients.map((c) => c.judge(now(), false)))) addStats(stats);
            report();
          } finally {
            ticking = null;
          }
        })();
      };
      const timer = setInterval(tick, options.tickMs ?? Math.max(20, Math.min(250, Math.floor(timing.quietMs / 2))));
      const onAbort = () => {
        for (const s of subscriptions) void s.close();
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        if (!aborted()) await Promise.all([follow('prod'), follow('uat')]);
      } finally {
        clearInterval(timer);
        options.signal?.removeEventListener('abort', onAbort);
        for (const s of subscriptions) await s.close();
      }
      await Promise.all(inFlight);
      while (ticking) await ticking;
      for (const stats of await Promise.all(clients.map((c) => c.judge(now(), false)))) addStats(stats);
      status = 'stopped';
      readMs = Date.now() - readingFrom;
    }
    progress.phase = 'done';
    report(true);
    run.endInvocation(invocation, status, progress.judged);
    return {
      runDir: options.runDir,
      meta,
      status,
      workers,
      inThreadReason,
      judged: progress.judged,
      rejudged,
      rejudgedReconcilers: changed,
      byVerdict: progress.byVerdict,
      prod: progress.prod,
      uat: progress.uat,
      elapsedMs: Date.now() - started,
      readMs,
      judgeMs,
      warnings,
    };
  } finally {
    await Promise.allSettled(clients.map((c) => c.close()));
    await Promise.allSettled(envs.map((e) => e.close()));
    run.close();
  }
}

async function waitForReadModels(
  sides: Record<SideName, { env: OpenEnvironment; to: number | null }>,
  reconcilers: readonly Reconciler[],
  waitMs: number,
  warnings: string[],
): Promise<void> {
  const models = [...new Set(reconcilers.flatMap((r) => r.readModels.map((m) => m.name)))];
  if (models.length === 0) return;
  const deadline = Date.now() + waitMs;
  for (const side of ['prod', 'uat'] as const) {
    const { env, to } = sides[side];
    if (!env.reads || to === null) continue;
    const access = new ReadModelAccess(env.reads);
    for (const model of models) {
      for (;;) {
        const position = await access.position(model);
        if (position === null || position >= to) break;
        if (Date.now() > deadline) {
          warnings.push(`${env.ref.label}: read model ${model} is at position ${position}, short of ${to}; its documents may be stale`);
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
}

/** Re-judges a run's stored pairs without reading any environment (after a reconciler changed). */
export async function rejudgeRun(options: { runDir: string; reconcilers?: LoadOptions | LoadedReconcilers; force?: boolean; only?: readonly string[] }): Promise<{ rejudged: number; reconcilers: string[]; byVerdict: Partial<Record<Verdict, number>> }> {
  const loaded = 'reconcilers' in (options.reconcilers ?? {}) ? (options.reconcilers as LoadedReconcilers) : await loadReconcilers(options.reconcilers as LoadOptions | undefined);
  if (!RunStore.exists(options.runDir)) throw new Error(`${options.runDir}: no regression run there`);
  const run = RunStore.open(options.runDir);
  try {
    const meta = run.meta();
    if (!meta) throw new Error(`${options.runDir}: the run was never initialised`);
    const known = run.reconcilerVersions();
    const names = loaded.reconcilers
      .filter((r) => (options.only ? options.only.includes(r.name) : true))
      .filter((r) => options.force || (known.has(r.name) && known.get(r.name)!.version !== r.version))
      .map((r) => r.name);
    const shards = new Map<number, string>();
    for (let s = 0; s < meta.shards; s++) shards.set(s, run.shardPath(s));
    const processor = new ShardProcessor({ shards, reconcilers: loaded.reconcilers, docs: { prod: NO_DOCS, uat: NO_DOCS }, timing: DEFAULT_TIMING });
    try {
      const stats = await processor.rejudge(names, options.force ?? false);
      for (const r of loaded.reconcilers) if (names.includes(r.name)) run.setReconcilerVersion(r.name, r.version, loaded.origin.get(r.name) ?? null);
      return { rejudged: stats.judged, reconcilers: names, byVerdict: stats.byVerdict };
    } finally {
      await processor.close();
    }
  } finally {
    run.close();
  }
}

