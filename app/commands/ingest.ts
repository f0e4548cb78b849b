import { access, constants } from 'node:fs/promises';
import { FileIngestor, type FileIngestionSummary } from '../../ingestion/index.js';
import type { KeplerConfig } from '../config.js';
import { closeLogShipping, countDuplicates, observePlatformState, serviceIdentity, startTelemetry, stopTelemetry, telemetryConfigured } from '../../telemetry/index.js';
import { createLogger } from '../logger.js';
import { packageVersion } from '../package-root.js';
import { openEventStore, waitingOptions } from '../stores.js';

/** Returns the process exit code: rejected lines are data, only unreadable files fail. */
export async function ingestCommand(config: KeplerConfig, files: string[], options: { json: boolean }): Promise<number> {
  const unreadable = await unreadableFiles(files);
  if (unreadable.length > 0) {
    for (const { file, reason } of unreadable) process.stderr.write(`kepler ingest: cannot read ${file}: ${reason}\n`);
    process.stderr.write('kepler ingest: nothing was ingested\n');
    return 2;
  }
  const logger = createLogger('kepler-ingest', { roles: ['ingest'] });
  // Nobody scrapes a CLI run: what it measured is pushed over OTLP when asked for (OTEL_METRICS_EXPORTER=otlp), as it exits.
  const telemetry = telemetryConfigured() ? await startTelemetry(serviceIdentity({ version: packageVersion(), roles: ['ingest'] })) : null;
  const stopObserving = telemetry ? observePlatformState(null) : null;
  const store = await openEventStore(config.eventStore, waitingOptions(config, logger));
  try {
    const ingestor = new FileIngestor(store, { parseOnThread: true });
    for await (const summary of ingestor.ingestAll(files)) {
      if (summary.source) countDuplicates(summary.source, summary.duplicates);
      logger.info({ file: summary.file, source: summary.source, lines: summary.lines, accepted: summary.accepted, duplicates: summary.duplicates, rejected: summary.rejected, trailer: summary.trailer }, 'file ingested');
      process.stdout.write(options.json ? `${JSON.stringify(summary)}\n` : describe(summary));
    }
    return 0;
  } catch (error) {
    logger.error({ err: error }, 'ingestion failed');
    process.stderr.write(`kepler ingest: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await store.close();
    if (telemetry) {
      // The last push (at shutdown) reads the figures: only then let go of them.
      await stopTelemetry();
      stopObserving?.();
    }
    await closeLogShipping();
  }
}

/** In the run's order; checked all at once, not one round trip through libuv's pool after another. */
async function unreadableFiles(files: string[]): Promise<Array<{ file: string; reason: string }>> {
  const checks = await Promise.allSettled(files.map((file) => access(file, constants.R_OK)));
  return checks.flatMap((check, index) => {
    if (check.status === 'fulfilled') return [];
    const error: unknown = check.reason;
    const code = (error as NodeJS.ErrnoException).code;
    return [{ file: files[index]!, reason: code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(error) }];
  });
}

function describe(s: FileIngestionSummary): string {
  const header = s.source ? `${s.source} ${s.businessDate} #${s.fileNumber}` : 'no valid header';
  return `${s.file} (${header}): ${s.lines} lines, ${s.accepted} accepted, ${s.duplicates} duplicates, ${s.rejected} rejected, trailer ${s.trailer}\n`;
}
