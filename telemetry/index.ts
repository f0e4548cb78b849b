// Tracing: off unless configured with the standard OpenTelemetry variables
// (OTEL_TRACES_EXPORTER=otlp|console, OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME).
// Whether or not it is on, Kepler carries the W3C trace context of what it is
// given into the events it appends, so a trace survives the event store and RabbitMQ.
import { context, propagation, SpanStatusCode, trace, type Context } from '@opentelemetry/api';
import type { NodeSDK } from '@opentelemetry/sdk-node';

let sdk: NodeSDK | null = null;

export async function startTelemetry(serviceName: string): Promise<void> {
  const configured = process.env.OTEL_TRACES_EXPORTER ?? (process.env.OTEL_EXPORTER_OTLP_ENDPOINT ? 'otlp' : undefined);
  if (!configured || configured === 'none' || sdk) return;
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  sdk = new NodeSDK({ serviceName: process.env.OTEL_SERVICE_NAME ?? serviceName });
  sdk.start();
}

export async function stopTelemetry(): Promise<void> {
  await sdk?.shutdown();
  sdk = null;
}

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

export function isTraceparent(value: unknown): value is string {
  return typeof value === 'string' && TRACEPARENT.test(value);
}

/**
 * Runs `work` in a span that continues the caller's trace (its `traceparent`
 * header), and hands it the traceparent to stamp on the events it appends: the
 * span's own when tracing is on, else the caller's as it came.
 */
export async function inSpan<T>(name: string, headers: Record<string, unknown>, work: (traceparent: string | undefined) => Promise<T>): Promise<T> {
  const incoming = isTraceparent(headers.traceparent) ? headers.traceparent : undefined;
  const parent: Context = propagation.extract(context.active(), headers);
  return trace.getTracer('kepler').startActiveSpan(name, {}, parent, async (span) => {
    try {
      const carrier: Record<string, string> = {};
      propagation.inject(context.active(), carrier);
      return await work(isTraceparent(carrier.traceparent) ? carrier.traceparent : incoming);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}
