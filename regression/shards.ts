// The work of one worker: a set of shards, each a SQLite file it alone writes.
// It records outputs as the engine routes them, judges pairs that are due, and
// re-judges stored pairs when a reconciler's version changes. Operations run
// one at a time (a worker's messages may interleave at awaits otherwise).
import type { DocSource } from './environment.js';
import type { Json } from './json.js';
import type { OutputEvent, Reconciler, SideOutput } from './reconciler.js';
import { ShardStore, type IngestItem, type JudgementCause, type JudgementRecord, type PairRow } from './store.js';
import { AGREEING, present, verdictOf, type SideName, type Timing, type Verdict } from './verdict.js';

export interface ShardProcessorOptions {
  /** Shard file paths by shard number. */
  shards: ReadonlyMap<number, string>;
  reconcilers: readonly Reconciler[];
  docs: { prod: DocSource; uat: DocSource };
  timing: Timing;
  /** Pairs judged per transaction. */
  pageSize?: number;
  /** How long a pair waits for read models to catch up after its deadline before it is judged anyway. */
  readModelGraceMs?: number;
}

export interface JudgeStats {
  judged: number;
  byVerdict: Partial<Record<Verdict, number>>;
  postponed: number;
}

export type Checkpoints = Record<SideName, number>;

export class ShardProcessor {
  private readonly stores = new Map<number, ShardStore>();
  private readonly reconcilers: Map<string, Reconciler>;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly pageSize: number;
  private readonly graceMs: number;

  constructor(private readonly options: ShardProcessorOptions) {
    for (const [shard, path] of options.shards) this.stores.set(shard, ShardStore.open(path));
    this.reconcilers = new Map(options.reconcilers.map((r) => [r.name, r]));
    this.pageSize = options.pageSize ?? 1000;
    this.graceMs = options.readModelGraceMs ?? options.timing.timeoutMs;
  }

  private serial<T>(work: () => Promise<T> | T): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Each shard's checkpoint per side. */
  checkpoints(): Promise<Record<number, Checkpoints>> {
    return this.serial(() => {
      const out: Record<number, Checkpoints> = {};
      for (const [shard, store] of this.stores) out[shard] = { prod: store.checkpoint('prod'), uat: store.checkpoint('uat') };
      return out;
    });
  }

  /** Records a side's batch in every shard (with its checkpoint, even for a shard without items). */
  ingest(side: SideName, itemsByShard: Readonly<Record<number, readonly IngestItem[]>>, upTo: number, now: number): Promise<number> {
    return this.serial(() => {
      let touched = 0;
      for (const [shard, store] of this.stores) touched += store.ingest(side, itemsByShard[shard] ?? [], upTo, now, this.options.timing);
      return touched;
    });
  }

  /** Judges the pairs due at `now`; `final` judges every pending pair (the bounded range is complete). */
  judge(now: number, final: boolean): Promise<JudgeStats> {
    return this.serial(async () => {
      const stats: JudgeStats = { judged: 0, byVerdict: {}, postponed: 0 };
      for (const store of this.stores.values()) {
        let cursor: { reconciler: string; cid: string } | null = null;
        for (;;) {
          const page: PairRow[] = final ? store.pendingAfter(cursor, this.pageSize) : store.due(now, this.pageSize);
          if (page.length === 0) break;
          const records = await this.judgePage(store, page, now, final, stats);
          const recorded = store.record(records);
          stats.judged += recorded;
          for (const r of records) stats.byVerdict[r.verdict] = (stats.byVerdict[r.verdict] ?? 0) + 1;
          if (final) cursor = { reconciler: page.at(-1)!.reconciler, cid: page.at(-1)!.cid };
          if (page.length < this.pageSize) break;
        }
      }
      return stats;
    });
  }

  private async judgePage(store: ShardStore, page: readonly PairRow[], now: number, final: boolean, stats: JudgeStats): Promise<JudgementRecord[]> {
    const docs = await this.fetchDocs(page);
    const outputs = this.pageOutputs(store, page);
    const records: JudgementRecord[] = [];
    for (const pair of page) {
      const reconciler = this.reconcilers.get(pair.reconciler);
      if (!reconciler) {
        // A reconciler that is no longer loaded: leave its pairs alone for an hour.
        store.postpone(pair, now + 3_600_000);
        stats.postponed++;
        continue;
      }
      const sideDocs = docs.get(pair.reconciler)?.get(pair.cid);
      if (!final && sideDocs?.notReady && now < (pair.dueAt ?? now) + this.graceMs) {
        store.postpone(pair, now + Math.max(50, Math.min(this.options.timing.quietMs, 1000)));
        stats.postponed++;
        continue;
      }
      const cause: JudgementCause = final ? 'final' : present(pair, 'prod') && present(pair, 'uat') && this.bothSettled(pair, now) ? 'settled' : 'timeout';
      const pairOutputs = outputs.get(pair.reconciler)?.get(pair.cid) ?? { prod: [], uat: [] };
      records.push(this.judgeOne(reconciler, pair, pairOutputs, sideDocs?.prod ?? {}, sideDocs?.uat ?? {}, now, cause, true));
    }
    return records;
  }

  /**
   * The stored events of a page of pairs. A page in key order (final judgement,
   * re-judging) is read with one range query per reconciler; pairs due in time
   * order are read one by one.
   */
  private pageOutputs(store: ShardStore, page: readonly PairRow[]): Map<string, Map<string, { prod: OutputEvent[]; uat: OutputEvent[] }>> {
    const out = new Map<string, Map<string, { prod: OutputEvent[]; uat: OutputEvent[] }>>();
    const byReconciler = new Map<string, PairRow[]>();
    for (const pair of page) {
      const list = byReconciler.get(pair.reconciler);
      if (list) list.push(pair);
      else byReconciler.set(pair.reconciler, [pair]);
    }
    for (const [reconciler, pairs] of byReconciler) {
      let sorted = true;
      for (let i = 1; i < pairs.length; i++) if (pairs[i - 1]!.cid >= pairs[i]!.cid) sorted = false;
      if (sorted && pairs.length > 16) {
        out.set(reconciler, store.outputsBetween(reconciler, pairs[0]!.cid, pairs.at(-1)!.cid));
      } else {
        out.set(reconciler, new Map(pairs.map((p) => [p.cid, store.outputs(reconciler, p.cid)])));
      }
    }
    return out;
  }

  private bothSettled(pair: PairRow, now: number): boolean {
    const q = this.options.timing.quietMs;
    return pair.prodLastAt !== null && pair.uatLastAt !== null && now >= pair.prodLastAt + q && now >= pair.uatLastAt + q;
  }

  private judgeOne(
    reconciler: Reconciler,
    pair: PairRow,
    outputs: { prod: OutputEvent[]; uat: OutputEvent[] },
    prodDocs: Record<string, Json>,
    uatDocs: Record<string, Json>,
    now: number,
    cause: JudgementCause,
    storeDocs: boolean,
  ): JudgementRecord {
    const hasDocs = reconciler.readModels.length > 0;
    const docsText = storeDocs && hasDocs
      ? {
          ...(present(pair, 'prod') && { prod: JSON.stringify(prodDocs) }),
          ...(present(pair, 'uat') && { uat: JSON.stringify(uatDocs) }),
        }
      : null;
    const prod: SideOutput | null = present(pair, 'prod') ? { events: outputs.prod, docs: prodDocs } : null;
    const uat: SideOutput | null = present(pair, 'uat') ? { events: outputs.uat, docs: uatDocs } : null;
    const judgement = reconciler.judge(prod, uat, { inPlace: true });
    const verdict = verdictOf(pair, judgement.outcome);
    const normalised = AGREEING.has(verdict)
      ? null
      : { ...(judgement.prod !== undefined && { prod: judgement.prod }), ...(judgement.uat !== undefined && { uat: judgement.uat }) };
    return { pair, verdict, reconcilerVersion: reconciler.version, decidedAt: now, cause, differences: judgement.differences, normalised, docs: docsText };
  }

  /** Documents of the page's pairs, per reconciler and correlation ID, with whether the read models had caught up. */
  private async fetchDocs(page: readonly PairRow[]): Promise<Map<string, Map<string, { prod: Record<string, Json>; uat: Record<string, Json>; notReady: boolean }>>> {
    const out = new Map<string, Map<string, { prod: Record<string, Json>; uat: Record<string, Json>; notReady: boolean }>>();
    const byReconciler = new Map<string, PairRow[]>();
    for (const pair of page) {
      const list = byReconciler.get(pair.reconciler);
      if (list) list.push(pair);
      else byReconciler.set(pair.reconciler, [pair]);
    }
    const positions = new Map<string, number | null>();
    const positionOf = async (side: SideName, readModel: string) => {
      const key = `${side}\u0000${readModel}`;
      if (!positions.has(key)) positions.set(key, await this.options.docs[side].position(readModel));
      return positions.get(key)!;
    };
    for (const [name, pairs] of byReconciler) {
      const reconciler = this.reconcilers.get(name);
      if (!reconciler || reconciler.readModels.length === 0) continue;
      const perPair = new Map<string, { prod: Record<string, Json>; uat: Record<string, Json>; notReady: boolean }>();
      for (const pair of pairs) perPair.set(pair.cid, { prod: {}, uat: {}, notReady: false });
      for (const side of ['prod', 'uat'] as const) {
        const sidePairs = pairs.filter((p) => present(p, side));
        if (sidePairs.length === 0) continue;
        for (const model of reconciler.readModels) {
          const ids = sidePairs.map((p) => model.idOf(p.cid));
          const found = await this.options.docs[side].fetch(model.name, ids);
          const position = await positionOf(side, model.name);
          for (const pair of sidePairs) {
            const entry = perPair.get(pair.cid)!;
            entry[side][model.name] = found.get(model.idOf(pair.cid)) ?? null;
            const seen = side === 'prod' ? pair.prodPosition : pair.uatPosition;
            if (position !== null && position < seen) entry.notReady = true;
          }
        }
      }
      out.set(name, perPair);
    }
    return out;
  }

  /**
   * Re-judges stored pairs of the named reconcilers that a different version
   * decided (all judged pairs with `force`), from stored outputs and documents:
   * no replay, no environment needed.
   */
  rejudge(names: readonly string[], force = false): Promise<JudgeStats> {
    return this.serial(() => {
      const stats: JudgeStats = { judged: 0, byVerdict: {}, postponed: 0 };
      const now = Date.now();
      for (const name of names) {
        const reconciler = this.reconcilers.get(name);
        if (!reconciler) continue;
        for (const store of this.stores.values()) {
          let after = '';
          for (;;) {
            const page = store.judgedNotBy(name, force ? `\u0000force-${now}` : reconciler.version, after, this.pageSize);
            if (page.length === 0) break;
            const outputs = store.outputsBetween(name, page[0]!.cid, page.at(-1)!.cid);
            const records = page.map((pair) => {
              const stored = store.storedDocs(name, pair.cid);
              const docsOf = (side: SideName) => {
                const docs = stored[side] ?? {};
                for (const model of reconciler.readModels) if (!(model.name in docs)) docs[model.name] = null;
                return docs;
              };
              return this.judgeOne(reconciler, pair, outputs.get(pair.cid) ?? { prod: [], uat: [] }, docsOf('prod'), docsOf('uat'), now, 'rejudge', false);
            });
            stats.judged += store.record(records);
            for (const r of records) stats.byVerdict[r.verdict] = (stats.byVerdict[r.verdict] ?? 0) + 1;
            after = page.at(-1)!.cid;
            if (page.length < this.pageSize) break;
          }
        }
      }
      return stats;
    });
  }

  close(): Promise<void> {
    return this.serial(() => {
      for (const store of this.stores.values()) store.close();
      this.stores.clear();
    });
  }
}
