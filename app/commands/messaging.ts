import { basename } from 'node:path';
import { serviceIdentity, startTelemetry, stopTelemetry, telemetryConfigured } from '../../telemetry/index.js';
import type { KeplerConfig } from '../config.js';
import { packageVersion } from '../package-root.js';
import { amqpTls } from '../stores.js';

/** `kepler publish FILE...`: sends each detail line of CX1 files to the feed exchange, one message per line. */
export async function publishCommand(config: KeplerConfig, files: string[], options: { json: boolean }): Promise<number> {
  if (!config.amqp) {
    process.stderr.write('kepler publish: set KEPLER_AMQP_URL (or amqp.url in the config file)\n');
    return 2;
  }
  const { declareTopology, openConnection, publishFile, topologyNames, UnpublishableFileError } = await import('../../messaging/index.js');
  const tls = await amqpTls(config.amqp);
  // With tracing on, each line's message starts a trace (a producer span) that Kepler carries on.
  const traced = telemetryConfigured() ? await startTelemetry(serviceIdentity({ version: packageVersion(), roles: ['publish'], slot: config.amqp.slot })) : null;
  const connection = await openConnection(config.amqp.url, 'kepler-publish', tls).catch(async (error: unknown) => {
    if (traced) await stopTelemetry();
    throw error;
  });
  try {
    const channel = await connection.createConfirmChannel();
    const names = topologyNames(config.amqp.prefix);
    await declareTopology(channel, names);
    for (const file of files) {
      try {
        const summary = await publishFile(channel, names.feedExchange, file);
        process.stdout.write(options.json ? `${JSON.stringify(summary)}\n` : `${summary.file} (${summary.source}): ${summary.published} lines published\n`);
      } catch (error) {
        if (!(error instanceof UnpublishableFileError) && (error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        process.stderr.write(`kepler publish: ${basename(file)}: ${(error as Error).message}\n`);
        return 2;
      }
    }
    return 0;
  } finally {
    await connection.close();
    if (traced) await stopTelemetry();
  }
}
