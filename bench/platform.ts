// Drives the compiled platform as a user would (child processes, real HTTP) and measures it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../app/package-root.js';
import { writeLargeFeed } from './feed-generator.js';
import type { Bench } from './kit.js';

const CAPTURE_TERMS = { account: 'ACC-1', isin: 'US0378331005', side: 'BUY', quantity: 100, price: '10.5', currency: 'USD', tradeDate: '2026-11-27', settleDate: '2026-11-30', counterparty: 'CPTY' };

/** autocannon's request for `POST /trades`, each with a trade reference of its own (`prefix` keeps runs on one store apart). */
export function captureTradeRequest(prefix: string) {
  let next = 0;
  return {
    method: 'POST' as const,
    path: '/trades',
    headers: { 'content-type': 'application/json' },
    setupRequest: <R extends object>(request: R) => ({ ...request, body: JSON.stringify({ ...CAPTURE_TERMS, tradeRef: `${prefix}${(next++).toString(36)}` }) }),
  };
}

export const CLI = join(packageRoot(), 'bin', 'kepler.js');

/** Where every HTTP server of the bench listens, `serve` and the empty route alike. */
export const BENCH_HOST = '127.0.0.1';

export interface Measured {
  seconds: number;
  peakRssMb: number;
  stdout: string;
  stderr: string;
  code: number | null;
}

/** Runs the CLI to completion, sampling its resident memory from /proc. */
export function runMeasured(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Measured> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const sampler = new RssSampler(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      sampler.stop();
      resolve({ seconds: Number(process.hrtime.bigint() - started) / 1e9, peakRssMb: sampler.peakMb, stdout, stderr, code });
    });
  });
}

/** Peak resident memory of a child process, from the kernel's high-water mark. */
export class RssSampler {
  peakMb = 0;
  /** The peaks of its two parts, each at its own moment: the heaps and SQLite's page caches, and the memory-mapped store. */
  peakAnonMb = 0;
  peakFileMb = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly child: ChildProcess) {
    this.timer = setInterval(() => this.sample(), 50);
  }

  sample(): void {
    try {
      const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
      const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
      if (hwm) this.peakMb = Math.max(this.peakMb, Number(hwm[1]) / 1024);
      const anon = /RssAnon:\s+(\d+) kB/.exec(status);
      if (anon) this.peakAnonMb = Math.max(this.peakAnonMb, Number(anon[1]) / 1024);
      const file = /RssFile:\s+(\d+) kB/.exec(status);
      if (file) this.peakFileMb = Math.max(this.peakFileMb, Number(file[1]) / 1024);
    } catch {
      // The process has gone; the last sample stands.
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/**
 * CPU seconds a process has used so far, per thread name (user + system), from /proc: on a machine
 * shared with other work these say more than wall-clock times do. V8's GC helpers show as
 * "V8 DefaultWorke", libuv's pool as "libuv-workerN"; the main thread and worker threads are "node"
 * (numbered here in the order of their ids, so the main thread comes first).
 */
export function threadCpuSeconds(pid: number): Record<string, number> {
  const ticks = 100; // USER_HZ on Linux
  const byName: Record<string, number> = {};
  let nodeThreads = 0;
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`).sort((a, b) => Number(a) - Number(b));
  } catch {
    return byName;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // The name is in parentheses and may hold spaces; the fields after it are space-separated.
      const close = stat.lastIndexOf(')');
      let name = stat.slice(stat.indexOf('(') + 1, close).replace(/\d+$/, '');
      if (name === 'node') name = `node#${nodeThreads++}`;
      const fields = stat.slice(close + 2).split(' ');
      const seconds = (Number(fields[11]) + Number(fields[12])) / ticks;
      if (seconds < 0.1) continue;
      byName[name] = Math.round(((byName[name] ?? 0) + seconds) * 100) / 100;
    } catch {
      // The thread ended between listing and reading.
    }
  }
  return byName;
}

/**
 * CPU seconds of a whole process so far (user + system of every thread, those that ended too), from
 * /proc/PID/stat: finer than summing threadCpuSeconds, which leaves out threads under 0.1 s.
 */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ on Linux
  } catch {
    return 0;
  }
}

export class ServeProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
    readonly rss: RssSampler,
  ) {}

  /** `nodeOptions`: flags for Node itself (a CPU profile, say), before the CLI. */
  static async start(dataDir: string, args: string[] = [], env: NodeJS.ProcessEnv = {}, nodeOptions: string[] = []): Promise<ServeProcess> {
    const child = spawn(process.execPath, [...nodeOptions, CLI, 'serve', '--data-dir', dataDir, '--port', '0', ...args], {
      env: { ...process.env, KEPLER_HOST: BENCH_HOST, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr!.on('data', (c: Buffer) => {
        stderr += c.toString();
        const match = /Server listening at (http:\/\/[^\s"]+)/.exec(stderr) ?? /"url":"(http:\/\/[^"]+)"/.exec(stderr);
        if (match) resolve(match[1]!);
      });
      child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
    });
    return new ServeProcess(child, url, new RssSampler(child));
  }

  async status(): Promise<{ caughtUp: boolean; head: number }> {
    return (await fetch(`${this.url}/status`)).json() as Promise<{ caughtUp: boolean; head: number }>;
  }

  async caughtUp(minimumHead: number, timeoutMs = 600_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await this.status();
      if (status.caughtUp && status.head >= minimumHead) return;
      if (Date.now() > deadline) throw new Error(`not caught up: ${JSON.stringify(status)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** For a process that runs only the processors: their checkpoints, as /status reports them. */
  async caughtUpProcessors(timeoutMs = 600_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = (await (await fetch(`${this.url}/status`)).json()) as { head: number; subscriptions: Array<{ name: string; position: number }> };
      const processors = status.subscriptions.filter((s) => !s.name.startsWith('projection:'));
      if (processors.every((s) => s.position >= status.head)) return;
      if (Date.now() > deadline) throw new Error(`processors not caught up: ${JSON.stringify(status)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** CPU seconds of the whole of `serve` so far (see processCpuSeconds). */
  cpu(): number {
    return this.child.pid === undefined ? 0 : processCpuSeconds(this.child.pid);
  }

  /** CPU seconds per thread of `serve` so far (see threadCpuSeconds). */
  threadCpu(): Record<string, number> {
    return this.child.pid === undefined ? {} : threadCpuSeconds(this.child.pid);
  }

  async stop(): Promise<void> {
    this.rss.stop();
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }
}

export function rate(count: number, seconds: number): string {
  return Math.round(count / seconds).toLocaleString('en');
}

/** FerretDB built by tests/ferretdb/build.sh (cached), on a free loopback port. */
export async function startFerretDb(dir: string): Promise<{ uri: string; stop(): void }> {
  const root = packageRoot();
  const build = spawnSync('bash', [join(root, 'tests', 'ferretdb', 'build.sh')], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('FerretDB did not build');
  const child = spawn(join(root, 'tests', 'ferretdb', 'bin', 'ferretdb'), ['-listen', '127.0.0.1:0', '-dir', join(dir, 'ferretdb'), '-log-level', 'error'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const uri = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const match = /FERRETDB_READY (\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.on('exit', (code) => reject(new Error(`ferretdb exited ${code}`)));
  });
  return { uri, stop: () => child.kill('SIGTERM') };
}

export async function deleteBenchTopology(url: string, prefix: string): Promise<void> {
  const { deleteTopology, openConnection, topologyNames } = await import('../messaging/index.js');
  const connection = await openConnection(url, 'kepler-bench-cleanup');
  await deleteTopology(await connection.createChannel(), topologyNames(prefix));
  await connection.close();
}

/**
 * A feed of `trades` trades in three files, one per source. Trade i has the same reference, quantity
 * and price in all three, so every complete trade books.
 */
export async function threeSourceFeed(dir: string, trades: number) {
  const core = await writeLargeFeed(join(dir, 'CORE_0001.cx1'), { lines: Math.round(trades * 1.2), seed: 7, source: 'CORE' });
  const alloc = await writeLargeFeed(join(dir, 'ALLOC_0001.cx1'), { lines: trades * 2, seed: 7, source: 'ALLOC' });
  const custody = await writeLargeFeed(join(dir, 'CUSTODY_0001.cx1'), { lines: trades, seed: 7, source: 'CUSTODY' });
  return {
    paths: [core.path, alloc.path, custody.path],
    lines: core.lines + alloc.lines + custody.lines,
    trades: Math.min(core.trades, alloc.trades, custody.trades),
  };
}

/** Comparisons per second of the regression engine, with one and two workers. */
export async function regressionSection(bench: Bench): Promise<void> {
  const { benchRegression } = await import('../regression/bench.js');
  const figures = await benchRegression();
  for (const [name, value] of Object.entries(figures)) bench.figure(name, value);
}
