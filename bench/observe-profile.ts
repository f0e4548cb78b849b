// Where the CPU of "seeing it run" goes, separated by part, from V8 CPU profiles
// rather than from throughput (which moves ±10 % with the load of a shared machine):
//
//   node dist/bench/observe-profile.js run MODE DIR   one ingest and command load of the observe section
//                                                     (MODE as KEPLER_BENCH_OBSERVE_MODES: off, metrics,
//                                                     scraped, hec, on), serve and kepler ingest under
//                                                     --cpu-prof, the phases' times in DIR/phases.json
//   node dist/bench/observe-profile.js DIR|FILE...    attributes each profile's samples, per phase
//
// Each sample goes to the first part (in this order) with a frame on its stack:
//   c:hec     telemetry/hec.js and the HTTP client under it
//   b:scrape  GET /metrics: collection, the Prometheus serializer, platform-state counts, follower gaps
//   load      module loading (mostly at start, before the ingest)
//   a:record  the OpenTelemetry API and SDK when recording, Kepler's instruments
//   pino      structured logging (there with telemetry off too)
// and the rest is the platform's own work (or the garbage collector's).
// (d) tracing is off in every mode of the bench: its per-event cost is one boolean.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { writeLargeFeed } from './feed-generator.js';
import { benchSetting, isObserveMode, observeModes, startHecSink } from './observability.js';
import { CLI, captureTradeRequest, ServeProcess } from './platform.js';

const now = () => Number(process.hrtime.bigint() / 1000n);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  /** µs on the monotonic clock, the one process.hrtime reads: comparable across processes. */
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The phases of a run, µs on the monotonic clock: written beside the profiles as phases.json. */
type Phases = Record<string, [from: number, to: number]>;

type Rule = [part: string, matches: (url: string, fn: string) => boolean];
const RULES: Rule[] = [
  ['c:hec', (u) => /telemetry\/hec\.js|deps\/undici/.test(u)],
  [
    'b:scrape',
    (u, f) =>
      /telemetry\/(prometheus|platform-state|followers)\.js|exporter-prometheus/.test(u) ||
      (/app\/observability\.js/.test(u) && f !== 'platformReadiness') ||
      (/telemetry\/health\.js/.test(u) && f === 'callback') ||
      /^(collectThreadMetrics|collectMetrics)$/.test(f) ||
      (/sdk-metrics/.test(u) && /collect|observe|Observable|toMetricData|buildMetrics/.test(f)),
  ],
  ['load', (_u, f) => /^(wrapSafe|compileForInternalLoader|Module\._load|Module\._compile|require)$/.test(f)],
  ['a:record', (u, f) => /@opentelemetry\/(sdk-metrics|api|core|resources)/.test(u) || /telemetry\/(instruments|local-histograms)\.js/.test(u) || (/telemetry\/http\.js/.test(u) && f !== '')],
  ['pino', (u) => /node_modules\/(pino|sonic-boom|thread-stream)|telemetry\/logging\.js/.test(u)],
];

/** Milliseconds of CPU per part (and `busy`, the total without idle), of the samples in [from, to] µs. */
export function attribute(profile: CpuProfile, from = -Infinity, to = Infinity): Record<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const partOf = new Map<number, string>();
  const part = (id: number): string => {
    let found = partOf.get(id);
    if (found !== undefined) return found;
    let best = RULES.length;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const { url, functionName } = byId.get(at)!.callFrame;
      for (let r = 0; r < best; r++) {
        if (RULES[r]![1](url, functionName)) {
          best = r;
          break;
        }
      }
    }
    found = best < RULES.length ? RULES[best]![0] : byId.get(id)!.callFrame.functionName === '(garbage collector)' ? 'gc' : 'rest';
    partOf.set(id, found);
    return found;
  };
  const ms: Record<string, number> = { busy: 0 };
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    const us = profile.timeDeltas[i + 1] ?? 0;
    if (at < from || at > to) return;
    if (byId.get(id)!.callFrame.functionName === '(idle)') return;
    const p = part(id);
    ms[p] = (ms[p] ?? 0) + us / 1000;
    ms.busy! += us / 1000;
  });
  return ms;
}

/** One ingest of the observe section (50,000 lines, serve running) with every process profiled. */
async function profiledRun(mode: string, out: string): Promise<void> {
  const trades = benchSetting('KEPLER_BENCH_OBSERVE_TRADES', 25_000);
  const scrapeMs = Math.max(1, benchSetting('KEPLER_BENCH_OBSERVE_SCRAPE_MS', 1000));
  if (!isObserveMode(mode)) throw new Error(`mode: one of off, metrics, scraped, hec, on, not "${mode}"`);
  const sink = await startHecSink();
  const { env, scrape } = observeModes(sink.env)[mode];
  const dir = mkdtempSync(join(out, 'run-'));
  const core = await writeLargeFeed(join(dir, 'CORE_0001.cx1'), { lines: trades, seed: 7, source: 'CORE' });
  const alloc = await writeLargeFeed(join(dir, 'ALLOC_0001.cx1'), { lines: trades, seed: 7, source: 'ALLOC' });
  mkdirSync(join(out, 'serve'), { recursive: true });
  const serve = await ServeProcess.start(join(dir, 'data'), [], env, ['--cpu-prof', `--cpu-prof-dir=${join(out, 'serve')}`]);
  const scraper = scrape ? setInterval(() => void fetch(`${serve.url}/metrics`).then((r) => r.text()).catch(() => {}), scrapeMs) : null;
  try {
    const before = serve.threadCpu();
    const started = Date.now();
    const ingestFrom = now();
    const ingest = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${join(out, 'ingest')}`, CLI, 'ingest', '--data-dir', join(dir, 'data'), core.path, alloc.path], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    ingest.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve, reject) => ingest.on('error', reject).on('close', resolve));
    if (code !== 0) throw new Error(`kepler ingest exited ${code}: ${stderr}`);
    await serve.caughtUp(core.lines + alloc.lines);
    const seconds = (Date.now() - started) / 1000;
    const after = serve.threadCpu();
    const ingestPhase: [number, number] = [ingestFrom, now()];
    // Then capture-trade, as the observe section loads it: 2 s of warm-up, 8 s measured.
    const request = captureTradeRequest('O');
    await autocannon({ url: serve.url, connections: 16, duration: 2, requests: [request] });
    const commandsFrom = now();
    const load = await autocannon({ url: serve.url, connections: 16, duration: 8, requests: [request] });
    const phases: Phases = { ingest: ingestPhase, commands: [commandsFrom, now()] };
    writeFileSync(join(out, 'phases.json'), JSON.stringify(phases));
    const cpu = Object.keys(after).reduce((sum, name) => sum + after[name]! - (before[name] ?? 0), 0);
    process.stdout.write(`${mode}: ${Math.round((core.lines + alloc.lines) / seconds)} lines/s, serve ${cpu.toFixed(2)} CPU s first line to caught up; ${load.requests.total} commands (${Math.round(load.requests.average)}/s); profiles in ${out}\n`);
  } finally {
    if (scraper) clearInterval(scraper);
    await serve.stop();
    sink.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const [first, ...rest] = process.argv.slice(2);
if (first === 'run') {
  await profiledRun(rest[0] ?? 'on', rest[1] ?? mkdtempSync('/tmp/kepler-observe-profile-'));
} else {
  const files = [first, ...rest].filter((f): f is string => f !== undefined).flatMap((f) => (f.endsWith('.cpuprofile') ? [f] : readdirSync(f, { recursive: true }).map(String).filter((n) => n.endsWith('.cpuprofile')).map((n) => join(f, n))));
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    // phases.json sits in the run's directory, one up from serve/ and ingest/.
    const phasesFile = join(dirname(dirname(file)), 'phases.json');
    const phases: Phases = existsSync(phasesFile) ? (JSON.parse(readFileSync(phasesFile, 'utf8')) as Phases) : { whole: [-Infinity, Infinity] };
    for (const [phase, [from, to]] of Object.entries(phases)) {
      const ms = attribute(profile, from, to);
      const busy = ms.busy!;
      if (busy === 0) continue;
      const parts = Object.entries(ms)
        .filter(([p]) => p !== 'busy')
        .sort()
        .map(([p, v]) => `${p} ${v.toFixed(0)} ms (${((v / busy) * 100).toFixed(1)} %)`);
      process.stdout.write(`${file} [${phase}]: busy ${busy.toFixed(0)} ms; ${parts.join(', ')}\n`);
    }
  }
}
