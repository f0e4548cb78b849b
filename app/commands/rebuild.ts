import { Worker } from 'node:worker_threads';
import cliProgress from 'cli-progress';
import { PROJECTIONS } from '../../projections/index.js';
import type { KeplerConfig } from '../config.js';
import type { FromRebuildThread, RebuildThreadInput } from '../rebuild-thread.js';

/**
 * `kepler rebuild [PROJECTION...]`: every named read model (all when none), each
 * on a worker thread of its own, so they are built at once on as many cores.
 */
export async function rebuildCommand(config: KeplerConfig, names: string[]): Promise<number> {
  const unknown = names.filter((name) => !PROJECTIONS.some((p) => p.name === name));
  if (unknown.length > 0) {
    process.stderr.write(`kepler rebuild: no read model named ${unknown.join(', ')} (there are: ${PROJECTIONS.map((p) => p.name).join(', ')})\n`);
    return 2;
  }
  const chosen = names.length === 0 ? PROJECTIONS : PROJECTIONS.filter((p) => names.includes(p.name));
  const bars = progressBars();
  const outcomes = await Promise.allSettled(
    chosen.map(async ({ name }) => {
      const bar = bars?.add(name);
      const started = Date.now();
      const result = await rebuildOnThread(config, name, ({ position, head }) => bar?.update(position, { total: head, rate: rate(position, started) }));
      const seconds = (Date.now() - started) / 1000;
      return `${name}: rebuilt generation ${result.to} up to position ${result.position} in ${seconds.toFixed(1)} s; it replaced generation ${result.from}\n`;
    }),
  );
  bars?.stop();
  let failed = false;
  outcomes.forEach((outcome, i) => {
    if (outcome.status === 'fulfilled') process.stdout.write(outcome.value);
    else {
      failed = true;
      process.stderr.write(`kepler rebuild: ${chosen[i]!.name} failed: ${(outcome.reason as Error).message}\n`);
    }
  });
  return failed ? 1 : 0;
}

function rebuildOnThread(
  config: KeplerConfig,
  projection: string,
  onProgress: (progress: { position: number; head: number }) => void,
): Promise<Extract<FromRebuildThread, { type: 'rebuilt' }>> {
  const input: RebuildThreadInput = { config, projection };
  const worker = new Worker(new URL('../rebuild-thread.js', import.meta.url), { workerData: input });
  return new Promise((resolve, reject) => {
    let result: Extract<FromRebuildThread, { type: 'rebuilt' }> | null = null;
    worker.on('message', (message: FromRebuildThread) => {
      if (message.type === 'progress') onProgress(message);
      else if (message.type === 'rebuilt') result = message;
      else reject(new Error(message.message));
    });
    worker.on('error', reject);
    worker.on('exit', (code) => (result ? resolve(result) : reject(new Error(`rebuild thread exited with ${code}`))));
  });
}

/** One bar per read model, with rate and ETA, on a terminal; nothing when output goes to a file or a pipe. */
function progressBars() {
  if (!process.stderr.isTTY) return null;
  const bars = new cliProgress.MultiBar(
    { format: '{name} [{bar}] {percentage}% | {value}/{total} events | {rate} events/s | ETA {eta_formatted}', stream: process.stderr, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  return {
    add: (name: string) => {
      const bar = bars.create(1, 0, { name: name.padEnd(10), rate: '0' });
      return {
        update: (value: number, payload: { total: number; rate: string }) => {
          bar.setTotal(Math.max(payload.total, 1));
          bar.update(value, payload);
        },
      };
    },
    stop: () => bars.stop(),
  };
}

function rate(position: number, started: number): string {
  const seconds = (Date.now() - started) / 1000;
  return seconds > 0 ? Math.round(position / seconds).toLocaleString('en') : '0';
}
