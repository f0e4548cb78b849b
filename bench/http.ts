// Commands and queries over real HTTP against a running `serve`, each depth
// judged against the empty fastify route at the same depth.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Bench } from './kit.js';
import { CONNECTIONS, load, SECONDS, WARM_UP_SECONDS } from './load.js';
import { captureTradeRequest, runMeasured, ServeProcess, threeSourceFeed } from './platform.js';


/** Trades the query section reads, ingested from a three-source feed so each has allocations and a confirmation. */
const QUERIED_TRADES = 10_000;

/** capture-trade (`POST /trades`): closed-loop load at each depth. */
export async function commandsSection(bench: Bench): Promise<void> {
  const serve = await ServeProcess.start(join(bench.scratch('commands'), 'data'));
  try {
    await measureCommands(bench, serve, serve, '');
  } finally {
    await serve.stop();
  }
}

/** `GET /trades/{ref}` over trades that went through the whole platform. */
export async function queriesSection(bench: Bench): Promise<void> {
  const dir = bench.scratch('queries');
  const serve = await ServeProcess.start(join(dir, 'data'));
  try {
    const refs = await seedTrades(dir, serve);
    await measureQueries(bench, serve, serve, refs, '');
  } finally {
    await serve.stop();
  }
}

/** Both again, with the APIs in one process and the followers of the event store in another (one data directory). */
export async function httpSplitSection(bench: Bench): Promise<void> {
  const dir = bench.scratch('http-split');
  const followers = await ServeProcess.start(join(dir, 'data'), ['--roles', 'processors,projections']);
  const api = await ServeProcess.start(join(dir, 'data'), ['--roles', 'command-api,query-api']);
  try {
    const label = ' [APIs and followers in two processes]';
    await measureCommands(bench, api, api, label);
    await measureQueries(bench, api, api, await seedTrades(dir, api), label);
  } finally {
    await api.stop();
    await followers.stop();
  }
}

async function measureCommands(bench: Bench, serve: ServeProcess, status: ServeProcess, label: string): Promise<void> {
  const request = captureTradeRequest('B');
  const capture = (connections: number, seconds: number) => load({ url: serve.url, connections, seconds, requests: [request] });
  await capture(Math.max(...CONNECTIONS), WARM_UP_SECONDS);
  for (const connections of CONNECTIONS) {
    // Each depth starts with the followers idle, so it pays only for its own commands.
    await status.caughtUp(1);
    const empty = await bench.baselines.emptyRoute(connections);
    await status.caughtUp(1);
    const commands = await capture(connections, SECONDS);
    bench.ratio(`POST /trades, ${connections} connections${label}`, { ...commands, unit: 'commands' }, { ...empty, of: 'empty route' });
  }
}

async function measureQueries(bench: Bench, serve: ServeProcess, status: ServeProcess, refs: string[], label: string): Promise<void> {
  let i = 0;
  const query = (connections: number, seconds: number) =>
    load({ url: serve.url, connections, seconds, requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: `/trades/${refs[i++ % refs.length]}` }) }] });
  await status.caughtUp(1);
  await query(Math.max(...CONNECTIONS), WARM_UP_SECONDS);
  for (const connections of CONNECTIONS) {
    const empty = await bench.baselines.emptyRoute(connections);
    const queries = await query(connections, SECONDS);
    bench.ratio(`GET /trades/{ref}, ${connections} connections${label}`, { ...queries, unit: 'queries' }, { ...empty, of: 'empty route' });
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
