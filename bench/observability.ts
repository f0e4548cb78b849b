// What seeing it run costs: ingest (first line to caught up, serve running) and
// capture-trade throughput with metrics and log shipping off (OTEL_SDK_DISABLED=true,
// no HEC) and on (metrics scraped every second, every log line shipped to a
// local HEC sink), in one run, so the machine is the same for both.
//
// Ingest: rounds, each mode in turn in each round (in ABBA order), a serve of its own per round;
// the cost is the median of the per-round ratios, with its spread.
// Commands: the throughput of one server drifts with the machine by more than the
// 5 % the issue allows within a minute (2,266 → 4,236/s for the same code in one
// run), so a round each per mode minutes apart cannot tell 5 %. Instead one warm
// serve per mode runs the whole time, each on its own store (the last ingest
// round's), and short bursts of load alternate between them in ABBA order
// (off on, on off, …): each pair of neighbouring bursts sees the same machine, and
// drift that is linear over a pair cancels across the two orders. The cost is the
// median of the per-pair on/off ratios, with its spread. After each burst the
// loaded serve is let catch up (its followers work on after the last answer), so
// that its CPU per command includes that work and the other serve is idle during
// the next burst; the idle serve's CPU during the other's bursts is reported, to
// show that it was. /metrics is scraped only during the loaded serve's burst.
//
// Each mode also reports the CPU it cost (from /proc): serve's threads and the
// `kepler ingest` process (through /usr/bin/time) for ingest, serve's µs per command
// (burst and catch-up) for commands. CPU time moves far less with the load than
// throughput does.
//
// KEPLER_BENCH_OBSERVE_MODES separates the parts of "on" (default `off,on`):
//   off      OTEL_SDK_DISABLED=true, no HEC
//   metrics  the SDK records, nobody scrapes, no HEC           → (a) recording
//   scraped  the SDK records, /metrics scraped, no HEC          → (b) scrape and platform-state counts
//   hec      OTEL_SDK_DISABLED=true, every log line to HEC      → (c) log shipping
//   on       metrics scraped and logs to HEC: the issue's condition
// With more than two modes each cycle runs them all, in the reverse order of the cycle before.
// KEPLER_BENCH_OBSERVE_SCRAPE_MS: the scrape interval (default 1000 ms, fifteen times
// Prometheus's usual 15 s: the harsh case, kept as the default).
// KEPLER_BENCH_OBSERVE_TRADES (default 25,000 lines per file, two files), KEPLER_BENCH_OBSERVE_ROUNDS
// (ingest rounds, default 2; 0 skips ingest, and the command stores start empty),
// KEPLER_BENCH_OBSERVE_PAIRS (command cycles, default 24), KEPLER_BENCH_OBSERVE_BURST_S (seconds of
// load per burst, default 3; 16 connections).
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { wholeNumberSetting } from '../eventstore/index.js';
import { writeLargeFeed } from './feed-generator.js';
import { CLI, captureTradeRequest, runMeasured, ServeProcess } from './platform.js';
import { median, quantile } from './rounds.js';

type Report = (name: string, value: string | number) => void;

const MODES = ['off', 'metrics', 'scraped', 'hec', 'on'] as const;
export type Mode = (typeof MODES)[number];

interface IngestSample {
  ingest: number;
  /** CPU seconds of serve's threads from the first line to caught up: main, other node threads (projections), the rest (GC, libuv). */
  serveCpu: { main: number; threads: number; rest: number };
  /** CPU seconds of the `kepler ingest` process, when /usr/bin/time is there. */
  ingestCpu: number | null;
}

/** One burst of capture-trade load against one mode's serve. */
interface Burst {
  /** Commands answered per second during the burst. */
  rate: number;
  /** serve's CPU per command, µs, over the burst and its catch-up. */
  cpuUs: number;
  /** Answers other than 2xx, and connection errors: a mode that fails fast is not a fast mode. */
  failed: number;
  /** The most CPU any other (idle) serve used meanwhile, ms per second of the burst and catch-up. */
  idleMsPerS: number;
}

/** The bench's whole-number knobs: a typo is refused by name, never read as NaN (a scrape every millisecond). */
export function benchSetting(name: string, fallback: number): number {
  return wholeNumberSetting(process.env[name], name) ?? fallback;
}

/** A HEC that takes everything: what shipping costs the platform, not what a real Splunk costs to run. */
export async function startHecSink(): Promise<{ env: NodeJS.ProcessEnv; shipped: () => number; posts: () => number; close: () => void }> {
  let shipped = 0;
  let posts = 0;
  const sink = createServer((request, response) => {
    posts++;
    request.on('data', (chunk: Buffer) => (shipped += chunk.length));
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{"text":"Success","code":0}'));
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  return {
    env: { KEPLER_SPLUNK_HEC_URL: `http://127.0.0.1:${(sink.address() as AddressInfo).port}`, KEPLER_SPLUNK_HEC_TOKEN: 'bench' },
    shipped: () => shipped,
    posts: () => posts,
    close: () => sink.close(),
  };
}

/** What each mode sets in the platform's environment, and whether /metrics is scraped. */
export function observeModes(hec: NodeJS.ProcessEnv): Record<Mode, { env: NodeJS.ProcessEnv; scrape: boolean }> {
  return {
    off: { env: { OTEL_SDK_DISABLED: 'true' }, scrape: false },
    metrics: { env: {}, scrape: false },
    scraped: { env: {}, scrape: true },
    hec: { env: { OTEL_SDK_DISABLED: 'true', ...hec }, scrape: false },
    on: { env: hec, scrape: true },
  };
}

export function isObserveMode(mode: string): mode is Mode {
  return (MODES as readonly string[]).includes(mode);
}

export async function observabilityCost(work: string, report: Report): Promise<void> {
  const trades = benchSetting('KEPLER_BENCH_OBSERVE_TRADES', 25_000);
  const rounds = benchSetting('KEPLER_BENCH_OBSERVE_ROUNDS', 2);
  const scrapeMs = Math.max(1, benchSetting('KEPLER_BENCH_OBSERVE_SCRAPE_MS', 1000));
  const cycles = Math.max(2, benchSetting('KEPLER_BENCH_OBSERVE_PAIRS', 24));
  const burstSeconds = Math.max(1, benchSetting('KEPLER_BENCH_OBSERVE_BURST_S', 3));
  const asked = (process.env.KEPLER_BENCH_OBSERVE_MODES ?? 'off,on').split(',').map((m) => m.trim());
  const unknown = asked.filter((m) => !isObserveMode(m));
  if (unknown.length > 0) throw new Error(`KEPLER_BENCH_OBSERVE_MODES: unknown ${unknown.join(', ')}; modes: ${MODES.join(', ')}`);
  const chosen = asked.filter(isObserveMode);
  const sink = await startHecSink();
  const modes = observeModes(sink.env);
  const ingests = Object.fromEntries(chosen.map((mode) => [mode, [] as IngestSample[]])) as Record<Mode, IngestSample[]>;
  /** Each mode's store for the command bursts: the last ingest round's, so both hold the same trades. */
  const stores = {} as Record<Mode, string>;
  const scrapes = { count: 0 };
  let commands: Record<Mode, Burst[]>;
  let restMsPerS: number[];
  const load: number[][] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      // ABBA, as the command bursts: the machine's drift over a round falls on each mode in turn.
      for (const mode of round % 2 === 0 ? chosen : [...chosen].reverse()) {
        const dir = mkdtempSync(join(work, `observe-${mode}-`));
        try {
          ingests[mode].push(await ingestRound(dir, trades, modes[mode], scrapeMs, scrapes));
        } finally {
          if (stores[mode]) rmSync(stores[mode], { recursive: true, force: true });
          stores[mode] = dir;
        }
      }
    }
    for (const mode of chosen) stores[mode] ??= mkdtempSync(join(work, `observe-${mode}-`));
    load.push(loadavg());
    ({ bursts: commands, restMsPerS } = await commandBursts(stores, chosen, modes, { cycles, seconds: burstSeconds, scrapeMs }, scrapes));
    load.push(loadavg());
  } finally {
    sink.close();
    for (const dir of Object.values(stores)) rmSync(dir, { recursive: true, force: true });
  }
  const all = (values: number[], digits = 0) => values.map((v) => v.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits })).join(' / ');
  const percent = (v: number) => `${(v * 100).toFixed(1)} %`;
  const spread = (values: number[]) => {
    const [low, high] = medianInterval(values);
    return `median's 95 % interval ${percent(low)} to ${percent(high)}; IQR ${percent(quantile(values, 0.25))} to ${percent(quantile(values, 0.75))}, min ${percent(Math.min(...values))}, max ${percent(Math.max(...values))}`;
  };
  const others = chosen.filter((m) => m !== 'off');
  const labels: Record<Mode, string> = { off: 'off', metrics: 'metrics recorded, not scraped', scraped: 'metrics scraped', hec: 'logs to HEC only', on: 'on (metrics scraped, logs to HEC)' };

  // The costs first, as every section gives its ratios first; the figures they come from after.
  if (ingests.off && rounds > 0) {
    const cpuOf = (s: IngestSample) => s.serveCpu.main + s.serveCpu.threads + s.serveCpu.rest + (s.ingestCpu ?? 0);
    const off = ingests.off;
    for (const mode of others) {
      const samples = ingests[mode];
      report(`observability cost: ingest, ${mode} (1 − ${mode}/off, best of ${rounds})`, percent(1 - best(samples.map((s) => s.ingest)) / best(off.map((s) => s.ingest))));
      // Beside the best: one lucky round of either mode moves the best by 10 % and more on this kind
      // of machine. Each round's two modes ran next to each other (in ABBA order), so the median of the
      // per-round ratios follows the machine's drift least; its spread shows how far a single round can be trusted.
      const costs = samples.map((s, i) => 1 - s.ingest / off[i]!.ingest);
      const cpus = samples.map((s, i) => cpuOf(s) / cpuOf(off[i]!) - 1);
      report(`observability cost: ingest, ${mode} (1 − ${mode}/off, median of ${rounds} rounds)`, `${percent(median(costs))} (${spread(costs)})`);
      const offCpu = median(off.map(cpuOf));
      report(`observability CPU cost: ingest, ${mode} (serve + ingest CPU s, ${mode}/off − 1, median of ${rounds} rounds)`, `${percent(median(cpus))} (${spread(cpus)}; off ${offCpu.toFixed(2)} s)`);
    }
  }
  if (commands.off) {
    const off = commands.off;
    for (const mode of others) {
      const pairs = commands[mode].map((b, i) => ({ cost: 1 - b.rate / off[i]!.rate, cpu: b.cpuUs / off[i]!.cpuUs - 1 }));
      const costs = pairs.map((p) => p.cost);
      const cpus = pairs.map((p) => p.cpu);
      report(`observability cost: commands, ${mode} (1 − ${mode}/off, median of ${cycles} ABBA pairs)`, `${percent(median(costs))} (${spread(costs)})`);
      report(`observability CPU cost: commands, ${mode} (serve µs per command, ${mode}/off − 1, median of ${cycles} pairs)`, `${percent(median(cpus))} (${spread(cpus)})`);
    }
  }

  for (const mode of chosen) {
    const samples = ingests[mode];
    if (samples.length > 0) {
      report(`${mode}: ingest lines/s, first line to caught up (each round)`, all(samples.map((s) => s.ingest)));
      report(`${mode}: serve CPU s main + threads + rest, first line to caught up (each round)`, samples.map((s) => `${s.serveCpu.main.toFixed(2)}+${s.serveCpu.threads.toFixed(2)}+${s.serveCpu.rest.toFixed(2)}`).join(' / '));
      if (samples.every((s) => s.ingestCpu !== null)) report(`${mode}: kepler ingest CPU s (each round)`, all(samples.map((s) => s.ingestCpu!), 2));
      report(`observability ${labels[mode]}: lines/s, first line to caught up (best)`, Math.round(best(samples.map((s) => s.ingest))).toLocaleString('en'));
    }
  }
  for (const mode of chosen) {
    const bursts = commands[mode];
    report(`${mode}: capture-trade/s, 16 connections, ${burstSeconds} s bursts (each)`, all(bursts.map((b) => b.rate)));
    report(`${mode}: serve CPU µs per command (each burst)`, all(bursts.map((b) => b.cpuUs)));
    report(`observability ${labels[mode]}: capture-trade/s, median; CPU µs per command, median`, `${Math.round(median(bursts.map((b) => b.rate))).toLocaleString('en')}; ${Math.round(median(bursts.map((b) => b.cpuUs))).toLocaleString('en')}`);
    const failed = bursts.reduce((sum, b) => sum + b.failed, 0);
    if (failed > 0) report(`${mode}: commands not answered 2xx (all bursts)`, failed);
  }
  const idle = chosen.flatMap((mode) => commands[mode].map((b) => b.idleMsPerS));
  report(
    "observability: idle serve CPU during the other's burst, ms per s (median / max; at rest, each mode)",
    `${median(idle).toFixed(1)} / ${Math.max(...idle).toFixed(1)}; ${restMsPerS.map((ms, i) => `${chosen[i]} ${ms.toFixed(1)}`).join(', ')}`,
  );
  report('observability: load average at the first and last burst', load.map((l) => l.map((v) => v.toFixed(2)).join(' ')).join(' → '));
  report('observability: bytes shipped to HEC, POSTs', `${sink.shipped().toLocaleString('en')} in ${sink.posts().toLocaleString('en')}`);
  report('observability: /metrics scrapes answered', scrapes.count.toLocaleString('en'));
}

/** One ingest of 2 × `trades` feed lines into a serve of its own, first line to caught up. */
async function ingestRound(dir: string, trades: number, mode: { env: NodeJS.ProcessEnv; scrape: boolean }, scrapeMs: number, scrapes: { count: number }): Promise<IngestSample> {
  const core = await writeLargeFeed(join(dir, 'CORE_0001.cx1'), { lines: trades, seed: 7, source: 'CORE' });
  const alloc = await writeLargeFeed(join(dir, 'ALLOC_0001.cx1'), { lines: trades, seed: 7, source: 'ALLOC' });
  const serve = await ServeProcess.start(join(dir, 'data'), [], mode.env);
  const scraper = mode.scrape ? scrapeEvery(serve, scrapeMs, scrapes) : null;
  try {
    const cpuBefore = serve.threadCpu();
    const started = process.hrtime.bigint();
    const run = await ingestTimed(['ingest', '--data-dir', join(dir, 'data'), core.path, alloc.path], mode.env);
    await serve.caughtUp(core.lines + alloc.lines);
    const ingest = (core.lines + alloc.lines) / (Number(process.hrtime.bigint() - started) / 1e9);
    return { ingest, serveCpu: split(difference(serve.threadCpu(), cpuBefore)), ingestCpu: run.cpu };
  } finally {
    if (scraper) clearInterval(scraper);
    await serve.stop();
    rmSync(core.path, { force: true });
    rmSync(alloc.path, { force: true });
  }
}

function scrapeEvery(serve: ServeProcess, ms: number, scrapes: { count: number }): NodeJS.Timeout {
  return setInterval(() => void fetch(`${serve.url}/metrics`).then((r) => r.text()).then(() => scrapes.count++).catch(() => {}), ms);
}

/**
 * One warm serve per mode, all up at once, each on its own store; bursts of capture-trade load
 * alternate between them, the order of the modes reversed every cycle (ABBA). Burst i of every mode
 * belongs to cycle i.
 */
async function commandBursts(
  stores: Record<Mode, string>,
  chosen: Mode[],
  modes: Record<Mode, { env: NodeJS.ProcessEnv; scrape: boolean }>,
  options: { cycles: number; seconds: number; scrapeMs: number },
  scrapes: { count: number },
): Promise<{ bursts: Record<Mode, Burst[]>; restMsPerS: number[] }> {
  const serves: ServeProcess[] = [];
  try {
    for (const mode of chosen) serves.push(await ServeProcess.start(join(stores[mode], 'data'), [], modes[mode].env));
    await Promise.all(serves.map((serve) => serve.caughtUp(0)));
    // One request source per store, kept across its bursts: every command captures a trade of its own.
    const requests = chosen.map(() => captureTradeRequest('O'));
    const burst = async (i: number): Promise<Burst> => {
      const serve = serves[i]!;
      const idle = serves.filter((_, j) => j !== i);
      const scraper = modes[chosen[i]!].scrape ? scrapeEvery(serve, options.scrapeMs, scrapes) : null;
      const idleBefore = idle.map((s) => s.cpu());
      const before = serve.cpu();
      const started = process.hrtime.bigint();
      try {
        const result = await autocannon({ url: serve.url, connections: 16, duration: options.seconds, requests: [requests[i]!] });
        // Its followers (processors, projections) work on after the last answer: that is the commands' CPU too.
        await serve.caughtUp(0);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const idleMs = idle.map((s, j) => (s.cpu() - idleBefore[j]!) * 1000);
        return {
          rate: result.requests.total / result.duration,
          cpuUs: ((serve.cpu() - before) / Math.max(1, result.requests.total)) * 1e6,
          failed: result.non2xx + result.errors,
          idleMsPerS: idleMs.length > 0 ? Math.max(...idleMs) / seconds : 0,
        };
      } finally {
        if (scraper) clearInterval(scraper);
      }
    };
    const order = (cycle: number) => (cycle % 2 === 0 ? chosen.map((_, i) => i) : chosen.map((_, i) => chosen.length - 1 - i));
    // Warm-up, not reported: one cycle each way, so that both have compiled the command path.
    for (const cycle of [0, 1]) for (const i of order(cycle)) await burst(i);
    // What a serve uses with no load at all (its followers poll the store), once warm: the floor
    // against which the idle serve's CPU during the other's bursts is judged.
    const restBefore = serves.map((serve) => serve.cpu());
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const restMsPerS = serves.map((serve, i) => ((serve.cpu() - restBefore[i]!) * 1000) / 3);
    const bursts = Object.fromEntries(chosen.map((mode) => [mode, [] as Burst[]])) as Record<Mode, Burst[]>;
    for (let cycle = 0; cycle < options.cycles; cycle++) for (const i of order(cycle)) bursts[chosen[i]!].push(await burst(i));
    return { bursts, restMsPerS };
  } finally {
    await Promise.all(serves.map((serve) => serve.stop()));
  }
}

function best(values: number[]): number {
  return Math.max(...values);
}

/**
 * A 95 % interval for the median of `values`, by bootstrap: the median of 10,000 resamples drawn with
 * replacement, seeded so that the same figures always give the same interval. A dozen noisy pairs can
 * put one run's median on either side of 5 %; the interval says how far that median can be trusted.
 */
function medianInterval(values: number[], resamples = 10_000): [number, number] {
  let seed = 0x2545f491;
  const random = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const medians = Array.from({ length: resamples }, () => median(Array.from(values, () => values[Math.floor(random() * values.length)]!)));
  return [quantile(medians, 0.025), quantile(medians, 0.975)];
}

/** `kepler ingest`, with its CPU seconds (user + system, every thread) from /usr/bin/time where there is one. */
async function ingestTimed(args: string[], env: NodeJS.ProcessEnv): Promise<{ cpu: number | null }> {
  if (!existsSync('/usr/bin/time')) {
    const run = await runMeasured(args, env);
    if (run.code !== 0) throw new Error(run.stderr);
    return { cpu: null };
  }
  const child = spawn('/usr/bin/time', ['-f', 'KEPLER_BENCH_CPU %U %S', process.execPath, CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(stderr);
  const match = /KEPLER_BENCH_CPU ([\d.]+) ([\d.]+)/.exec(stderr);
  return { cpu: match ? Number(match[1]) + Number(match[2]) : null };
}

function difference(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([name, seconds]) => [name, seconds - (before[name] ?? 0)]));
}

/** node#0 is the main thread; node#1… are worker threads (the projections); the rest are V8's and libuv's helpers. */
function split(cpu: Record<string, number>): IngestSample['serveCpu'] {
  let main = 0;
  let threads = 0;
  let rest = 0;
  for (const [name, seconds] of Object.entries(cpu)) {
    if (name === 'node#0') main += seconds;
    else if (name.startsWith('node#')) threads += seconds;
    else rest += seconds;
  }
  return { main, threads, rest };
}
