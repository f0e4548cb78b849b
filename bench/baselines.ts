// The machine's own limits, measured in the same run as the figures judged
// against them: an empty fastify route, and a raw batched append per event store.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CONNECTIONS, load, SECONDS, WARM_UP_SECONDS, type LoadResult } from './load.js';
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
  private readonly routes = new Map<number, Promise<LoadResult>>();

  constructor(private readonly work: string) {}

  /**
   * A fastify route that answers a constant document, loaded as every route of
   * the bench is (same host, autocannon settings, warm-up), at each depth the
   * first time a section asks for one; later asks in the run get the same figure.
   */
  emptyRoute(connections: number): Promise<LoadResult> {
    let measured = this.routes.get(connections);
    if (!measured) {
      measured = emptyRouteAt(connections);
      this.routes.set(connections, measured);
    }
    return measured;
  }

  /** The events a run produced, appended raw in batches of its own size by the given store's adapter. */
  async rawAppend(pages: Iterable<RawEvent[]>, store = 'sqlite'): Promise<AppendBaseline> {
    const measure = RAW_APPENDS[store];
    if (!measure) throw new Error(`no raw-append baseline for the ${store} event store (there are: ${Object.keys(RAW_APPENDS).join(', ')})`);
    return (await measure())(pages, this.work);
  }
}

async function emptyRouteAt(connections: number): Promise<LoadResult> {
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
    const requests = [{ method: 'GET' as const, path: '/' }];
    await load({ url, connections: Math.max(...CONNECTIONS), seconds: WARM_UP_SECONDS, requests });
    return await load({ url, connections, seconds: SECONDS, requests });
  } finally {
    if (server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
  }
}
