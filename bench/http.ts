// Commands and queries over real HTTP against a running `serve`, each depth
// judged against the empty fastify route at the same depth. The empty route of a
// small shared VM moves by two to one between runs minutes apart, so at each depth
// the two are loaded in alternating bursts (empty, route, route, empty, …) and
// the ratio is the median of the per-round ratios, with its lowest and highest.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { EmptyRoute } from './baselines.js';
import type { Bench } from './kit.js';
import { BURST_SECONDS, CONNECTIONS, load, ROUNDS, WARM_UP_SECONDS, type LoadResult } from './load.js';
import { captureTradeRequest, runMeasured, ServeProcess, threeSourceFeed } from './platform.js';
import { alternate } from './rounds.js';


/** Trades the query section reads, ingested from a three-source feed so each has allocations and a confirmation. */
const QUERIED_TRADES = 10_000;

/** capture-trade (`POST /trades`): closed-loop load at each depth. */
export async function commandsSection(bench: Bench): Promise<void> {
  const serve = await ServeProcess.start(join(bench.scratch('commands'), 'data'));
  const empty = await startEmptyRoute(bench, serve);
  try {
    await measureCommands(bench, empty, serve, serve, '');
  } finally {
    await empty.stop();
    await serve.stop();
  }
}

/** `GET /trades/{ref}` over trades that went through the whole platform. */
export async function queriesSection(bench: Bench): Promise<void> {
  const dir = bench.scratch('queries');
  const serve = await ServeProcess.start(join(dir, 'data'));
  const empty = await startEmptyRoute(bench, serve);
  try {
    const refs = await seedTrades(dir, serve);
    await measureQueries(bench, empty, serve, serve, refs, '');
  } finally {
    await empty.stop();
    await serve.stop();
  }
}

/** Both again, with the APIs in one process and the followers of the event store in another (one data directory). */
export async function httpSplitSection(bench: Bench): Promise<void> {
  const dir = bench.scratch('http-split');
  const followers = await ServeProcess.start(join(dir, 'data'), ['--roles', 'processors,projections']);
  const api = await ServeProcess.start(join(dir, 'data'), ['--roles', 'command-api,query-api']);
  const empty = await startEmptyRoute(bench, api, followers);
  try {
    const label = ' [APIs and followers in two processes]';
    await measureCommands(bench, empty, api, api, label);
    await measureQueries(bench, empty, api, api, await seedTrades(dir, api), label);
  } finally {
    await empty.stop();
    await api.stop();
    await followers.stop();
  }
}

/** The empty route for a section's bursts, or the section's processes stopped if it does not start. */
async function startEmptyRoute(bench: Bench, ...started: ServeProcess[]): Promise<EmptyRoute> {
  try {
    return await bench.baselines.startEmptyRoute();
  } catch (error) {
    for (const serve of started) await serve.stop();
    throw error;
  }
}

/**
 * ROUNDS rounds at one depth, each a burst of the empty route and one of the route, the side that
 * goes first alternating (bench/rounds.ts); `before` runs ahead of every burst of either.
 */
async function inRounds(
  bench: Bench,
  name: string,
  unit: string,
  connections: number,
  sides: { empty: EmptyRoute; route: (connections: number, seconds: number) => Promise<LoadResult>; before?: () => Promise<void> },
): Promise<void> {
  const { empty, route, before = async () => {} } = sides;
  const rounds = await alternate(ROUNDS, {
    baseline: async () => {
      await before();
      return empty.burst(connections, BURST_SECONDS);
    },
    measured: async () => {
      await before();
      return route(connections, BURST_SECONDS);
    },
  });
  // Each burst's own detail names its depth; what failed is summed over the rounds instead.
  const detail = (bursts: LoadResult[]) => {
    const non2xx = bursts.reduce((sum, b) => sum + b.non2xx, 0);
    const errors = bursts.reduce((sum, b) => sum + b.errors, 0);
    return `${connections} connections, ${BURST_SECONDS} s bursts${non2xx + errors > 0 ? `; ${non2xx} non-2xx, ${errors} errors in all` : ''}`;
  };
  const measuredDetail = detail(rounds.map((r) => r.measured));
  const baselineDetail = detail(rounds.map((r) => r.baseline));
  bench.ratioOfRounds(
    name,
    rounds.map((r) => ({ measured: { ...r.measured, unit, detail: measuredDetail }, baseline: { ...r.baseline, detail: baselineDetail } })),
    'empty route',
  );
}

async function measureCommands(bench: Bench, empty: EmptyRoute, serve: ServeProcess, status: ServeProcess, label: string): Promise<void> {
  const request = captureTradeRequest('B');
  const capture = (connections: number, seconds: number) => load({ url: serve.url, connections, seconds, requests: [request] });
  if (WARM_UP_SECONDS > 0) await capture(Math.max(...CONNECTIONS), WARM_UP_SECONDS);
  for (const connections of CONNECTIONS) {
    // Each burst of either starts with the followers idle: a command burst pays only for its own
    // commands, and the empty route does not share the CPU with the last burst's catch-up.
    await inRounds(bench, `POST /trades, ${connections} connections${label}`, 'commands', connections, { empty, route: capture, before: () => status.caughtUp(1) });
  }
}

async function measureQueries(bench: Bench, empty: EmptyRoute, serve: ServeProcess, status: ServeProcess, refs: string[], label: string): Promise<void> {
  // Every trade's request built before the burst, as the empty route's one request is: a request
  // rebuilt for each send (autocannon's setupRequest) cost autocannon about 10 µs of CPU more per
  // request than the empty route's prebuilt one, on the two cores `serve` shares with it. Each
  // connection reads the trades in order; autocannon builds them as it starts, before it counts.
  const requests = refs.map((ref) => ({ method: 'GET' as const, path: `/trades/${ref}` }));
  const query = (connections: number, seconds: number) => load({ url: serve.url, connections, seconds, requests: requests.map((request) => ({ ...request })) });
  await status.caughtUp(1);
  if (WARM_UP_SECONDS > 0) await query(Math.max(...CONNECTIONS), WARM_UP_SECONDS);
  for (const connections of CONNECTIONS) {
    await inRounds(bench, `GET /trades/{ref}, ${connections} connections${label}`, 'queries', connections, { empty, route: query });
  }
}

/** Ingests a feed of QUERIED_TRADES trades and waits until the read models hold it; its references. */
async function seedTrades(dir: string, status: ServeProcess): Promise<string[]> {
  const feedDir = join(dir, 'feed');
  mkdirSync(feedDir, { recursive: true });
  const feed = await threeSourceFeed(feedDir, QUERIED_TRADES);
  const run = await runMeasured(['ingest', '--data-dir', join(dir, 'data'), ...feed.paths]);
  if (run.code !== 0) throw new Error(run.stderr);
  await status.caughtUp(feed.lines);
  const sample = await fetch(`${status.url}/trades/L00000001`);
  if (sample.status !== 200) throw new Error(`the seeded trade L00000001 answers ${sample.status}`);
  return Array.from({ length: feed.trades }, (_, i) => `L${String(i + 1).padStart(8, '0')}`);
}
