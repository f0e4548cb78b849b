// The machine's own limits, measured in the same run as the figures judged
// against them: an empty fastify route, and a raw batched append per event store.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { CONNECTIONS, load, WARM_UP_SECONDS, type LoadResult } from './load.js';
import { BENCH_HOST } from './platform.js';
import { rawSqliteAppend, type AppendBaseline, type RawAppend, type RawEvent } from './raw-append.js';

/**
 * Raw appends by event store. A section that measures a store compares it with
 * that store's own raw append; each entry loads its code only when used.
 */
export const RAW_APPENDS: Record<string, () => Promise<RawAppend>> = {
  sqlite: async () => rawSqliteAppend,
};

export class Baselines {
  constructor(private readonly work: string) {}

  /**
   * A fastify route that answers a constant document, in a process of its own, warmed up, to be loaded
   * in bursts beside the route it is the limit of (same host, autocannon settings, depths). A section
   * keeps it for all its bursts and stops it when done: its figures are taken next to the route's, in
   * alternating rounds, never once for the whole run.
   */
  startEmptyRoute(): Promise<EmptyRoute> {
    return EmptyRoute.start();
  }

  /** The events a run produced, appended raw in batches of its own size by the given store's adapter. */
  async rawAppend(pages: Iterable<RawEvent[]>, store = 'sqlite'): Promise<AppendBaseline> {
    const measure = RAW_APPENDS[store];
    if (!measure) throw new Error(`no raw-append baseline for the ${store} event store (there are: ${Object.keys(RAW_APPENDS).join(', ')})`);
    return (await measure())(pages, this.work);
  }
}

export class EmptyRoute {
  private static readonly requests = [{ method: 'GET' as const, path: '/' }];

  private constructor(
    private readonly server: ChildProcessByStdio<null, Readable, null>,
    readonly url: string,
  ) {}

  static async start(): Promise<EmptyRoute> {
    const server = spawn(process.execPath, [fileURLToPath(new URL('./empty-route-server.js', import.meta.url)), BENCH_HOST], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        server.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('\n')) resolve(out.trim());
        });
        server.once('exit', (code) => reject(new Error(`the empty-route server exited with ${code}`)));
      });
      const route = new EmptyRoute(server, url);
      if (WARM_UP_SECONDS > 0) await route.burst(Math.max(...CONNECTIONS), WARM_UP_SECONDS);
      return route;
    } catch (error) {
      await new EmptyRoute(server, '').stop();
      throw error;
    }
  }

  /** One burst of load at the given depth. */
  burst(connections: number, seconds: number): Promise<LoadResult> {
    return load({ url: this.url, connections, seconds, requests: EmptyRoute.requests });
  }

  async stop(): Promise<void> {
    if (this.server.exitCode === null && this.server.signalCode === null) {
      const exited = new Promise((resolve) => this.server.once('exit', resolve));
      this.server.kill('SIGTERM');
      await exited;
    }
  }
}
