// The parts of the cut-over-under-load test: a feed publisher that keeps publishing
// through a broker restart (confirms, republishing what was not confirmed), a client
// sending commands through the gateway with retries under one Idempotency-Key, and an
// integration consumer that records every event it is handed.
import type { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { feedLineMessage, openConnection, topologyNames, type FeedLineMessage } from '../../messaging/index.js';
import type { GeneratedFeed } from '../../bench/feed-generator.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every detail line of the feed, the sources interleaved as three systems publishing at once would. */
export function feedMessages(feed: GeneratedFeed): FeedLineMessage[] {
  const perFile = feed.files.map((file) => {
    const last = file.lines.length - 1;
    const end = file.lines[last]!.startsWith('TRL') ? last : last + 1;
    return file.lines.slice(1, end).map((raw, i) => ({ source: file.source, file: file.name, line: i + 2, raw }));
  });
  const messages: FeedLineMessage[] = [];
  for (let i = 0; perFile.some((lines) => i < lines.length); i++) for (const lines of perFile) if (i < lines.length) messages.push(lines[i]!);
  return messages;
}

/** Publishes with confirms at a steady pace; a message counts as sent once the broker confirmed it. */
export class FeedPublisher {
  confirmed = 0;
  reconnects = 0;

  constructor(
    private readonly url: string,
    private readonly prefix: string,
  ) {}

  /** `mayPublish(i)`: whether message i may go now (the test holds some back until a moment of its choosing). */
  async publish(messages: readonly FeedLineMessage[], options: { chunk: number; everyMs: number; mayPublish?: (index: number) => boolean }): Promise<void> {
    const exchange = topologyNames(this.prefix).feedExchange;
    let channel: ConfirmChannel | null = null;
    let connection: Awaited<ReturnType<typeof openConnection>> | null = null;
    for (let next = 0; next < messages.length; ) {
      if (options.mayPublish && !options.mayPublish(next)) {
        await sleep(50);
        continue;
      }
      try {
        if (!channel) {
          connection = await openConnection(this.url, 'kepler-test-legacy-publisher');
          connection.on('error', () => {});
          channel = await connection.createConfirmChannel();
          channel.on('error', () => {});
        }
        const chunk = messages.slice(next, next + options.chunk);
        for (const line of chunk) {
          const message = feedLineMessage(line);
          channel.publish(exchange, message.routingKey, message.content, message.options);
        }
        await channel.waitForConfirms();
        next += chunk.length;
        this.confirmed = next;
        await sleep(options.everyMs);
      } catch {
        // The broker went away: what was not confirmed is published again (at least once).
        channel = null;
        await connection?.close().catch(() => {});
        this.reconnects++;
        await sleep(250);
      }
    }
    await connection?.close().catch(() => {});
  }
}

export interface CommandStep {
  method: 'POST' | 'PUT';
  path: string;
  body: unknown;
  key: string;
}

/** Per trade, its commands in order: capture, allocate, confirm, amend the price, confirm again. */
export function commandPlan(trades: number): CommandStep[][] {
  return Array.from({ length: trades }, (_, i) => {
    const ref = `API/${String(i + 1).padStart(4, '0')}`;
    const path = `/trades/${encodeURIComponent(ref)}`;
    const quantity = 100 + i;
    const terms = { account: 'ACC-API-01', isin: 'US0378331005', side: i % 2 ? 'SELL' : 'BUY', quantity, price: '10.5', currency: 'USD', tradeDate: '2026-11-27', settleDate: '2026-11-30', counterparty: 'BROKER-A' };
    const key = (n: number) => `load-${ref}-${n}`;
    return [
      { method: 'POST', path: '/trades', body: { tradeRef: ref, ...terms }, key: key(1) },
      { method: 'PUT', path: `${path}/allocations/A1`, body: { account: `ACC-${i % 5}`, quantity }, key: key(2) },
      { method: 'POST', path: `${path}/confirmations`, body: { status: 'AFFIRMED', quantity, price: '10.5', reason: '' }, key: key(3) },
      { method: 'POST', path: `${path}/amendments`, body: { ...terms, price: '10.75' }, key: key(4) },
      { method: 'POST', path: `${path}/confirmations`, body: { status: 'AFFIRMED', quantity, price: '10.75', reason: '' }, key: key(5) },
    ];
  });
}

export interface CommandOutcome {
  step: CommandStep;
  status: number;
  attempts: number;
  /** The slot whose API answered (the gateway says). */
  slot: string | null;
}

/**
 * Sends one command until it gets an answer that is not transient: a slot being
 * restarted (connection refused, 502/503), a trade being handed over (421).
 */
export async function sendCommand(baseUrl: string, step: CommandStep, deadlineMs = 60_000): Promise<CommandOutcome> {
  const deadline = Date.now() + deadlineMs;
  for (let attempts = 1; ; attempts++) {
    try {
      const response = await fetch(baseUrl + step.path, {
        method: step.method,
        headers: { 'content-type': 'application/json', 'idempotency-key': step.key },
        body: JSON.stringify(step.body),
        signal: AbortSignal.timeout(15_000),
      });
      await response.arrayBuffer();
      const transient = response.status === 421 || response.status >= 500;
      if (!transient || Date.now() > deadline) return { step, status: response.status, attempts, slot: response.headers.get('kepler-slot') };
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await sleep(Math.min(1000, 50 * attempts));
  }
}

/** Drives every trade's commands, a few trades at once, each trade's commands in order. */
export async function driveCommands(baseUrl: string, plan: CommandStep[][], options: { workers: number; pauseMs: number; mayStart?: (trade: number) => boolean }): Promise<CommandOutcome[]> {
  const outcomes: CommandOutcome[] = [];
  let next = 0;
  const worker = async () => {
    for (let trade = next++; trade < plan.length; trade = next++) {
      while (options.mayStart && !options.mayStart(trade)) await sleep(50);
      for (const step of plan[trade]!) {
        outcomes.push(await sendCommand(baseUrl, step));
        await sleep(options.pauseMs);
      }
    }
  };
  await Promise.all(Array.from({ length: options.workers }, worker));
  return outcomes;
}

export interface ReceivedEvent {
  messageId: string;
  correlationId: string;
  position: number;
  slot: string | null;
}

/** An integration consumer: its own durable queue on the events exchange, reconnecting through broker restarts. */
export class IntegrationAudit {
  readonly received: ReceivedEvent[] = [];
  private stopped = false;
  private running: Promise<void> | null = null;
  readonly queue: string;

  constructor(
    private readonly url: string,
    private readonly prefix: string,
  ) {
    this.queue = `${prefix}-audit.events`;
  }

  async start(): Promise<void> {
    await this.withChannel(async (channel) => {
      await channel.assertQueue(this.queue, { durable: true });
      await channel.bindQueue(this.queue, topologyNames(this.prefix).eventsExchange, '#');
    });
    this.running = this.loop();
  }

  private async withChannel<T>(use: (channel: Channel) => Promise<T>): Promise<T> {
    const connection = await openConnection(this.url, 'kepler-test-audit');
    try {
      return await use(await connection.createChannel());
    } finally {
      await connection.close().catch(() => {});
    }
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        const connection = await openConnection(this.url, 'kepler-test-audit');
        connection.on('error', () => {});
        const closed = new Promise<void>((resolve) => connection.once('close', () => resolve()));
        const channel = await connection.createChannel();
        channel.on('error', () => {});
        await channel.prefetch(200);
        await channel.consume(this.queue, (message: ConsumeMessage | null) => {
          if (!message) return;
          const body = JSON.parse(message.content.toString('utf8')) as { correlationId: string; position: number };
          const slot = message.properties.headers?.['kepler-slot'];
          this.received.push({ messageId: String(message.properties.messageId), correlationId: body.correlationId, position: body.position, slot: typeof slot === 'string' ? slot : null });
          channel.ack(message);
        });
        while (!this.stopped && !(await Promise.race([closed.then(() => true), sleep(200).then(() => false)])));
        await connection.close().catch(() => {});
      } catch {
        await sleep(250);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }
}
