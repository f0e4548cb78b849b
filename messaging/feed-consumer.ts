// Consumes the CX1 feed from RabbitMQ into the event store.
//
// - Manual acknowledgements, given only after RecordWriter.write resolved, i.e.
//   after the append is durable. A crash or a lost connection before the ack
//   means redelivery; RecordWriter is idempotent, so a redelivered line is a
//   duplicate (or the same rejection, recorded once): nothing lost, nothing doubled.
// - Bounded prefetch; messages that arrive together (up to maxBatch, or within
//   batchDelayMs) go to the store in one write, then are acknowledged with one
//   multiple ack (dead-lettered ones are nacked one by one first).
// - A message that can never be processed is recorded as a LineRejected
//   UNPROCESSABLE_MESSAGE (so the exceptions read model lists it) and, once that
//   is durable, nacked without requeue: it lands in the dead-letter queue.
// - When the connection or the channel closes, or the store fails, the session
//   ends (unacknowledged messages return to the queue) and a new one starts
//   after an exponential backoff with jitter.
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { pino, type Logger } from 'pino';
import type { EventStore } from '../eventstore/index.js';
import { RecordWriter, type IntakeItem } from '../ingestion/index.js';
import {
  counter,
  countDuplicates,
  isTraceparent,
  rabbitMqAttributes,
  secondsHistogram,
  secondsSince,
  SpanKind,
  startBatchSpan,
  startChildOf,
  startEventSpan,
  traceparentOf,
  tracingEnabled,
  withinBatch,
  withSpan,
  LAG_BUCKETS,
  type Span,
} from '../telemetry/index.js';
import { backoffDelay, sleep, type BackoffOptions } from './backoff.js';
import { errorMessage, openConnection, redactUrl, type AmqpTls } from './connection.js';
import { decodeFeedMessage, type DecodedFeedMessage } from './feed-message.js';
import { DEFAULT_PREFIX, declareTopology, topologyNames, type QueueType, type Slot, type TopologyNames } from './topology.js';

export interface FeedConsumerOptions {
  /** TLS of an amqps:// URL (CA, client certificate and key). */
  tls?: AmqpTls;
  /** amqp://user:password@host:port/vhost */
  url: string;
  store: EventStore;
  /** The deployment slot: the consumer reads the slot's own feed queue. */
  slot: Slot;
  /** Name prefix of the topology (default "kepler"). */
  prefix?: string;
  /** Unacknowledged messages the broker may hand over at once (default 500). */
  prefetch?: number;
  /** Most messages per store write (default: prefetch). */
  maxBatch?: number;
  /** How long a batch waits for more messages before it is written (default 5 ms). */
  batchDelayMs?: number;
  backoff?: BackoffOptions;
  /** Declare the topology on each connection (default true). */
  declareTopology?: boolean;
  queueType?: QueueType;
  /** Shown in the management UI (default "kepler-feed-<slot>"). */
  connectionName?: string;
  logger?: Logger;
  /**
   * Called once a batch is durable in the store, before it is acknowledged
   * (metrics; tests use it to crash or cut the connection in that window).
   * A rejection ends the session, so the batch is redelivered.
   */
  onDurable?: (batch: FeedBatchReport) => void | Promise<void>;
}

export interface FeedBatchReport {
  messages: number;
  accepted: number;
  duplicates: number;
  /** Lines rejected as data (INVALID_RECORD, SOURCE_MISMATCH, SEQUENCE_CONFLICT): acknowledged. */
  rejected: number;
  /** UNPROCESSABLE_MESSAGE: recorded, then dead-lettered. */
  deadLettered: number;
  /** Messages the broker marked as redelivered. */
  redelivered: number;
}

export interface FeedConsumerStatus extends FeedBatchReport {
  name: string;
  queue: string;
  connected: boolean;
  batches: number;
  /** Sessions opened after the first one. */
  reconnects: number;
  lastError: string | null;
}

interface Session {
  connection: ChannelModel;
  channel: Channel | null;
  consuming: boolean;
  pending: ConsumeMessage[];
  timer: NodeJS.Timeout | null;
  /** Batches are written and acknowledged strictly one after the other. */
  chain: Promise<void>;
  consumerTag: string | null;
  ended: boolean;
  closed: Promise<Error | null>;
  end(reason: Error | null): void;
}

export class FeedConsumer {
  private readonly writer: RecordWriter;
  private readonly names: TopologyNames;
  private readonly queue: string;
  private readonly prefetch: number;
  private readonly maxBatch: number;
  private readonly batchDelayMs: number;
  private readonly logger: Logger;
  private readonly abort = new AbortController();
  private session: Session | null = null;
  private sessions = 0;
  private stopping = false;
  private running: Promise<void> | null = null;
  private consumingWaiters: Array<() => void> = [];
  private readonly counters: Omit<FeedConsumerStatus, 'name' | 'queue' | 'connected'> = {
    messages: 0,
    accepted: 0,
    duplicates: 0,
    rejected: 0,
    deadLettered: 0,
    redelivered: 0,
    batches: 0,
    reconnects: 0,
    lastError: null,
  };

  private readonly metrics = {
    consumed: counter('messaging.client.consumed.messages', 'Feed messages delivered to the consumer and settled', '{message}'),
    processDuration: secondsHistogram('messaging.process.duration', 'Time to make one batch of feed messages durable, from delivery to acknowledgement'),
    deadLettered: counter('kepler.feed.dead_lettered', 'Feed messages that can never be processed: recorded, then dead-lettered', '{message}'),
    lag: secondsHistogram('kepler.feed.delivery.lag', 'Now minus the feed message timestamp, at delivery (whole seconds: AMQP timestamps are)', LAG_BUCKETS),
  };
  private readonly attributes: { process: Record<string, string> };
  private readonly debug: boolean;

  constructor(private readonly options: FeedConsumerOptions) {
    this.writer = new RecordWriter(options.store);
    this.names = topologyNames(options.prefix ?? DEFAULT_PREFIX);
    this.queue = this.names.feedQueues[options.slot];
    this.prefetch = options.prefetch ?? 500;
    this.maxBatch = Math.min(options.maxBatch ?? this.prefetch, this.prefetch);
    this.batchDelayMs = options.batchDelayMs ?? 5;
    this.logger = (options.logger ?? pino({ level: 'silent' })).child({ component: 'feed-consumer', slot: options.slot, queue: this.queue });
    this.attributes = { process: { 'messaging.system': 'rabbitmq', 'messaging.destination.name': this.queue, 'messaging.operation.name': 'process' } };
    this.debug = this.logger.isLevelEnabled('debug');
  }

  get status(): FeedConsumerStatus {
    const session = this.session;
    return { name: `feed:${this.options.slot}`, queue: this.queue, connected: session !== null && session.consuming && !session.ended, ...this.counters };
  }

  /** Consumes until stop(), reconnecting as needed. Calling it again returns the same run. */
  run(): Promise<void> {
    this.running ??= this.loop();
    return this.running;
  }

  /** Resolves once the consumer is consuming (again). */
  whenConsuming(timeoutMs = 30_000): Promise<void> {
    if (this.status.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`feed consumer not consuming after ${timeoutMs} ms: ${this.counters.lastError ?? 'no error'}`)), timeoutMs);
      this.consumingWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Stops consuming, writes and acknowledges what was already delivered, and closes the connection. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    const session = this.session;
    if (session && !session.ended) {
      try {
        if (session.channel && session.consumerTag) await session.channel.cancel(session.consumerTag);
      } catch {
        // The channel is going anyway; what it held is redelivered.
      }
      this.flush(session);
      await session.chain;
      session.end(null);
    }
    await this.running;
  }

  private async loop(): Promise<void> {
    let attempt = 0;
    while (!this.stopping) {
      let session: Session | null = null;
      try {
        session = await this.open();
        attempt = 0;
        const reason = await session.closed;
        if (reason && !this.stopping) {
          this.counters.lastError = errorMessage(reason);
          this.logger.warn({ err: reason }, 'feed session ended; unacknowledged messages will be redelivered');
        }
      } catch (error) {
        session?.end(error instanceof Error ? error : new Error(String(error)));
        if (this.stopping) break;
        this.counters.lastError = errorMessage(error);
        this.logger.warn({ err: error, url: redactUrl(this.options.url) }, 'cannot consume the feed');
      } finally {
        if (session) await this.dispose(session);
        this.session = null;
      }
      if (this.stopping) break;
      attempt++;
      const delay = backoffDelay(attempt, this.options.backoff);
      this.logger.info({ attempt, delayMs: delay }, 'reconnecting to RabbitMQ');
      await sleep(delay, this.abort.signal);
    }
  }

  private async open(): Promise<Session> {
    const connection = await openConnection(this.options.url, this.options.connectionName ?? `kepler-feed-${this.options.slot}`, this.options.tls);
    let resolveClosed: (reason: Error | null) => void = () => {};
    const session: Session = {
      connection,
      channel: null,
      consuming: false,
      pending: [],
      timer: null,
      chain: Promise.resolve(),
      consumerTag: null,
      ended: false,
      closed: new Promise((resolve) => (resolveClosed = resolve)),
      end(reason) {
        if (session.ended) return;
        session.ended = true;
        if (session.timer) clearTimeout(session.timer);
        session.timer = null;
        session.pending = [];
        resolveClosed(reason);
      },
    };
    this.session = session;
    connection.on('error', (error: Error) => this.logger.warn({ err: error }, 'RabbitMQ connection error'));
    connection.on('close', (error?: Error) => session.end(error ?? new Error('connection closed')));
    try {
      const channel = await connection.createChannel();
      session.channel = channel;
      channel.on('error', (error: Error) => this.logger.warn({ err: error }, 'RabbitMQ channel error'));
      // Deferred: when the connection closes, its reason (emitted just after) says more.
      channel.on('close', () => setImmediate(() => session.end(new Error('channel closed'))));
      if (this.options.declareTopology !== false) await declareTopology(channel, this.names, { queueType: this.options.queueType ?? 'quorum' });
      await channel.prefetch(this.prefetch);
      const { consumerTag } = await channel.consume(this.queue, (message) => this.onMessage(session, message), { noAck: false });
      session.consumerTag = consumerTag;
      if (session.ended) throw new Error('the connection closed while the consumer started');
    } catch (error) {
      session.end(error instanceof Error ? error : new Error(String(error)));
      await this.dispose(session);
      this.session = null;
      throw error;
    }
    session.consuming = true;
    if (this.sessions++ > 0) this.counters.reconnects++;
    this.logger.info({ url: redactUrl(this.options.url), prefetch: this.prefetch }, 'consuming the feed');
    for (const waiter of this.consumingWaiters.splice(0)) waiter();
    return session;
  }

  private async dispose(session: Session): Promise<void> {
    session.end(null);
    // Closing the channel first waits for the broker to have handled every ack sent on it.
    await session.channel?.close().catch(() => {});
    await session.connection.close().catch(() => {});
  }

  private onMessage(session: Session, message: ConsumeMessage | null): void {
    if (message === null) {
      session.end(new Error(`the broker cancelled the consumer (was ${this.queue} deleted?)`));
      return;
    }
    if (session.ended) return; // Not acknowledged: the broker delivers it again.
    session.pending.push(message);
    if (session.pending.length >= this.maxBatch) this.flush(session);
    else session.timer ??= setTimeout(() => this.flush(session), this.batchDelayMs);
  }

  private flush(session: Session): void {
    if (session.timer) clearTimeout(session.timer);
    session.timer = null;
    if (session.pending.length === 0) return;
    const batch = session.pending.splice(0);
    session.chain = session.chain.then(() => this.process(session, batch));
  }

  /** Writes one batch and, once it is durable, settles its messages. Never rejects. */
  private async process(session: Session, batch: ConsumeMessage[]): Promise<void> {
    if (session.ended) return;
    const started = process.hrtime.bigint();
    this.recordLag(batch);
    // With tracing on: one consumer span for the batch, linked to every message's trace, and one
    // per message that carries a traceparent, whose context its events are stamped with.
    const tracing = tracingEnabled();
    const traceparents = tracing
      ? batch.map((message) => {
          const header = message.properties.headers?.traceparent;
          return isTraceparent(header) ? header : undefined;
        })
      : [];
    const batchSpan = tracing
      ? startBatchSpan(
          `process ${this.queue}`,
          traceparents.map((traceparent) => ({ metadata: traceparent ? { traceparent } : {} })),
          { ...rabbitMqAttributes('process', this.queue, {}), 'messaging.batch.message_count': batch.length },
          SpanKind.CONSUMER,
        )
      : null;
    const spans = traceparents.map((traceparent, i) => {
      const message = batch[i]!;
      return startEventSpan(
        `process ${this.queue}`,
        traceparent,
        rabbitMqAttributes('process', this.queue, {
          routingKey: message.fields.routingKey,
          ...(typeof message.properties.messageId === 'string' && { messageId: message.properties.messageId }),
          ...(typeof message.properties.correlationId === 'string' && { conversationId: message.properties.correlationId }),
        }),
        SpanKind.CONSUMER,
      );
    });
    try {
      const decoded: DecodedFeedMessage[] = batch.map((message, i) => {
        const one = decodeFeedMessage({ content: message.content, headers: message.properties.headers, messageId: message.properties.messageId });
        const span = spans[i];
        if (span && one.item.kind === 'record') one.item.traceparent = traceparentOf(span) ?? one.item.traceparent;
        return one;
      });
      const writing = Date.now();
      const outcomes = await withinBatch(batchSpan, () => this.writer.write(decoded.map((d) => d.item)));
      // The batch was one write; each traced message's trace shows its part of it.
      spans.forEach((span, i) => {
        if (span) appendSpan(span, decoded[i]!.item, writing);
      });
      const report: FeedBatchReport = { messages: batch.length, accepted: 0, duplicates: 0, rejected: 0, deadLettered: 0, redelivered: 0 };
      outcomes.forEach((outcome, i) => {
        if (decoded[i]!.settle === 'dead-letter') report.deadLettered++;
        else if (outcome === 'accepted') report.accepted++;
        else if (outcome === 'duplicate') {
          report.duplicates++;
          const item = decoded[i]!.item;
          if (item.source) countDuplicates(item.source, 1);
        } else report.rejected++;
        if (batch[i]!.fields.redelivered) report.redelivered++;
        if (this.debug) withSpan(spans[i] ?? null, () => this.logger.debug(messageLogFields(batch[i]!, decoded[i]!, outcome), 'feed message taken'));
      });
      for (const key of ['messages', 'accepted', 'duplicates', 'rejected', 'deadLettered', 'redelivered'] as const) this.counters[key] += report[key];
      this.counters.batches++;
      this.logger.debug(report, 'feed batch durable');
      await this.options.onDurable?.(report);
      const channel = session.channel;
      if (session.ended || !channel) return; // Cannot acknowledge on a dead channel: redelivered, then found duplicate.
      let lastAck: ConsumeMessage | null = null;
      for (let i = 0; i < batch.length; i++) {
        if (decoded[i]!.settle === 'dead-letter') channel.nack(batch[i]!, false, false);
        else lastAck = batch[i]!;
      }
      if (lastAck) channel.ack(lastAck, true);
      this.metrics.consumed.add(batch.length, this.attributes.process);
      if (report.deadLettered > 0) this.metrics.deadLettered.add(report.deadLettered);
      this.metrics.processDuration.record(secondsSince(started), this.attributes.process);
    } catch (error) {
      this.logger.error({ err: error }, 'feed batch failed; it will be redelivered');
      session.end(error instanceof Error ? error : new Error(String(error)));
    } finally {
      for (const span of spans) span?.end();
    }
  }

  /** Delivery lag: now minus the message's timestamp property, where the publisher set one. */
  private recordLag(batch: readonly ConsumeMessage[]): void {
    const now = Date.now() / 1000;
    for (const message of batch) {
      const timestamp = message.properties.timestamp as unknown;
      if (typeof timestamp === 'number' && timestamp > 0) this.metrics.lag.record(Math.max(0, now - timestamp));
    }
  }

}

/** What one feed message's log line says: which message, file and line, which trade, and what became of it. */
function messageLogFields(message: ConsumeMessage, decoded: DecodedFeedMessage, outcome: string) {
  const { item } = decoded;
  const tradeRef = item.kind === 'record' ? item.record.tradeRef : item.tradeRef;
  return {
    ...(typeof message.properties.messageId === 'string' && { message_id: message.properties.messageId }),
    ...(tradeRef && { correlation_id: tradeRef }),
    file: item.file,
    ...(item.line !== null && { line: item.line }),
    outcome: decoded.settle === 'dead-letter' ? 'dead-lettered' : outcome,
  };
}

/** The append of one message's line, as a span of the message's trace (the batch's write, timed as a whole). */
function appendSpan(parent: Span, item: IntakeItem, startedAt: number): void {
  const stream = item.kind === 'record' ? `${item.source.toLowerCase()}-${item.sourceSequence}` : 'rejection';
  startChildOf(parent, `append ${stream}`, { 'db.operation.name': 'append_many', 'kepler.stream': stream }, SpanKind.CLIENT, startedAt).end();
}
