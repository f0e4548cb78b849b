// Traces. Whether or not tracing is on, Kepler carries the W3C trace context of
// what it is given into the events it appends, so a trace survives the event
// store and RabbitMQ. With tracing on (see sdk.ts):
//
// - a command gets a server span, and the events it appends carry its context;
// - a follower of the store (processor, projection, publisher) handles each
//   batch in one span that LINKS to the stored context of every event in it (a
//   batch has many parents, a span one), and handles each event that carries a
//   context in a span parented on it; what that handling appends carries the
//   handling span's context, so one trace runs from the command (or the feed
//   message) through the trade processor, the booking manager and the
//   projections to the published integration event;
// - RabbitMQ spans follow the messaging conventions: "{operation} {destination}",
//   producer and consumer kinds, messaging.system, destination, routing key,
//   message id and conversation id.
//
// Events that carry no context (a file ingested by the CLI, say) get no span of
// their own: the batch span covers them, and tracing costs nothing per event.
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';
import { tracingEnabled } from './sdk.js';

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

export function isTraceparent(value: unknown): value is string {
  return typeof value === 'string' && TRACEPARENT.test(value);
}

function tracer() {
  return trace.getTracer('kepler');
}

/** The context a stored or received traceparent names. */
export function contextOf(traceparent: string | undefined, base: Context = ROOT_CONTEXT): Context {
  return traceparent ? propagation.extract(base, { traceparent }) : base;
}

/** The traceparent of a span, to stamp on what it appends or sends. */
export function traceparentOf(span: Span): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), carrier);
  return isTraceparent(carrier.traceparent) ? carrier.traceparent : undefined;
}

function ended<T>(span: Span, work: () => Promise<T>): Promise<T> {
  return work().then(
    (result) => {
      span.end();
      return result;
    },
    (error: unknown) => {
      failed(span, error);
      span.end();
      throw error;
    },
  );
}

export function failed(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : new Error(String(error)));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/**
 * Runs `work` in a span that continues the active span, or else the caller's
 * trace (its `traceparent` header), and hands it the traceparent to stamp on
 * the events it appends: the span's own when tracing is on, else the caller's
 * as it came.
 */
export async function inSpan<T>(name: string, headers: Record<string, unknown>, work: (traceparent: string | undefined) => Promise<T>, attributes: Attributes = {}): Promise<T> {
  const incoming = isTraceparent(headers.traceparent) ? headers.traceparent : undefined;
  if (!tracingEnabled()) return work(incoming);
  const active = context.active();
  const parent = trace.getSpan(active) ? active : contextOf(incoming, active);
  const span = tracer().startSpan(name, { attributes }, parent);
  return context.with(trace.setSpan(parent, span), () => ended(span, () => work(traceparentOf(span) ?? incoming)));
}

/** One span per batch of a follower, linked to every distinct context its events carry. */
export function startBatchSpan(name: string, events: ReadonlyArray<{ metadata: { traceparent?: string } }>, attributes: Attributes, kind: SpanKind = SpanKind.INTERNAL): Span | null {
  if (!tracingEnabled()) return null;
  const links: Link[] = [];
  const seen = new Set<string>();
  for (const event of events) {
    const traceparent = event.metadata.traceparent;
    if (!traceparent || seen.has(traceparent)) continue;
    seen.add(traceparent);
    const linked = trace.getSpanContext(contextOf(traceparent));
    if (linked) links.push({ context: linked });
  }
  return tracer().startSpan(name, { kind, links, attributes: { ...attributes, 'kepler.batch.events': events.length } }, ROOT_CONTEXT);
}

/** Runs `work` with the batch span active (appends made in it become its children); without one, as is. */
export function withinBatch<T>(span: Span | null, work: () => Promise<T>): Promise<T> {
  if (!span) return work();
  return context.with(trace.setSpan(ROOT_CONTEXT, span), () => ended(span, work));
}

/**
 * The handling of one event, parented on the context it was stored with; null
 * (and nothing to pay) when tracing is off or the event carries no context.
 * The caller ends the span, and stamps `traceparentOf(span)` on what it appends.
 */
export function startEventSpan(name: string, traceparent: string | undefined, attributes: Attributes, kind: SpanKind = SpanKind.INTERNAL): Span | null {
  if (!traceparent || !tracingEnabled()) return null;
  return tracer().startSpan(name, { kind, attributes }, contextOf(traceparent));
}

/** Runs `work` (synchronous) with `span` active, so the log lines it writes carry its trace id. */
export function withSpan<T>(span: Span | null, work: () => T): T {
  return span ? context.with(trace.setSpan(context.active(), span), work) : work();
}

/** Starts a span as a child of whatever is active, when tracing is on and something is. */
export function startChildSpan(name: string, attributes: Attributes, kind: SpanKind = SpanKind.INTERNAL): Span | null {
  if (!tracingEnabled()) return null;
  const active = context.active();
  if (!trace.getSpan(active)) return null;
  return tracer().startSpan(name, { kind, attributes }, active);
}

/** A child of `parent`, from `startTime` (epoch ms) when given. */
export function startChildOf(parent: Span, name: string, attributes: Attributes, kind: SpanKind = SpanKind.INTERNAL, startTime?: number): Span {
  return tracer().startSpan(name, { kind, attributes, ...(startTime !== undefined && { startTime }) }, trace.setSpan(ROOT_CONTEXT, parent));
}

/** A span that starts a trace (a message a CLI publishes, say), when tracing is on. */
export function startRootSpan(name: string, attributes: Attributes, kind: SpanKind = SpanKind.INTERNAL): Span | null {
  return tracingEnabled() ? tracer().startSpan(name, { kind, attributes }, ROOT_CONTEXT) : null;
}

/** Messaging semantic-convention attributes for RabbitMQ. */
export function rabbitMqAttributes(operation: 'publish' | 'process', destination: string, message: { routingKey?: string; messageId?: string; conversationId?: string }): Attributes {
  return {
    'messaging.system': 'rabbitmq',
    'messaging.operation.name': operation,
    'messaging.operation.type': operation === 'publish' ? 'send' : 'process',
    'messaging.destination.name': destination,
    ...(message.routingKey !== undefined && { 'messaging.rabbitmq.destination.routing_key': message.routingKey }),
    ...(message.messageId !== undefined && { 'messaging.message.id': message.messageId }),
    ...(message.conversationId !== undefined && { 'messaging.message.conversation_id': message.conversationId }),
  };
}

export { SpanKind, type Span };
