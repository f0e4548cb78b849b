import cliProgress from 'cli-progress';
import { PROJECTIONS, rebuildProjection } from '../../projections/index.js';
import type { KeplerConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { openEventStore, openReadStore } from '../stores.js';

/** `kepler rebuild [PROJECTION...]`: every named read model (all when none), one after the other. */
export async function rebuildCommand(config: KeplerConfig, names: string[]): Promise<number> {
  const unknown = names.filter((name) => !PROJECTIONS.some((p) => p.name === name));
  if (unknown.length > 0) {
    process.stderr.write(`kepler rebuild: no read model named ${unknown.join(', ')} (there are: ${PROJECTIONS.map((p) => p.name).join(', ')})\n`);
    return 2;
  }
  const chosen = names.length === 0 ? PROJECTIONS : PROJECTIONS.filter((p) => names.includes(p.name));
  const logger = createLogger('kepler-rebuild');
  const events = await openEventStore(config.eventStore);
  const reads = await openReadStore(config.readStore);
  try {
    for (const projection of chosen) {
      const bar = progressBar(projection.name);
      const started = Date.now();
      const result = await rebuildProjection(events, reads, projection, logger, ({ position, head }) => bar?.update(position, { total: head, rate: rate(position, started) }));
      bar?.stop();
      const seconds = (Date.now() - started) / 1000;
      process.stdout.write(`${projection.name}: rebuilt generation ${result.to} up to position ${result.position} in ${seconds.toFixed(1)} s; it replaced generation ${result.from}\n`);
    }
    return 0;
  } finally {
    await reads.close();
    await events.close();
  }
}

/** A bar with rate and ETA on a terminal; nothing when output goes to a file or a pipe. */
function progressBar(name: string) {
  if (!process.stderr.isTTY) return null;
  const bar = new cliProgress.SingleBar(
    { format: `${name.padEnd(10)} [{bar}] {percentage}% | {value}/{total} events | {rate} events/s | ETA {eta_formatted}`, stream: process.stderr, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1, 0, { rate: '0' });
  return {
    update: (value: number, payload: { total: number; rate: string }) => {
      bar.setTotal(Math.max(payload.total, 1));
      bar.update(value, payload);
    },
    stop: () => bar.stop(),
  };
}

function rate(position: number, started: number): string {
  const seconds = (Date.now() - started) / 1000;
  return seconds > 0 ? Math.round(position / seconds).toLocaleString('en') : '0';
}
