// Drives Kepler exactly as a user does: the compiled CLI in child processes, over real HTTP.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FileIngestionSummary } from '../../ingestion/index.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(REPO_ROOT, 'bin', 'kepler.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a Node script to completion, capturing its output; optionally SIGKILLs it after a delay. */
export function runNode(script: string, args: string[], options: { env?: NodeJS.ProcessEnv; killAfterMs?: number; cwd?: string } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [script, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = options.killAfterMs !== undefined ? setTimeout(() => child.kill('SIGKILL'), options.killAfterMs) : null;
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; killAfterMs?: number; cwd?: string } = {}): Promise<CliResult> {
  return runNode(CLI, args, options);
}

export type IngestSummary = FileIngestionSummary;

export async function ingest(dataDir: string, files: string[], env?: NodeJS.ProcessEnv): Promise<IngestSummary[]> {
  const result = await runCli(['ingest', '--data-dir', dataDir, '--json', ...files], { env });
  if (result.code !== 0) throw new Error(`kepler ingest exited ${result.code}: ${result.stderr}`);
  return result.stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as IngestSummary);
}

export class KeplerServer {
  private constructor(
    readonly process: ChildProcess,
    readonly url: string,
    private readonly output: { stderr: string; stdout: string },
  ) {}

  static async start(dataDir: string, options: { env?: NodeJS.ProcessEnv; args?: string[]; command?: 'serve' | 'start' } = {}): Promise<KeplerServer> {
    const child = spawn(process.execPath, [CLI, options.command ?? 'serve', '--data-dir', dataDir, '--port', '0', ...(options.args ?? [])], {
      env: { ...process.env, KEPLER_HOST: '127.0.0.1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = { stderr: '', stdout: '' };
    child.stdout!.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      // Only a start that hangs ends here: on a machine shared with other test runs, a start can take long.
      const timer = setTimeout(() => reject(new Error(`kepler serve did not start: ${output.stderr}`)), 90_000);
      child.stderr!.on('data', (chunk: Buffer) => {
        output.stderr += chunk.toString();
        const match = /"msg":"kepler is serving"/.test(output.stderr) && /"url":"(https?:\/\/[^"]+)"/.exec(output.stderr);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
      child.on('exit', (code) => reject(new Error(`kepler serve exited ${code}: ${output.stderr}`)));
    });
    return new KeplerServer(child, url, output);
  }

  /** With authentication on: a bearer token for what this helper asks (status, snapshots). */
  authorize?: () => Promise<string>;

  get logs(): string {
    return this.output.stderr;
  }

  get stdout(): string {
    return this.output.stdout;
  }

  async get<T = unknown>(path: string, init?: RequestInit): Promise<{ status: number; headers: Headers; body: T }> {
    const authorization = this.authorize && { authorization: `Bearer ${await this.authorize()}` };
    let response: Response;
    try {
      response = await fetch(this.url + path, authorization ? { ...init, headers: { ...authorization, ...(init?.headers as Record<string, string>) } } : init);
    } catch (error) {
      throw this.explained(error, `${init?.method ?? 'GET'} ${path}`);
    }
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : null) as T };
  }

  /**
   * A failed request to a serve that has exited says so, with the end of its log: a test that
   * only saw ECONNREFUSED could not tell a crash of serve from a slow start.
   */
  private explained(error: unknown, what: string): Error {
    const exited = this.process.exitCode !== null || this.process.signalCode !== null;
    const state = exited ? `serve had exited (code ${this.process.exitCode}, signal ${this.process.signalCode})` : 'serve is still running';
    return new Error(`${what}: ${(error as Error).message} (${(error as Error & { cause?: Error }).cause?.message ?? ''}); ${state}; its log ends:\n${this.output.stderr.slice(-4000)}`, { cause: error });
  }

  async json<T = unknown>(path: string): Promise<T> {
    const response = await this.get<T>(path);
    if (response.status !== 200) throw new Error(`GET ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }

  /** Waits until every subscription has processed everything in the store. */
  async caughtUp(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await this.json<{ caughtUp: boolean; head: number }>('/status');
      if (status.caughtUp) return;
      if (Date.now() > deadline) throw new Error(`not caught up after ${timeoutMs} ms: ${JSON.stringify(status)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Every page of a paginated list. */
  async all<T>(path: string): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | null = null;
    const separator = path.includes('?') ? '&' : '?';
    do {
      const page: { items: T[]; nextCursor: string | null } = await this.json(`${path}${separator}limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return items;
  }

  async stop(): Promise<number | null> {
    if (this.process.exitCode !== null) return this.process.exitCode;
    this.process.kill('SIGTERM');
    const [code] = (await once(this.process, 'exit')) as [number | null];
    return code;
  }

  async kill(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    this.process.kill('SIGKILL');
    await once(this.process, 'exit');
  }
}

/** What a user can see of the whole platform: every trade, position and exception. */
export async function snapshot(server: KeplerServer) {
  const trades = await server.all<{ tradeRef: string } & Record<string, unknown>>('/trades');
  const positions = (await server.json<{ items: Array<{ account: string; isin: string }> }>('/positions')).items;
  const exceptions = await server.all<{ id: string }>('/exceptions');
  const counts = await server.json<Record<string, number>>('/exceptions/counts');
  return {
    trades: trades.sort((a, b) => a.tradeRef.localeCompare(b.tradeRef)),
    positions: positions.sort((a, b) => `${a.account}|${a.isin}`.localeCompare(`${b.account}|${b.isin}`)),
    exceptions: exceptions.sort((a, b) => a.id.localeCompare(b.id)),
    counts,
  };
}

/** What identifies an item of each of `snapshot`'s collections, for `stateDifferences`. */
export function snapshotKey(collection: string, item: Record<string, unknown>): string {
  if (collection === 'trades') return String(item.tradeRef);
  if (collection === 'positions') return `${String(item.account)}|${String(item.isin)}`;
  return String(item.id);
}

/** The platform's state after a plain run: `serve` on a fresh data directory, the files ingested, caught up. */
export async function referenceSnapshot(dataDir: string, files: string[]): Promise<Awaited<ReturnType<typeof snapshot>>> {
  const server = await KeplerServer.start(dataDir);
  try {
    await ingest(dataDir, files);
    await server.caughtUp(120_000);
    return await snapshot(server);
  } finally {
    await server.stop();
  }
}
