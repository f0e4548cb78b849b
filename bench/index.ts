// `npm run bench [-- SECTION...]`: prints figures; never a pass/fail test. Record them in BENCHMARKS.md.
import { cpus, totalmem, tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { writeBlockTradeFeed, writeLargeFeed } from './feed-generator.js';
import { deleteBenchTopology, rate, regressionSection, runMeasured, ServeProcess, startFerretDb } from './platform.js';
import { cutoverSection } from './cutover.js';
import { observabilityCost } from './observability.js';
import { postgresSection } from './postgres.js';

type Section = () => Promise<void>;

const work = mkdtempSync(join(tmpdir(), 'kepler-bench-'));
const figures: Record<string, string | number> = {};

function report(name: string, value: string | number): void {
  figures[name] = value;
  process.stdout.write(`  ${name.padEnd(52)} ${value}\n`);
}

/** Ingest throughput, and peak memory as the feed grows (it should stay flat). */
async function ingest(): Promise<void> {
  for (const lines of [250_000, 1_000_000, 4_000_000]) {
    const dir = mkdtempSync(join(work, 'ingest-'));
    const file = join(dir, `CORE_${lines}.cx1`);
    await writeLargeFeed(file, { lines, seed: 1, source: 'CORE' });
    const run = await runMeasured(['ingest', '--data-dir', join(dir, 'data'), '--json', file]);
    if (run.code !== 0) throw new Error(run.stderr);
    report(`ingest ${lines.toLocaleString('en')} lines: lines/s (whole CLI run)`, rate(lines, run.seconds));
    report(`ingest ${lines.toLocaleString('en')} lines: seconds`, run.seconds.toFixed(2));
    report(`ingest ${lines.toLocaleString('en')} lines: peak RSS MB`, run.peakRssMb.toFixed(0));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** From the first line of a 100,000-trade feed to every follower caught up, with serve running. */
async function caughtUp(): Promise<void> {
  const dir = mkdtempSync(join(work, 'caughtup-'));
  const files = await threeSourceFeed(dir, 100_000);
  const serve = await ServeProcess.start(join(dir, 'data'));
  try {
    const started = process.hrtime.bigint();
    const run = await runMeasured(['ingest', '--data-dir', join(dir, 'data'), '--json', ...files.paths]);
    if (run.code !== 0) throw new Error(run.stderr);
    const ingested = Number(process.hrtime.bigint() - started) / 1e9;
    await serve.caughtUp(files.lines);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const { head } = await serve.status();
    report(`caughtUp: ${files.trades.toLocaleString('en')} trades, ${files.lines.toLocaleString('en')} lines`, `${seconds.toFixed(1)} s`);
    report('caughtUp: of which ingest', `${ingested.toFixed(1)} s`);
    report('caughtUp: events in the store', head.toLocaleString('en'));
    report('caughtUp: serve peak RSS MB', serve.rss.peakMb.toFixed(0));
  } finally {
    await serve.stop();
  }
  // The store is kept for the rebuild section.
  lastStore = join(dir, 'data');
}

let lastStore: string | null = null;

async function threeSourceFeed(dir: string, trades: number) {
  // Trade i has the same reference, quantity and price in all three files, so every complete trade books.
  const core = await writeLargeFeed(join(dir, 'CORE_0001.cx1'), { lines: Math.round(trades * 1.2), seed: 7, source: 'CORE' });
  const alloc = await writeLargeFeed(join(dir, 'ALLOC_0001.cx1'), { lines: trades * 2, seed: 7, source: 'ALLOC' });
  const custody = await writeLargeFeed(join(dir, 'CUSTODY_0001.cx1'), { lines: trades, seed: 7, source: 'CUSTODY' });
  return {
    paths: [core.path, alloc.path, custody.path],
    lines: core.lines + alloc.lines + custody.lines,
    trades: Math.min(core.trades, alloc.trades, custody.trades),
  };
}

/** Rebuilding every read model from position 0 of the store the caughtUp section left. */
async function rebuild(): Promise<void> {
  if (!lastStore) await caughtUp();
  const run = await runMeasured(['rebuild', '--data-dir', lastStore!]);
  if (run.code !== 0) throw new Error(run.stderr);
  const head = Number(/up to position (\d+)/.exec(run.stdout)?.[1] ?? 0);
  report(`rebuild trades+positions+exceptions over ${head.toLocaleString('en')} events`, `${run.seconds.toFixed(1)} s`);
  report('rebuild: events/s per read model', rate(head * 3, run.seconds));
}

const TERMS = { account: 'ACC-1', isin: 'US0378331005', side: 'BUY', quantity: 100, price: '10.5', currency: 'USD', tradeDate: '2026-11-27', settleDate: '2026-11-30', counterparty: 'CPTY' };

/** capture-trade under load, then GET /trades/{ref}, with autocannon on loopback: one `serve` does everything. */
async function http(): Promise<void> {
  const dir = mkdtempSync(join(work, 'http-'));
  const serve = await ServeProcess.start(join(dir, 'data'));
  try {
    await loadHttp(serve, serve, '');
  } finally {
    await serve.stop();
  }
}

/** The same, with the APIs in one process and the followers of the event store in another (same data directory). */
async function httpSplit(): Promise<void> {
  const dir = mkdtempSync(join(work, 'http-split-'));
  const followers = await ServeProcess.start(join(dir, 'data'), ['--roles', 'processors,projections']);
  const api = await ServeProcess.start(join(dir, 'data'), ['--roles', 'command-api,query-api']);
  try {
    await loadHttp(api, api, ' [APIs and followers in two processes]');
  } finally {
    await api.stop();
    await followers.stop();
  }
}

const COMMAND_CONNECTIONS = [8, 16, 32];

async function loadHttp(serve: ServeProcess, status: ServeProcess, label: string): Promise<void> {
  let next = 0;
  const captureTrades = (connections: number, duration: number) =>
    autocannon({
      url: serve.url,
      connections,
      duration,
      requests: [
        {
          method: 'POST',
          path: '/trades',
          headers: { 'content-type': 'application/json' },
          setupRequest: (request) => ({ ...request, body: JSON.stringify({ ...TERMS, tradeRef: `B${(next++).toString(36)}` }) }),
        },
      ],
    });
  // Not reported: the first seconds measure the JIT compiler, not the platform.
  await captureTrades(32, 3);
  // Closed-loop load at three depths: the throughput each buys, and the latency it costs. (autocannon's
  // `overallRate` is no substitute for an even rate: it sends each second's quota in a burst, then waits.)
  for (const connections of COMMAND_CONNECTIONS) {
    const commands = await captureTrades(connections, 10);
    report(`capture-trade, ${connections} connections: commands/s${label}`, Math.round(commands.requests.average).toLocaleString('en'));
    report(`capture-trade, ${connections} connections: latency p50 / p99 ms${label}`, `${commands.latency.p50} / ${commands.latency.p99}`);
    report(`capture-trade, ${connections} connections: non-2xx${label}`, commands.non2xx);
  }

  await status.caughtUp(1);
  const refs = Math.max(1, Math.min(next, 10_000));
  let i = 0;
  const queries = await autocannon({
    url: serve.url,
    connections: 32,
    duration: 10,
    requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: `/trades/B${(i++ % refs).toString(36)}` }) }],
  });
  report(`GET /trades/{ref}: queries/s${label}`, Math.round(queries.requests.average).toLocaleString('en'));
  report(`GET /trades/{ref}: latency p50 / p99 ms${label}`, `${queries.latency.p50} / ${queries.latency.p99}`);
  report(`GET /trades/{ref}: non-2xx${label}`, queries.non2xx);
}

/** Projection throughput into MongoDB: a rebuild of every read model into FerretDB (MongoDB wire protocol). */
async function mongo(): Promise<void> {
  const dir = mkdtempSync(join(work, 'mongo-'));
  // Small: FerretDB v1 on SQLite scans a whole collection for each update of an existing document.
  const files = await threeSourceFeed(dir, 2_000);
  const seed = await runMeasured(['ingest', '--data-dir', join(dir, 'data'), ...files.paths]);
  if (seed.code !== 0) throw new Error(seed.stderr);
  const ferret = await startFerretDb(dir);
  try {
    const env = { KEPLER_MONGODB_URL: ferret.uri, KEPLER_MONGODB_DATABASE: 'bench' };
    // Processors run on SQLite first, so the rebuild measures projections alone.
    const serve = await ServeProcess.start(join(dir, 'data'), ['--roles', 'processors'], { KEPLER_PROJECTIONS_THREAD: '0' });
    await serve.caughtUpProcessors();
    await serve.stop();
    const run = await runMeasured(['rebuild', '--data-dir', join(dir, 'data')], env);
    if (run.code !== 0) throw new Error(run.stderr);
    const head = Number(/up to position (\d+)/.exec(run.stdout)?.[1] ?? 0);
    report(`mongo (FerretDB): rebuild 3 read models over ${head.toLocaleString('en')} events`, `${run.seconds.toFixed(1)} s`);
    report('mongo (FerretDB): events/s per read model', rate(head * 3, run.seconds));
  } finally {
    ferret.stop();
  }
}

/** The CX1 feed over RabbitMQ: lines published, consumed and durably appended. */
async function amqp(): Promise<void> {
  const url = process.env.KEPLER_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
  const prefix = `kepler-bench-${process.pid}`;
  const dir = mkdtempSync(join(work, 'amqp-'));
  const lines = 100_000;
  const file = await writeLargeFeed(join(dir, 'CORE_AMQP.cx1'), { lines, seed: 3, source: 'CORE' });
  const env = { KEPLER_AMQP_URL: url, KEPLER_AMQP_PREFIX: prefix };
  const serve = await ServeProcess.start(join(dir, 'data'), ['--roles', 'ingestion'], env);
  try {
    const live = await runMeasured(['slot', '--data-dir', join(dir, 'data'), 'live', 'blue'], env);
    if (live.code !== 0) throw new Error(live.stderr);
    const started = process.hrtime.bigint();
    const published = await runMeasured(['publish', file.path], env);
    if (published.code !== 0) throw new Error(published.stderr);
    const publishSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    while ((await serve.status()).head < file.lines) await new Promise((r) => setTimeout(r, 50));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    report(`amqp: ${lines.toLocaleString('en')} lines published (confirms)`, `${rate(lines, publishSeconds)} lines/s`);
    report(`amqp: ${lines.toLocaleString('en')} lines published and durably appended`, `${rate(lines, seconds)} lines/s`);
  } finally {
    await serve.stop();
    await deleteBenchTopology(url, prefix);
  }
}

/**
 * One block trade allocated to many accounts: from the first line to `caughtUp`, and the booking
 * checked. Per-allocation work that grows with the allocations already held shows here as a time
 * that grows faster than the allocation count.
 */
async function blockTrade(): Promise<void> {
  const sizes = (process.env.KEPLER_BENCH_BLOCK_ALLOCATIONS ?? '1000,5000,20000').split(',').map(Number);
  for (const allocations of sizes) {
    const dir = mkdtempSync(join(work, 'block-'));
    const paths = writeBlockTradeFeed(dir, 'BLOCK-1', allocations);
    const serve = await ServeProcess.start(join(dir, 'data'));
    try {
      const started = process.hrtime.bigint();
      const run = await runMeasured(['ingest', '--data-dir', join(dir, 'data'), ...paths]);
      if (run.code !== 0) throw new Error(run.stderr);
      await serve.caughtUp(allocations + 2);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const trade = (await (await fetch(`${serve.url}/trades/BLOCK-1`)).json()) as { status: string; allocations: unknown[] };
      if (trade.status !== 'BOOKED' || trade.allocations.length !== allocations) {
        throw new Error(`block trade not booked as expected: ${trade.status}, ${trade.allocations.length} allocations`);
      }
      report(`block trade, ${allocations.toLocaleString('en')} allocations: first line to caughtUp`, `${seconds.toFixed(1)} s`);
    } finally {
      await serve.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

const SECTIONS: Record<string, Section> = {
  ingest,
  caughtup: caughtUp,
  rebuild,
  http,
  'http-split': httpSplit,
  mongo,
  amqp,
  regression: regressionSection,
  block: blockTrade,
  cutover: () => cutoverSection(report),
  postgres: () => postgresSection(report),
  observe: () => observabilityCost(work, report),
};

const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(SECTIONS);
process.stdout.write(`Kepler benchmarks on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}\n`);
try {
  for (const name of chosen) {
    const section = SECTIONS[name];
    if (!section) throw new Error(`no benchmark section "${name}" (there are: ${Object.keys(SECTIONS).join(', ')})`);
    process.stdout.write(`${name}\n`);
    await section();
  }
  process.stdout.write(`${JSON.stringify(figures)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
