// Publishes Kepler's domain events as integration events, at least once.
//
// The event store is the outbox: the publisher follows it from a durable
// checkpoint ("publisher:<slot>"), publishes each batch on a confirm channel to
// its slot's events exchange, waits for the broker's confirms, and only then
// stores the checkpoint. A crash or a lost connection in between means the
// batch is published again from the checkpoint: consumers deduplicate by
// message-id, which is the event id.
import { once } from 'node:events';
import type { ChannelModel, ConfirmChannel, Options } from 'amqplib';
import { pino, type Logger } from 'pino';
import type { EventStore, RecordedEvent, Subscription } from '../eventstore/index.js';
import {
  counter,
  eventLogFields,
  FollowerMetrics,
  rabbitMqAttributes,
  secondsHistogram,
  secondsSince,
  SpanKind,
  startBatchSpan,
  startEventSpan,
  traceparentOf,
  tracingEnabled,
  withinBatch,
  withSpan,
} from '../telemetry/index.js';
import { backoffDelay, sleep, type BackoffOptions } from './backoff.js';
import { errorMessage, openConnection, redactUrl, type AmqpTls } from './connection.js';
import { DEFAULT_PREFIX, declareTopology, otherSlot, SLOT_HEADER, topologyNames, type QueueType, type Slot, type TopologyNames } from './topology.js';

/**
 * Domain event type -> routing key on the events exchange. Events not listed
 * stay inside Kepler: the received records (the feed itself) and the booking
 * process manager's bookkeeping (…Noted, FeedRecordOutranked).
 */
export const INTEGRATION_ROUTING_KEYS: Readonly<Record<string, string>> = {
  VersionApplied: 'trade.version-applied',
  VersionPending: 'trade.version-pending',
  TradeCancelled: 'trade.cancelled',
  TradeBooked: 'trade.booked',
  BookingReversed: 'booking.reversed',
  BookedAllocationsChanged: 'booking.allocations-changed',
  HoldPlaced: 'booking.hold-placed',
  HoldReleased: 'booking.hold-released',
  VersionConflictDetected: 'exception.version-conflict',
  VersionRejectedAfterCancellation: 'exception.trade-cancelled',
  LineRejected: 'exception.line-rejected',
  TrailerMismatched: 'exception.trailer-mismatch',
  ExceptionResolved: 'exception.resolved',
};

export const INTEGRATION_EVENT_TYPES: readonly string[] = Object.keys(INTEGRATION_ROUTING_KEYS);

/** The JSON body of an integration event. */
export interface IntegrationEventBody {
  /** The event id; also the AMQP message-id. */
  id: string;
  /** The domain event type, e.g. TradeBooked; also the AMQP type property. */
  type: string;
  /** The routing key it was published with, e.g. trade.booked. */
  routingKey: string;
  stream: string;
  revision: number;
  /** Global position in Kepler's event store. */
  position: number;
  /** ISO timestamp of the append. */
  recordedAt: string;
  correlationId: string;
  causationId: string | null;
  traceparent: string | null;
  data: unknown;
}

export interface IntegrationMessage {
  routingKey: string;
  content: Buffer;
  options: Options.Publish;
}

/** The message for one domain event, or null when the event type is not published. `slot`: the publishing slot. */
export function integrationMessage(event: RecordedEvent, slot?: Slot): IntegrationMessage | null {
  const routingKey = INTEGRATION_ROUTING_KEYS[event.type];
  if (routingKey === undefined) return null;
  const { correlationId, causationId, traceparent } = event.metadata;
  const body: IntegrationEventBody = {
    id: event.id,
    type: event.type,
    routingKey,
    stream: event.stream,
    revision: event.revision,
    position: event.position,
    recordedAt: event.recordedAt.toISOString(),
    correlationId,
    causationId: causationId ?? null,
    traceparent: traceparent ?? null,
    data: event.data,
  };
  return {
    routingKey,
    content: Buffer.from(JSON.stringify(body), 'utf8'),
    options: {
      persistent: true,
      messageId: event.id,
      correlationId,
      type: event.type,
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      appId: 'kepler',
      timestamp: Math.floor(event.recordedAt.getTime() / 1000),
      headers: {
        'x-stream': event.stream,
        'x-position': event.position,
        ...(causationId !== undefined && { 'x-causation-id': causationId }),
        ...(traceparent !== undefined && { traceparent }),
        ...(slot !== undefined && { [SLOT_HEADER]: slot }),
      },
    },
  };
}

export interface IntegrationPublisherOptions {
  /** TLS of an amqps:// URL (CA, client certificate and key). */
  tls?: AmqpTls;
  url: string;
  store: EventStore;
  /** The deployment slot: the publisher publishes to the slot's events exchange. */
  slot: Slot;
  prefix?: string;
  /** Events per confirmed batch (default 500). */
  batchSize?: number;
  /** Default "publisher:<slot>". */
  checkpointName?: string;
  /**
   * Where to start when the checkpoint does not exist yet (default: the other
   * slot's checkpoint "publisher:<other slot>", else the beginning). A slot
   * brought up for the first time so takes over where the live slot is,
   * instead of publishing the whole history again.
   */
  initialCheckpointFrom?: string | null;
  backoff?: BackoffOptions;
  declareTopology?: boolean;
  queueType?: QueueType;
  /** Shown in the management UI (default "kepler-publisher-<slot>"). */
  connectionName?: string;
  logger?: Logger;
  /** Called once the broker confirmed a batch, before the checkpoint is stored (metrics, tests). */
  onConfirmed?: (batch: { events: number; position: number }) => void | Promise<void>;
  /**
   * Whether this slot's publisher may publish now, and the store position from which
   * it has been allowed to (blue/green: the slot registry says). Without it the
   * publisher always publishes. A publisher switched on after it last published
   * starts where the other slot's publisher is, and stops when switched off.
   */
  activation?: () => Promise<{ active: boolean; since: number | null }>;
}

const ACTIVATION_POLL_MS = 200;

export interface IntegrationPublisherStatus {
  name: string;
  /** The durable checkpoint as last stored: everything up to it is confirmed. */
  position: number;
  /** Whether the slot registry lets this publisher publish. */
  active: boolean;
  connected: boolean;
  published: number;
  batches: number;
  /** Sessions opened after the first one. */
  reconnects: number;
  lastError: string | null;
}

export class IntegrationPublisher {
  private readonly names: TopologyNames;
  private readonly exchange: string;
  private readonly checkpointName: string;
  private readonly logger: Logger;
  private readonly abort = new AbortController();
  private stopping = false;
  private running: Promise<void> | null = null;
  private subscription: Subscription | null = null;
  private connection: ChannelModel | null = null;
  private sessions = 0;
  private connected = false;
  private position = 0;
  private published = 0;
  private batches = 0;
  private reconnects = 0;
  private lastError: string | null = null;
  /** Set when the registry switched this publisher off mid-session. */
  private deactivated = false;
  private active = true;
  private readonly metrics: {
    sent: ReturnType<typeof counter>;
    confirm: ReturnType<typeof secondsHistogram>;
    follower: FollowerMetrics;
    attributes: Record<string, string>;
  };
  private readonly debug: boolean;

  constructor(private readonly options: IntegrationPublisherOptions) {
    this.names = topologyNames(options.prefix ?? DEFAULT_PREFIX);
    this.exchange = this.names.slotEventsExchanges[options.slot];
    this.checkpointName = options.checkpointName ?? `publisher:${options.slot}`;
    this.logger = (options.logger ?? pino({ level: 'silent' })).child({ component: 'integration-publisher', slot: options.slot, exchange: this.exchange });
    this.debug = this.logger.isLevelEnabled('debug');
    this.metrics = {
      sent: counter('messaging.client.sent.messages', 'Integration events published and confirmed by the broker', '{message}'),
      confirm: secondsHistogram('kepler.publisher.confirm.duration', 'From the first publish of a batch to the broker confirming all of it'),
      follower: new FollowerMetrics(this.checkpointName),
      attributes: { 'messaging.system': 'rabbitmq', 'messaging.destination.name': this.exchange, 'messaging.operation.name': 'publish' },
    };
  }

  get status(): IntegrationPublisherStatus {
    return {
      name: this.checkpointName,
      position: this.position,
      active: this.active,
      connected: this.connected,
      published: this.published,
      batches: this.batches,
      reconnects: this.reconnects,
      lastError: this.lastError,
    };
  }

  /** Publishes until stop(), reconnecting as needed. Calling it again returns the same run. */
  run(): Promise<void> {
    this.running ??= this.loop();
    return this.running;
  }

  /** Stops after the batch in flight (its checkpoint is stored only if it was confirmed). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    await this.subscription?.close();
    await this.running;
  }

  private async loop(): Promise<void> {
    let attempt = 0;
    while (!this.stopping) {
      try {
        if (!(await this.waitUntilActive())) break;
        await this.session(() => (attempt = 0));
        if (!this.stopping && this.deactivated) {
          this.deactivated = false;
          continue;
        }
      } catch (error) {
        if (this.stopping) break;
        this.lastError = errorMessage(error);
        this.logger.warn({ err: error, url: redactUrl(this.options.url) }, 'publishing interrupted; unconfirmed events will be published again');
      } finally {
        this.connected = false;
        const connection = this.connection;
        this.connection = null;
        await connection?.close().catch(() => {});
      }
      if (this.stopping) break;
      attempt++;
      const delay = backoffDelay(attempt, this.options.backoff);
      this.logger.info({ attempt, delayMs: delay }, 'reconnecting to RabbitMQ');
      await sleep(delay, this.abort.signal);
    }
  }

  /** One connection's life: returns only when stopped, throws when anything fails. */
  private async session(onConnected: () => void): Promise<void> {
    const connection = await openConnection(this.options.url, this.options.connectionName ?? `kepler-publisher-${this.options.slot}`, this.options.tls);
    this.connection = connection;
    if (this.stopping) return;
    // Set by the connection's and the channel's close events; checked between steps.
    const state: { failure: Error | null } = { failure: null };
    const fail = (error: Error) => {
      state.failure ??= error;
      // Wakes a subscription waiting for new events, so the loop notices at once.
      void this.subscription?.close();
    };
    connection.on('error', (error: Error) => this.logger.warn({ err: error }, 'RabbitMQ connection error'));
    connection.on('close', (error?: Error) => {
      // The connection's reason says more than its channel's "channel closed", which comes first.
      if (error) state.failure = error;
      fail(error ?? new Error('connection closed'));
    });
    const channel = await connection.createConfirmChannel();
    channel.on('error', (error: Error) => this.logger.warn({ err: error }, 'RabbitMQ channel error'));
    channel.on('close', () => fail(new Error('channel closed')));
    if (this.options.declareTopology !== false) await declareTopology(channel, this.names, { queueType: this.options.queueType ?? 'quorum' });

    const fallback = this.options.initialCheckpointFrom === undefined ? `publisher:${otherSlot(this.options.slot)}` : this.options.initialCheckpointFrom;
    const own = await this.options.store.readCheckpoint(this.checkpointName);
    const since = this.options.activation ? (await this.options.activation()).since : null;
    // Switched on since it last published: what came in between was published by the other
    // slot, through its own binding, up to its checkpoint; carrying on from there keeps
    // every trade's events in order for a consumer that drops duplicates by message-id.
    const switchedOn = since !== null && (own === null || own < since);
    const jump = own === null || switchedOn;
    this.position = (jump ? (fallback === null ? null : await this.options.store.readCheckpoint(fallback)) : null) ?? own ?? 0;
    // Recorded at once, so a restart carries on from here rather than jumping again.
    if (switchedOn) await this.options.store.writeCheckpoint({ name: this.checkpointName, position: this.position });
    if (this.stopping) return;
    const watch = this.options.activation ? setInterval(() => void this.checkActive(() => void this.subscription?.close()), ACTIVATION_POLL_MS) : null;
    const subscription = this.options.store.subscribe(this.position, { filter: { eventTypes: INTEGRATION_EVENT_TYPES }, batchSize: this.options.batchSize ?? 500 });
    this.subscription = subscription;
    if (state.failure) {
      await subscription.close();
      throw state.failure;
    }
    this.connected = true;
    if (this.sessions++ > 0) this.reconnects++;
    onConnected();
    this.logger.info({ from: this.position }, 'publishing integration events');
    try {
      for await (const batch of subscription) {
        if (state.failure) throw state.failure;
        const started = process.hrtime.bigint();
        if (batch.events.length > 0) {
          const span = startBatchSpan(`publish ${this.exchange}`, batch.events, { ...rabbitMqAttributes('publish', this.exchange, {}), 'messaging.batch.message_count': batch.events.length }, SpanKind.PRODUCER);
          const sent = await withinBatch(span, async () => {
            const count = await this.publishBatch(channel, batch.events, () => state.failure);
            await channel.waitForConfirms();
            return count;
          });
          this.metrics.confirm.record(secondsSince(started), this.metrics.attributes);
          if (sent > 0) this.metrics.sent.add(sent, this.metrics.attributes);
          await this.options.onConfirmed?.({ events: batch.events.length, position: batch.scannedTo });
        }
        if (state.failure) throw state.failure;
        if (batch.scannedTo > this.position) {
          await this.options.store.writeCheckpoint({ name: this.checkpointName, position: batch.scannedTo });
          this.position = batch.scannedTo;
        }
        this.published += batch.events.length;
        if (batch.events.length > 0) {
          this.batches++;
          this.metrics.follower.batch(batch.events.length, started);
        }
      }
    } finally {
      if (watch) clearInterval(watch);
      this.subscription = null;
      await subscription.close();
    }
    if (state.failure && !this.stopping && !this.deactivated) throw state.failure;
  }

  /** Waits until the registry lets this publisher publish; false when stopped meanwhile. */
  private async waitUntilActive(): Promise<boolean> {
    if (!this.options.activation) return !this.stopping;
    while (!this.stopping) {
      if (await this.checkActive()) return true;
      await sleep(ACTIVATION_POLL_MS, this.abort.signal);
    }
    return false;
  }

  private async checkActive(onDeactivated?: () => void): Promise<boolean> {
    try {
      const { active } = await this.options.activation!();
      if (this.active && !active) {
        this.logger.info('switched off by the slot registry; publishing stops');
        this.deactivated = true;
        onDeactivated?.();
      } else if (!this.active && active) this.logger.info('switched on by the slot registry; publishing starts');
      this.active = active;
      return active;
    } catch (error) {
      this.logger.warn({ err: error }, 'cannot read the slot registry');
      return this.active;
    }
  }

  /** Publishes the batch's integration events (not yet confirmed); returns how many. */
  private async publishBatch(channel: ConfirmChannel, events: readonly RecordedEvent[], failed: () => Error | null): Promise<number> {
    let sent = 0;
    const tracing = tracingEnabled();
    for (const event of events) {
      const message = integrationMessage(event, this.options.slot);
      if (!message) continue;
      const failure = failed();
      if (failure) throw failure;
      // A producer span in the event's own trace; consumers continue from it (the traceparent header).
      const span = tracing
        ? startEventSpan(
            `publish ${this.exchange}`,
            event.metadata.traceparent,
            rabbitMqAttributes('publish', this.exchange, { routingKey: message.routingKey, messageId: event.id, conversationId: event.metadata.correlationId }),
            SpanKind.PRODUCER,
          )
        : null;
      if (span) message.options.headers = { ...message.options.headers, traceparent: traceparentOf(span) ?? event.metadata.traceparent };
      if (this.debug) withSpan(span, () => this.logger.debug({ ...eventLogFields(event), routing_key: message.routingKey }, 'integration event published'));
      const flowing = channel.publish(this.exchange, message.routingKey, message.content, message.options);
      span?.end();
      sent++;
      if (!flowing) {
        // The socket buffer is full: wait for it to drain, or for the channel to die.
        await Promise.race([once(channel, 'drain'), once(channel, 'close')]);
      }
    }
    return sent;
  }
}

/**
 * For switchLiveSlot's beforeUnbind: waits until `slot`'s publisher has stored
 * a checkpoint at or past the event-store head as it is once the new slot is
 * bound. Every event is then published through a live binding at least once:
 * those up to that head by the old slot, those after it by the new one. A slot
 * whose publisher never stored a checkpoint has nothing to hand over: no wait.
 * On timeout it throws, and the switch stops with both slots bound (safe:
 * duplicates only, which consumers drop by message-id).
 */
export function publisherCaughtUp(store: EventStore, slot: Slot, options: { timeoutMs?: number; checkpointName?: string } = {}): () => Promise<void> {
  return async () => {
    const head = await store.headPosition();
    const name = options.checkpointName ?? `publisher:${slot}`;
    const timeoutMs = options.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    if ((await store.readCheckpoint(name)) === null) return;
    while (((await store.readCheckpoint(name)) ?? 0) < head) {
      if (Date.now() > deadline) {
        throw new Error(`${name} did not reach position ${head} within ${timeoutMs} ms (is the ${slot} slot's publisher running?); both slots stay bound`);
      }
      await sleep(50);
    }
  };
}
