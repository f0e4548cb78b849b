// Structured log lines: who wrote them (service, version, environment, slot,
// roles), in which trace (trace_id, span_id of the active span), and, where a
// line is about an event or a message, which trade and which input
// (correlation_id = the trade reference, causation_id, message_id, stream,
// event_type, file, line). The same line goes to stderr and, when configured,
// to Splunk HEC (hec.ts).
import { hostname } from 'node:os';
import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { HecShipper, hecOptionsFromEnv, logShippers } from './hec.js';
import { logBaseFields, type ServiceIdentity } from './identity.js';

/** trace_id and span_id of the active span, when there is one. (A new object each time: pino merges into it.) */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const spanContext = span.spanContext();
  return isSpanContextValid(spanContext) ? { trace_id: spanContext.traceId, span_id: spanContext.spanId } : {};
}

/** The fields that say which trade and which input a line is about. */
export interface EventLogFields {
  correlation_id?: string;
  causation_id?: string;
  message_id?: string;
  stream?: string;
  event_type?: string;
  file?: string;
  line?: number;
}

/** For a line about a stored event: its trade, its cause, its id (also the integration message-id), stream, type, file and line. */
export function eventLogFields(event: {
  id: string;
  type: string;
  stream?: string;
  metadata: { correlationId: string; causationId?: string; file?: string; line?: number };
}): EventLogFields {
  const { correlationId, causationId, file, line } = event.metadata;
  return {
    correlation_id: correlationId,
    ...(causationId !== undefined && { causation_id: causationId }),
    message_id: event.id,
    ...(event.stream !== undefined && { stream: event.stream }),
    event_type: event.type,
    ...(file !== undefined && { file }),
    ...(line !== undefined && { line }),
  };
}

export interface KeplerLogger {
  logger: Logger;
  /** The HEC shipper, when KEPLER_SPLUNK_HEC_URL is set. */
  shipper: HecShipper | null;
}

/**
 * A pino logger writing JSON lines to stderr (stdout stays free for command
 * output such as `ingest --json`) and, when KEPLER_SPLUNK_HEC_URL is set, to
 * Splunk HEC as well.
 */
export function createKeplerLogger(name: string, identity: ServiceIdentity, options: LoggerOptions = {}, env: NodeJS.ProcessEnv = process.env): KeplerLogger {
  const base = logBaseFields(identity);
  const settings: LoggerOptions = {
    name,
    level: env.KEPLER_LOG_LEVEL ?? 'info',
    base: { pid: process.pid, hostname: hostname(), ...base },
    mixin: traceFields,
    ...options,
  };
  const stderr = pino.destination({ fd: 2, sync: false });
  const hec = hecOptionsFromEnv(env, {
    'service.name': identity.name,
    'deployment.environment': identity.environment,
    slot: identity.slot,
  });
  if (!hec) return { logger: pino(settings, stderr), shipper: null };
  const shipper = new HecShipper(hec);
  const streams = pino.multistream([{ stream: stderr as DestinationStream, level: 'trace' }, { stream: shipper, level: 'trace' }]);
  return { logger: pino(settings, streams), shipper };
}

/** Sends what every log shipper of this process (or thread) holds, and stops them: on SIGTERM, before exiting. */
export async function closeLogShipping(timeoutMs = 5000): Promise<void> {
  await Promise.all([...logShippers()].map((shipper) => shipper.close(timeoutMs)));
}
