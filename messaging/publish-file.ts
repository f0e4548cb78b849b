// Publishes a CX1 file's detail lines as feed messages: what a legacy system
// publishing over AMQP does, for tests and for `kepler publish`.
import { once } from 'node:events';
import { basename } from 'node:path';
import type { ConfirmChannel } from 'amqplib';
import type { FeedSource } from '../domain/index.js';
import { Cx1FileClassifier, MAX_LINE_LENGTH, readLineBatches, type TrailerStatus } from '../ingestion/cx1/index.js';
import { rabbitMqAttributes, SpanKind, startRootSpan, traceparentOf } from '../telemetry/index.js';
import { feedLineMessage } from './feed-message.js';

export interface PublishFileSummary {
  file: string;
  source: FeedSource;
  /** Detail lines published, one message each. */
  published: number;
  /** What file ingestion would report for the trailer; over AMQP it is not checked. */
  trailer: TrailerStatus;
}

/** A file that cannot be expressed as feed messages without changing what it means. */
export class UnpublishableFileError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`cannot publish ${path} as feed messages: ${reason}; ingest it as a file instead`);
    this.name = 'UnpublishableFileError';
  }
}

export interface PublishFileOptions {
  /** Messages between two waits for confirms (default 1000). */
  confirmEvery?: number;
}

/**
 * Publishes every line between the header and the trailer (valid or not) with
 * its file name and line number, and returns once the broker confirmed them
 * all. The header and a valid trailer are not published. A file without a
 * valid header (no source to name), or with lines after its trailer (which a
 * file rejects for their position alone), is refused before anything is
 * published. Lines longer than 1 MiB are sent cut to 1 MiB.
 */
export async function publishFile(channel: ConfirmChannel, exchange: string, path: string, options: PublishFileOptions = {}): Promise<PublishFileSummary> {
  const file = basename(path);
  const classifier = new Cx1FileClassifier();
  let lastLine = 0;
  for await (const lines of readLineBatches(path)) {
    for (const line of lines) {
      classifier.classify(line);
      lastLine = line.lineNo;
    }
  }
  const source = classifier.header?.source;
  const summary = classifier.finish();
  if (!source) throw new UnpublishableFileError(path, 'no valid header (HDR) on line 1');
  const trailerLine = summary.trailerLine?.lineNo ?? null;
  if (trailerLine !== null && lastLine > trailerLine) {
    throw new UnpublishableFileError(path, `lines after the trailer (TRL on line ${trailerLine})`);
  }

  const confirmEvery = options.confirmEvery ?? 1000;
  let published = 0;
  for await (const lines of readLineBatches(path, { maxLineLength: 16 * MAX_LINE_LENGTH })) {
    for (const line of lines) {
      if (line.lineNo === 1 || line.lineNo === trailerLine) continue;
      const message = feedLineMessage({ source, file, line: line.lineNo, raw: line.text });
      const span = startRootSpan(`publish ${exchange}`, rabbitMqAttributes('publish', exchange, { routingKey: message.routingKey, messageId: String(message.options.messageId) }), SpanKind.PRODUCER);
      if (span) message.options.headers = { ...message.options.headers, traceparent: traceparentOf(span) };
      const flowing = channel.publish(exchange, message.routingKey, message.content, message.options);
      span?.end();
      if (!flowing) {
        await Promise.race([once(channel, 'drain'), once(channel, 'close')]);
      }
      if (++published % confirmEvery === 0) await channel.waitForConfirms();
    }
  }
  await channel.waitForConfirms();
  return { file, source, published, trailer: summary.trailer };
}
