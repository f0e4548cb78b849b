// Helpers for the tests that run against a real RabbitMQ.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { REJECTION_STREAM_PREFIX, RECEIVED_STREAM_PREFIXES } from '../../domain/index.js';
import type { EventStore, RecordedEvent } from '../../eventstore/index.js';
import { declareTopology, deleteTopology, topologyNames, type TopologyNames } from '../../messaging/index.js';
import { serverUnavailable, tryStartServer } from '../support/servers.js';

export const AMQP_URL = process.env.KEPLER_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
/** The management plugin's HTTP API (rabbitmq-plugins enable rabbitmq_management). */
export const MANAGEMENT_URL = process.env.KEPLER_TEST_RABBITMQ_MANAGEMENT_URL ?? 'http://guest:guest@127.0.0.1:15672';

/** RabbitMQ reachable: the URL; else undefined (skip) locally, or a failure when KEPLER_REQUIRE_SERVERS=1. */
export async function rabbitMq(): Promise<string | undefined> {
  return tryStartServer('RabbitMQ', async () => {
    const connection = await connect(AMQP_URL, { timeout: 3000 });
    await connection.close();
    return AMQP_URL;
  });
}

/** Names no other test run uses. */
export function uniquePrefix(label: string): string {
  return `kepler-test.${label}.${process.pid}.${randomBytes(4).toString('hex')}`;
}

/** A connection and confirm channel for the test's own declarations, publishing and inspection. */
export class TestBroker {
  private extraQueues: string[] = [];

  private constructor(
    readonly connection: ChannelModel,
    readonly channel: ConfirmChannel,
    readonly names: TopologyNames,
  ) {}

  static async open(url: string, prefix: string): Promise<TestBroker> {
    const connection = await connect(url);
    connection.on('error', () => {});
    const channel = await connection.createConfirmChannel();
    const names = topologyNames(prefix);
    await declareTopology(channel, names);
    return new TestBroker(connection, channel, names);
  }

  /** A non-durable queue deleted at cleanup. */
  async queue(name: string, args: Record<string, unknown> = {}): Promise<string> {
    await this.channel.assertQueue(name, { durable: false, arguments: args });
    this.extraQueues.push(name);
    return name;
  }

  async messageCount(queue: string): Promise<number> {
    return (await this.channel.checkQueue(queue)).messageCount;
  }

  async cleanup(): Promise<void> {
    try {
      for (const queue of this.extraQueues) await this.channel.deleteQueue(queue);
      await deleteTopology(this.channel, this.names);
    } finally {
      await this.connection.close().catch(() => {});
    }
  }
}

export async function waitFor(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 20_000, intervalMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

// ---------------------------------------------------------------------------
// Closing a client's connection from the server side

interface ManagementConnection {
  name: string;
  client_properties?: { connection_name?: string };
}

function managementRequest(path: string, init: RequestInit = {}): Promise<Response> {
  const url = new URL(path, MANAGEMENT_URL);
  const auth = Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64');
  url.username = '';
  url.password = '';
  return fetch(url, { ...init, headers: { authorization: `Basic ${auth}`, ...init.headers } });
}

/** Whether the management API answers; when it does not, rabbitmqctl is tried instead. */
export async function managementAvailable(): Promise<boolean> {
  try {
    return (await managementRequest('/api/overview', { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

/** How connections can be force-closed here; undefined (skip) or a failure under KEPLER_REQUIRE_SERVERS=1 when neither way works. */
export async function connectionCloser(): Promise<'management' | 'rabbitmqctl' | undefined> {
  if (process.env.KEPLER_TEST_CONNECTION_CLOSER !== 'rabbitmqctl' && (await managementAvailable())) return 'management';
  try {
    await promisify(execFile)('rabbitmqctl', ['-q', 'list_connections', 'pid'], { timeout: 15_000 });
    return 'rabbitmqctl';
  } catch (error) {
    serverUnavailable('RabbitMQ management API (or rabbitmqctl)', `cannot force-close connections: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

/**
 * Closes, from the broker, every connection the client named `connectionName`
 * (amqplib's clientProperties.connection_name), as an operator or a broker
 * restart would. The management API lists a new connection only after its
 * next statistics tick (up to 5 s), so this polls. Returns how many it closed.
 */
export async function forceCloseConnections(connectionName: string, how: 'management' | 'rabbitmqctl', timeoutMs = 15_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const closed = how === 'management' ? await closeWithManagement(connectionName) : await closeWithRabbitmqctl(connectionName);
    if (closed > 0) return closed;
    if (Date.now() > deadline) throw new Error(`no connection named ${connectionName} to close`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function closeWithManagement(connectionName: string): Promise<number> {
  const response = await managementRequest('/api/connections?columns=name,client_properties.connection_name');
  const connections = (await response.json()) as ManagementConnection[];
  let closed = 0;
  for (const connection of connections.filter((c) => c.client_properties?.connection_name === connectionName)) {
    const deleted = await managementRequest(`/api/connections/${encodeURIComponent(connection.name)}`, { method: 'DELETE', headers: { 'x-reason': 'kepler test' } });
    if (deleted.ok) closed++; // 404: a connection already gone, still in the statistics
  }
  return closed;
}

async function closeWithRabbitmqctl(connectionName: string): Promise<number> {
  const run = promisify(execFile);
  // Tab-separated: the pid as close_connection wants it, then the client properties in Erlang terms.
  const { stdout } = await run('rabbitmqctl', ['-q', '--no-table-headers', 'list_connections', 'pid', 'client_properties'], { timeout: 15_000 });
  const wanted = `{"connection_name","${connectionName}"}`;
  let closed = 0;
  for (const row of stdout.split('\n')) {
    const [pid, properties] = row.split('\t');
    if (!pid || !properties?.includes(wanted)) continue;
    await run('rabbitmqctl', ['-q', 'close_connection', pid, 'kepler test'], { timeout: 15_000 });
    closed++;
  }
  return closed;
}

// ---------------------------------------------------------------------------
// Comparing what two event stores made of the feed

export interface IntakeEvent {
  id: string;
  type: string;
  data: unknown;
  metadata: unknown;
}

/** The intake streams (received records and rejections) of a store, each with its events. */
export async function intakeStreams(store: EventStore, options: { exceptTypes?: readonly string[] } = {}): Promise<Map<string, IntakeEvent[]>> {
  const prefixes = [...RECEIVED_STREAM_PREFIXES, REJECTION_STREAM_PREFIX];
  const streams = new Map<string, IntakeEvent[]>();
  let after = 0;
  for (;;) {
    const page = await store.readAll(after, { maxCount: 5000, filter: { streamPrefixes: prefixes } });
    for (const event of page.events) {
      if (options.exceptTypes?.includes(event.type)) continue;
      const list = streams.get(event.stream) ?? [];
      list.push(strip(event));
      streams.set(event.stream, list);
    }
    if (page.endOfStore || page.scannedTo === after) break;
    after = page.scannedTo;
  }
  return new Map([...streams].sort(([a], [b]) => a.localeCompare(b)));
}

function strip(event: RecordedEvent): IntakeEvent {
  return { id: event.id, type: event.type, data: event.data, metadata: event.metadata };
}

/** Every event of the store (for counting ids). */
export async function allEvents(store: EventStore): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  let after = 0;
  for (;;) {
    const page = await store.readAll(after, { maxCount: 5000 });
    events.push(...page.events);
    if (page.endOfStore || page.scannedTo === after) break;
    after = page.scannedTo;
  }
  return events;
}
