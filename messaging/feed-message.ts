// The CX1-over-AMQP message contract, both ways: building a message from a
// feed line, and turning a delivered message into what file ingestion makes of
// the same line.
//
// One message = one CX1 detail line:
//   body     the line, ASCII, exactly as in the file, without its terminator
//            (one trailing LF or CRLF is tolerated and removed)
//   headers  x-source  CORE | ALLOC | CUSTODY   (what the file's HDR says)
//            x-file    the file name the line belongs to (no directory)
//            x-line    the line's 1-based line number in that file (integer,
//                      or a string of digits)
//   routing key on the feed exchange: the source in lower case (core, alloc,
//            custody); Kepler reads the source from x-source only.
// There is no header or trailer record over AMQP, hence no trailer check.
//
// A message whose headers are missing or invalid can never be processed: it is
// recorded as a LineRejected UNPROCESSABLE_MESSAGE and dead-lettered. A message
// with valid headers is a feed line: it is classified exactly as the same line
// at the same place of a file from that source (INVALID_RECORD, SOURCE_MISMATCH,
// then SEQUENCE_CONFLICT or duplicate in the RecordWriter), and acknowledged.
import { createHash } from 'node:crypto';
import type { Options } from 'amqplib';
import { FEED_SOURCES, type FeedSource } from '../domain/index.js';
import { Cx1FileClassifier, formatHeader, MAX_LINE_LENGTH, tradeRefOf } from '../ingestion/cx1/index.js';
import type { IntakeItem } from '../ingestion/index.js';
import { isTraceparent } from '../telemetry/index.js';

export const FEED_HEADERS = { source: 'x-source', file: 'x-file', line: 'x-line' } as const;

/** Longest x-file accepted. */
const MAX_FILE_NAME_LENGTH = 255;

/** A feed line as the legacy systems publish it. */
export interface FeedLineMessage {
  source: FeedSource;
  file: string;
  line: number;
  /** The line, without its terminator. */
  raw: string;
}

export interface OutgoingMessage {
  routingKey: string;
  content: Buffer;
  options: Options.Publish;
}

/** The AMQP message for one feed line. */
export function feedLineMessage(line: FeedLineMessage): OutgoingMessage {
  return {
    routingKey: line.source.toLowerCase(),
    content: Buffer.from(line.raw, 'latin1'),
    options: {
      persistent: true,
      contentType: 'text/plain',
      messageId: `${line.file}:${line.line}`,
      // Seconds, as AMQP has it: what the consumer's delivery lag is measured from.
      timestamp: Math.floor(Date.now() / 1000),
      headers: { [FEED_HEADERS.source]: line.source, [FEED_HEADERS.file]: line.file, [FEED_HEADERS.line]: line.line },
    },
  };
}

/** What a delivered message becomes, and how to settle it once that is durable. */
export interface DecodedFeedMessage {
  item: IntakeItem;
  /** ack: the line was taken (accepted, duplicate or rejected as data). dead-letter: it can never be processed. */
  settle: 'ack' | 'dead-letter';
}

export interface IncomingMessage {
  content: Buffer;
  headers?: Record<string, unknown> | undefined;
  messageId?: unknown;
}

/** A synthetic, valid header: the classifier then sees the line as a detail line of a file from `source`. */
const SYNTHETIC_HEADERS = Object.fromEntries(
  FEED_SOURCES.map((source) => [source, formatHeader({ source, businessDate: '2000-01-01', fileNumber: '0' })]),
) as Record<FeedSource, string>;

export function decodeFeedMessage(message: IncomingMessage): DecodedFeedMessage {
  const { text, truncatedLength } = bodyText(message.content);
  const headers = message.headers ?? {};
  const source = readSource(headers[FEED_HEADERS.source]);
  const file = readFile(headers[FEED_HEADERS.file]);
  const line = readLine(headers[FEED_HEADERS.line]);
  const problems = [source, file, line].flatMap((h) => ('problem' in h ? [h.problem] : []));

  if ('problem' in source || 'problem' in file || 'problem' in line) {
    return {
      settle: 'dead-letter',
      item: {
        kind: 'rejection',
        source: 'value' in source ? source.value : null,
        file: 'value' in file ? file.value : `amqp-message:${digest(message, text)}`,
        line: 'value' in line ? line.value : null,
        raw: text,
        code: 'UNPROCESSABLE_MESSAGE',
        detail: `unprocessable AMQP message: ${problems.join('; ')}`,
        tradeRef: tradeRefOf(text),
      },
    };
  }

  // The file classifier itself decides, so the codes and details are those of file ingestion.
  const classifier = new Cx1FileClassifier();
  classifier.classify({ lineNo: 1, text: SYNTHETIC_HEADERS[source.value] });
  const outcome = classifier.classify({ lineNo: line.value, text, ...(truncatedLength !== undefined && { truncatedLength }) });
  const traceparent = isTraceparent(headers.traceparent) ? headers.traceparent : undefined;
  const base = { source: source.value, file: file.value, line: line.value, raw: text, ...(traceparent && { traceparent }) };
  if (outcome === null) {
    // A valid trailer: in a file it ends the details; over AMQP there are no trailers.
    return {
      settle: 'ack',
      item: { kind: 'rejection', ...base, code: 'INVALID_RECORD', detail: 'trailer (TRL) record where a detail record was expected: the AMQP feed carries detail lines only', tradeRef: null },
    };
  }
  if (outcome.kind === 'rejected') {
    return { settle: 'ack', item: { kind: 'rejection', ...base, code: outcome.code, detail: outcome.detail, tradeRef: outcome.tradeRef } };
  }
  return { settle: 'ack', item: { kind: 'record', ...base, sourceSequence: outcome.sourceSequence, record: outcome.record } };
}

/** latin1, one byte one character, as the file reader decodes; one terminator dropped; capped like a file line. */
function bodyText(content: Buffer): { text: string; truncatedLength?: number } {
  let end = content.length;
  if (end > 0 && content[end - 1] === 0x0a) {
    end--;
    if (end > 0 && content[end - 1] === 0x0d) end--;
  }
  if (end > MAX_LINE_LENGTH) return { text: content.toString('latin1', 0, MAX_LINE_LENGTH), truncatedLength: end };
  return { text: content.toString('latin1', 0, end) };
}

type Header<T> = { value: T } | { problem: string };

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Buffer.isBuffer(value)) return 'a byte array';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}

function readSource(value: unknown): Header<FeedSource> {
  if (value === undefined || value === null) return { problem: `missing header ${FEED_HEADERS.source}` };
  const found = FEED_SOURCES.find((source) => source === value);
  return found ? { value: found } : { problem: `invalid header ${FEED_HEADERS.source} ${describe(value)} (expected ${FEED_SOURCES.join(', ')})` };
}

function readFile(value: unknown): Header<string> {
  if (value === undefined || value === null) return { problem: `missing header ${FEED_HEADERS.file}` };
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_FILE_NAME_LENGTH || !/^[\x21-\x7e][\x20-\x7e]*$/.test(value) || /[/\\]/.test(value)) {
    return { problem: `invalid header ${FEED_HEADERS.file} ${describe(value)} (expected a file name: printable ASCII, no directory, at most ${MAX_FILE_NAME_LENGTH} characters)` };
  }
  return { value };
}

function readLine(value: unknown): Header<number> {
  if (value === undefined || value === null) return { problem: `missing header ${FEED_HEADERS.line}` };
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) return { problem: `invalid header ${FEED_HEADERS.line} ${describe(value)} (expected a line number, a whole number from 1)` };
  return { value: n };
}

/** Names an unattributable message by its content, so a redelivery records the same exception. */
function digest(message: IncomingMessage, text: string): string {
  const headers = message.headers ?? {};
  const parts = [FEED_HEADERS.source, FEED_HEADERS.file, FEED_HEADERS.line].map((name) => {
    const value = headers[name];
    return Buffer.isBuffer(value) ? `bytes:${value.toString('hex')}` : typeof value === 'string' || typeof value === 'number' ? value : typeof value;
  });
  return createHash('sha256')
    .update(JSON.stringify([typeof message.messageId === 'string' ? message.messageId : null, ...parts, text]))
    .digest('hex')
    .slice(0, 16);
}
