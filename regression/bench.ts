// Benchmark of the regression engine (wired into `npm run bench`; never a timed test).
//
// Generates two SQLite event stores with N correlation IDs each (one booking
// event per ID, ~1% changed and ~0.1% missing in UAT), then runs the engine
// with the shipped `bookings` reconciler:
//   - ingest: reading both stores, routing by hash, recording outputs in shards
//   - judge: comparisons per second (read pair, normalise, diff, write verdict),
//     with 1 and with 2 worker threads over the same stored pairs
//   - core: parse + normalise + diff per pair, in this thread, no SQLite
// Worker threads need the compiled build: run it from dist (npm run bench).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteEventStore, type EventData } from '../eventstore/index.js';
import { runRegression, type Progress, type RunOutcome } from './engine.js';
import { loadReconcilers } from './loader.js';
import type { OutputEvent, SideOutput } from './reconciler.js';
import { bookingsReconciler } from './reconcilers/index.js';
import { RunStore } from './store.js';

export interface BenchOptions {
  correlationIds?: number;
  workers?: readonly number[];
  dir?: string;
  log?: (line: string) => void;
}

function tradeBooked(cid: string, quantity: number): Record<string, unknown> {
  const half = Math.floor(quantity / 2);
  return {
    type: 'TradeBooked',
    tradeRef: cid,
    inputId: randomUUID(),
    version: 1,
    isin: 'US0378331005',
    side: 'BUY',
    allocations: [
      { allocationId: `${cid}-2`, account: 'ACC-2', quantity: quantity - half },
      { allocationId: `${cid}-1`, account: 'ACC-1', quantity: half },
    ],
  };
}

async function generate(path: string, n: number, variant: 'prod' | 'uat', log: (l: string) => void): Promise<void> {
  const store = SqliteEventStore.open(path);
  const batch = 20_000;
  try {
    for (let from = 0; from < n; from += batch) {
      const appends = [];
      for (let i = from; i < Math.min(n, from + batch); i++) {
        if (variant === 'uat' && i % 1000 === 999) continue;
        const cid = `T${String(i).padStart(8, '0')}`;
        const quantity = 1000 + (i % 97) * 10 + (variant === 'uat' && i % 100 === 7 ? 1 : 0);
        const event: EventData = { id: randomUUID(), type: 'TradeBooked', data: tradeBooked(cid, quantity), metadata: { correlationId: cid } };
        appends.push({ stream: `booking-${cid}`, expectedRevision: 'any' as const, events: [event] });
      }
      await store.appendMany(appends);
      if ((from / batch) % 10 === 0) log(`  generating ${variant}: ${from.toLocaleString('en')} / ${n.toLocaleString('en')}`);
    }
  } finally {
    await store.close();
  }
}

/** Puts every pair back to PENDING, so the next run judges them all again. */
function resetVerdicts(runDir: string): void {
  const run = RunStore.open(runDir, { readonly: true });
  const meta = run.meta()!;
  const paths = Array.from({ length: meta.shards }, (_, s) => run.shardPath(s));
  run.close();
  for (const path of paths) {
    const db = new Database(path);
    db.exec(`BEGIN; UPDATE pairs SET state = 'PENDING', due_at = 0, judged_revision = -1, reconciler_version = NULL, decided_at = NULL, diff_count = 0, late = 0;
      DELETE FROM differences; DELETE FROM judged; DELETE FROM verdict_log; COMMIT;`);
    db.close();
  }
}

interface Phases {
  outcome: RunOutcome;
  ingestMs: number;
  judgeMs: number;
}

async function timedRun(options: Parameters<typeof runRegression>[0]): Promise<Phases> {
  const marks: Partial<Record<Progress['phase'], number>> = {};
  const outcome = await runRegression({
    ...options,
    progressIntervalMs: 1000,
    onProgress: (p) => {
      marks[p.phase] ??= Date.now();
    },
  });
  const end = marks.done ?? Date.now();
  const reading = marks.reading ?? end;
  const judging = marks.judging ?? end;
  return { outcome, ingestMs: judging - reading, judgeMs: end - judging };
}

/** The pure core: parse + normalise + diff of one pair, in this thread. */
function coreRate(pairs: number): number {
  const side = (quantity: number): SideOutput => ({
    events: [
      {
        id: randomUUID(),
        type: 'TradeBooked',
        stream: 'booking-T1',
        revision: 3,
        position: 17,
        recordedAt: new Date().toISOString(),
        data: tradeBooked('T1', quantity) as OutputEvent['data'],
        metadata: { correlationId: 'T1' },
      },
    ],
    docs: {},
  });
  // As stored: each side's event as JSON text, parsed per comparison as the engine does.
  const prod = JSON.stringify(side(1000).events[0]);
  const uat = JSON.stringify(side(1000).events[0]);
  const started = process.hrtime.bigint();
  for (let i = 0; i < pairs; i++) {
    bookingsReconciler.judge({ events: [JSON.parse(prod) as OutputEvent], docs: {} }, { events: [JSON.parse(uat) as OutputEvent], docs: {} }, { inPlace: true });
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return pairs / seconds;
}

export async function benchRegression(options: BenchOptions = {}): Promise<Record<string, string | number>> {
  const n = options.correlationIds ?? Number(process.env.KEPLER_BENCH_REGRESSION_IDS ?? 1_000_000);
  const workerCounts = options.workers ?? [1, 2];
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'kepler-bench-regression-'));
  const results: Record<string, string | number> = { 'regression.correlationIds': n, 'regression.cores': availableParallelism() };
  try {
    log(`regression bench: ${n.toLocaleString('en')} correlation IDs in ${dir}`);
    const t0 = Date.now();
    await Promise.all([generate(join(dir, 'prod', 'events.db'), n, 'prod', log), generate(join(dir, 'uat', 'events.db'), n, 'uat', log)]);
    results['regression.generateSeconds'] = Number(((Date.now() - t0) / 1000).toFixed(1));
    for (const side of ['prod', 'uat']) writeFileSync(join(dir, `${side}.json`), JSON.stringify({ dataDir: side }));

    const reconcilers = await loadReconcilers({ only: ['bookings'] });
    const runDir = join(dir, 'run');
    const base = { runDir, prod: { label: 'PROD', configFile: join(dir, 'prod.json') }, uat: { label: 'UAT', configFile: join(dir, 'uat.json') }, reconcilers, shards: 4, batchSize: 5000 };

    const first = await timedRun({ ...base, workers: Math.max(...workerCounts) });
    if (first.outcome.inThreadReason) log(`  note: ${first.outcome.inThreadReason}`);
    const events = first.outcome.prod.events + first.outcome.uat.events;
    results['regression.ingest.events'] = events;
    results['regression.ingest.eventsPerSecond'] = Math.round(events / (first.ingestMs / 1000));
    log(`  ingest: ${events.toLocaleString('en')} events in ${(first.ingestMs / 1000).toFixed(1)} s (${results['regression.ingest.eventsPerSecond']} events/s)`);
    log(`  verdicts: ${JSON.stringify(first.outcome.byVerdict)}`);

    for (const workers of workerCounts) {
      resetVerdicts(runDir);
      const run = await timedRun({ ...base, workers });
      const rate = Math.round(run.outcome.judged / (run.judgeMs / 1000));
      results[`regression.judge.workers${workers}.comparisonsPerSecond`] = rate;
      log(`  judge with ${workers} worker(s): ${run.outcome.judged.toLocaleString('en')} comparisons in ${(run.judgeMs / 1000).toFixed(1)} s = ${rate.toLocaleString('en')}/s`);
    }
    const core = Math.round(coreRate(200_000));
    results['regression.core.comparisonsPerSecond'] = core;
    log(`  pure core (parse + normalise + diff, one thread, no SQLite): ${core.toLocaleString('en')}/s`);
    return results;
  } finally {
    if (!options.dir) rmSync(dir, { recursive: true, force: true });
  }
}

// `node dist/regression/bench.js [ids]` runs it on its own.
if (import.meta.url === `file://${process.argv[1]}`) {
  const ids = process.argv[2] ? Number(process.argv[2]) : undefined;
  benchRegression(ids ? { correlationIds: ids } : {}).then(
    (r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
      process.exit(1);
    },
  );
}
