// What `kepler ingest` loads once its intake has started (ingest.ts): the store
// it writes to, telemetry and the log, and the run itself.
import type { Logger } from 'pino';
import type { EventStore } from '../../eventstore/index.js';
import { FileIngestor, UnreadableFilesError, type FileIngestionSummary, type StartedIntake } from '../../ingestion/index.js';
import type { KeplerConfig } from '../config.js';
import { closeLogShipping, countDuplicates, observePlatformState, serviceIdentity, startTelemetry, stopTelemetry, telemetryConfigured, type TelemetryStatus } from '../../telemetry/index.js';
import { createLogger } from '../logger.js';
import { packageVersion } from '../package-root.js';
import { openEventStore, waitingOptions } from '../stores.js';

/** A run whose files could not all be read, or whose intake could not start: its exit code. */
export async function notStarted(error: unknown): Promise<number> {
  const code = error instanceof UnreadableFilesError ? refused(error) : failed(createLogger('kepler-ingest', { roles: ['ingest'] }), error);
  await closeLogShipping();
  return code;
}

/** Ingests a started intake into the configured store; returns the process exit code. */
export async function ingestStarted(config: KeplerConfig, intake: StartedIntake, options: { json: boolean }): Promise<number> {
  const logger = createLogger('kepler-ingest', { roles: ['ingest'] });
  let telemetry: TelemetryStatus | null = null;
  let stopObserving: (() => void) | null = null;
  let store: EventStore;
  try {
    // Nobody scrapes a CLI run: what it measured is pushed over OTLP when asked for (OTEL_METRICS_EXPORTER=otlp), as it exits.
    telemetry = telemetryConfigured() ? await startTelemetry(serviceIdentity({ version: packageVersion(), roles: ['ingest'] })) : null;
    stopObserving = telemetry ? observePlatformState(null) : null;
    store = await openEventStore(config.eventStore, waitingOptions(config, logger));
  } catch (error) {
    // The intake's thread would keep the process alive: the error is told by the CLI.
    await intake.cancel();
    throw error;
  }
  try {
    const ingestor = new FileIngestor(store);
    const fileLog = filesLogger(logger);
    for await (const summary of ingestor.ingestAll(intake)) {
      if (summary.source) countDuplicates(summary.source, summary.duplicates);
      fileLog.info({ file: summary.file, source: summary.source, lines: summary.lines, accepted: summary.accepted, duplicates: summary.duplicates, rejected: summary.rejected, trailer: summary.trailer }, 'file ingested');
      process.stdout.write(options.json ? `${JSON.stringify(summary)}\n` : describe(summary));
    }
    return 0;
  } catch (error) {
    return failed(logger, error);
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

/**
 * The logger of the run's per-file lines: the same destination, fields and hooks (a password in
 * a URL or a bearer token is still cut from the line as it is written), without pino's path
 * redaction. A file's line holds its name and its counts, keys that no redaction path names and
 * values that hold no object, so the paths can redact nothing in it; yet they were the most of
 * what a file cost the writing thread (every path parsed again at each line, the wildcard ones
 * walking it: about 250,000 of the 450,000 instructions of a file's log line, BENCHMARKS.md,
 * fifteenth session). Errors and every other line keep the redaction.
 */
function filesLogger(logger: Logger): Logger {
  return logger.child({}, { redact: [] });
}

function failed(logger: Logger, error: unknown): number {
  logger.error({ err: error }, 'ingestion failed');
  process.stderr.write(`kepler ingest: ${(error as Error).message}\n`);
  return 1;
}

/** Every file of the run that cannot be read, with its reason: exit status 2, nothing was ingested. */
function refused(error: UnreadableFilesError): number {
  for (const { path, reason } of error.unreadable) process.stderr.write(`kepler ingest: cannot read ${path}: ${reason}\n`);
  process.stderr.write('kepler ingest: nothing was ingested\n');
  return 2;
}

function describe(s: FileIngestionSummary): string {
  const header = s.source ? `${s.source} ${s.businessDate} #${s.fileNumber}` : 'no valid header';
  return `${s.file} (${header}): ${s.lines} lines, ${s.accepted} accepted, ${s.duplicates} duplicates, ${s.rejected} rejected, trailer ${s.trailer}\n`;
}
