// The followers of the event store: the processors and projections catching up
// with a feed while it is ingested, a rebuild of every read model, a block trade.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { INGEST_BATCH_SIZE } from '../ingestion/index.js';
import { writeBlockTradeFeed } from './feed-generator.js';
import { secondsSince, type Bench } from './kit.js';
import { rate, runMeasured, ServeProcess, threeSourceFeed } from './platform.js';
import { eventsOfSqliteStore } from './raw-append.js';

/** The size; a smaller one (KEPLER_BENCH_CAUGHTUP_TRADES) is for iterating on a change. */
const CAUGHT_UP_TRADES = Number(process.env.KEPLER_BENCH_CAUGHTUP_TRADES ?? 100_000);

/** The store the caughtUp section left, which the rebuild section rebuilds from. */
let lastStore: string | null = null;

/**
 * From the first line of a 100,000-trade feed to every follower caught up, with
 * `serve` running while `kepler ingest` runs; judged against the time a raw
 * append of every event the run produced takes.
 */
export async function caughtUpSection(bench: Bench): Promise<void> {
  const dir = bench.scratch('caughtup');
  const files = await threeSourceFeed(dir, CAUGHT_UP_TRADES);
  const dataDir = join(dir, 'data');
  const serve = await ServeProcess.start(dataDir);
  let seconds: number;
  let ingested: number;
  try {
    const started = process.hrtime.bigint();
    const run = await runMeasured(['ingest', '--data-dir', dataDir, '--json', ...files.paths]);
    if (run.code !== 0) throw new Error(run.stderr);
    ingested = secondsSince(started);
    await serve.caughtUp(files.lines);
    seconds = secondsSince(started);
    bench.figure('caughtUp: serve peak RSS MB', Math.round(serve.rss.peakMb));
    bench.figure('caughtUp: serve peak anonymous / file-backed MB', `${Math.round(serve.rss.peakAnonMb)} / ${Math.round(serve.rss.peakFileMb)}`);
    const cpu = serve.threadCpu();
    bench.figure('caughtUp: serve CPU seconds by thread', Object.entries(cpu).map(([name, s]) => `${name} ${s.toFixed(1)}`).join(', '));
  } finally {
    await serve.stop();
  }
  const raw = await bench.baselines.rawAppend(eventsOfSqliteStore(join(dataDir, 'events.db'), INGEST_BATCH_SIZE));
  bench.times(`caughtUp: ${files.trades.toLocaleString('en')} trades, first line to caughtUp`, seconds, {
    seconds: raw.seconds,
    of: 'raw batched append of its events',
    detail: `${raw.events.toLocaleString('en')} events, ${raw.meanEventBytes.toFixed(0)} bytes each; ingest took ${ingested.toFixed(1)} s`,
  });
  lastStore = dataDir;
}

/** Rebuilding every read model from position 0 of the store the caughtUp section left. */
export async function rebuildSection(bench: Bench): Promise<void> {
  if (!lastStore) await caughtUpSection(bench);
  const run = await runMeasured(['rebuild', '--data-dir', lastStore!]);
  if (run.code !== 0) throw new Error(run.stderr);
  const head = Number(/up to position (\d+)/.exec(run.stdout)?.[1] ?? 0);
  bench.figure(`rebuild trades+positions+exceptions over ${head.toLocaleString('en')} events`, `${run.seconds.toFixed(1)} s`);
  bench.figure('rebuild: events/s per read model', rate(head * 3, run.seconds));
}

/**
 * One block trade allocated to many accounts: from the first line to `caughtUp`, and the booking
 * checked. Per-allocation work that grows with the allocations already held shows here as a time
 * that grows faster than the allocation count.
 */
export async function blockTradeSection(bench: Bench): Promise<void> {
  const sizes = (process.env.KEPLER_BENCH_BLOCK_ALLOCATIONS ?? '1000,5000,20000').split(',').map(Number);
  for (const allocations of sizes) {
    const dir = bench.scratch(`block-${allocations}`);
    const paths = writeBlockTradeFeed(dir, 'BLOCK-1', allocations);
    const serve = await ServeProcess.start(join(dir, 'data'));
    try {
      const started = process.hrtime.bigint();
      const run = await runMeasured(['ingest', '--data-dir', join(dir, 'data'), ...paths]);
      if (run.code !== 0) throw new Error(run.stderr);
      await serve.caughtUp(allocations + 2);
      const seconds = secondsSince(started);
      const trade = (await (await fetch(`${serve.url}/trades/BLOCK-1`)).json()) as { status: string; allocations: unknown[] };
      if (trade.status !== 'BOOKED' || trade.allocations.length !== allocations) {
        throw new Error(`block trade not booked as expected: ${trade.status}, ${trade.allocations.length} allocations`);
      }
      bench.figure(`block trade, ${allocations.toLocaleString('en')} allocations: first line to caughtUp`, `${seconds.toFixed(1)} s`);
    } finally {
      await serve.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
