import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FileIngestor } from '../../ingestion/index.js';
import { countDuplicates } from '../../telemetry/index.js';
import type { KeplerConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { packageRoot } from '../package-root.js';
import { startPlatform, type RunningPlatform } from '../serve.js';

export async function serveCommand(config: KeplerConfig): Promise<RunningPlatform> {
  const logger = createLogger('kepler', { roles: config.roles, slot: config.slot });
  let running: RunningPlatform;
  try {
    running = await startPlatform(config, logger);
  } catch (error) {
    process.stderr.write(`kepler serve: ${(error as Error).message}\n`);
    process.exit(2);
  }
  logger.info({ url: running.url, dataDir: config.dataDir, eventStore: config.eventStore.kind, readStore: config.readStore.kind }, 'kepler is serving');
  stopOnSignals(running);
  return running;
}

/** `npm start`: serve, and on an empty store load the bundled sample feed so there is something to look at. */
export async function startCommand(config: KeplerConfig): Promise<void> {
  const running = await serveCommand(config);
  const head = await running.platform.events.headPosition();
  const sampleDir = join(packageRoot(), 'app', 'sample-feed');
  const lines = [`Kepler is running on ${running.url} (data in ${config.dataDir})`];
  if (!config.auth) lines.push('Authentication is OFF (no identity provider configured): fine on this machine, never beyond it. See README, Security.');
  if (head === 0) {
    const files = (await readdir(sampleDir)).filter((f) => f.endsWith('.cx1')).sort();
    const ingestor = new FileIngestor(running.platform.events, { parseOnThread: true });
    lines.push('Loaded the sample feed:');
    for (const file of files) {
      const s = await ingestor.ingest(join(sampleDir, file));
      if (s.source) countDuplicates(s.source, s.duplicates);
      lines.push(`  ${s.file}: ${s.accepted} accepted, ${s.duplicates} duplicates, ${s.rejected} rejected, trailer ${s.trailer}`);
    }
  }
  const base = running.url;
  lines.push(
    'Look at:',
    `  ${base}/status                       is everything caught up?`,
    `  ${base}/trades                       trades, with status, versions and allocations`,
    `  ${base}/trades?status=BOOKED         only the booked ones`,
    `  ${base}/positions                    positions per account and ISIN`,
    `  ${base}/exceptions/counts            rejected lines and trade exceptions, by reason code`,
    `  ${base}/exceptions                   each one with its file, line and raw text`,
    'Ingest more with: npx kepler ingest FILE...   Stop with Ctrl-C.',
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

function stopOnSignals(running: RunningPlatform): void {
  const stop = (signal: NodeJS.Signals) => {
    process.stderr.write(`kepler: ${signal} received, stopping\n`);
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
