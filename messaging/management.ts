// What is piling up where: depth and consumers of Kepler's own queues, and
// which slot is live, from RabbitMQ's management API (the rabbitmq_management
// plugin). Prometheus scrapes the broker's own plugin for the same figures over
// time; this is for /status and `kepler status`.
import { topologyNames, SLOTS, type Slot } from './topology.js';

export interface QueueFigures {
  name: string;
  /** What the queue is to Kepler. */
  role: `feed:${Slot}` | 'unrouted' | 'dead-letters';
  messages: number;
  ready: number;
  unacknowledged: number;
  consumers: number;
}

export interface QueueReport {
  /** The slot whose feed queue is bound to the feed exchange; null while none is. */
  live: Slot | null;
  queues: QueueFigures[];
}

export interface ManagementEndpoint {
  /** http://host:15672, without credentials. */
  url: string;
  authorization: string;
  vhost: string;
}

/**
 * KEPLER_AMQP_MANAGEMENT_URL when given; else the AMQP URL's host on port 15672
 * (https and 15671 for amqps), with the same credentials and virtual host.
 */
export function managementEndpoint(amqpUrl: string, managementUrl?: string): ManagementEndpoint {
  const amqp = new URL(amqpUrl);
  const vhost = decodeURIComponent(amqp.pathname.replace(/^\//, '')) || '/';
  const url = new URL(managementUrl ?? `${amqp.protocol === 'amqps:' ? 'https' : 'http'}://${amqp.hostname}:${amqp.protocol === 'amqps:' ? 15671 : 15672}`);
  const user = decodeURIComponent(url.username || amqp.username || 'guest');
  const password = decodeURIComponent(url.password || amqp.password || 'guest');
  url.username = '';
  url.password = '';
  return { url: url.toString().replace(/\/$/, ''), authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`, vhost };
}

interface ManagementQueue {
  messages?: number;
  messages_ready?: number;
  messages_unacknowledged?: number;
  consumers?: number;
}

/** Depth and consumers of both slots' feed queues, the unrouted queue and the dead letters, and the live slot. */
export async function queueReport(endpoint: ManagementEndpoint, prefix: string, timeoutMs = 3000): Promise<QueueReport> {
  const names = topologyNames(prefix);
  const wanted: Array<{ name: string; role: QueueFigures['role'] }> = [
    ...SLOTS.map((slot) => ({ name: names.feedQueues[slot], role: `feed:${slot}` as const })),
    { name: names.unroutedQueue, role: 'unrouted' },
    { name: names.deadLetterQueue, role: 'dead-letters' },
  ];
  const get = async <T>(path: string): Promise<T | null> => {
    const response = await fetch(`${endpoint.url}/api/${path}`, { headers: { authorization: endpoint.authorization }, signal: AbortSignal.timeout(timeoutMs) });
    if (response.status === 404) return null;
    if (!response.ok) throw new Error(`RabbitMQ management API: GET /api/${path} answered ${response.status}`);
    return (await response.json()) as T;
  };
  const vhost = encodeURIComponent(endpoint.vhost);
  const [queues, bindings] = await Promise.all([
    Promise.all(wanted.map(({ name }) => get<ManagementQueue>(`queues/${vhost}/${encodeURIComponent(name)}?columns=messages,messages_ready,messages_unacknowledged,consumers`))),
    get<Array<{ destination: string; destination_type: string }>>(`exchanges/${vhost}/${encodeURIComponent(names.feedExchange)}/bindings/source`),
  ]);
  const bound = new Set((bindings ?? []).filter((b) => b.destination_type === 'queue').map((b) => b.destination));
  return {
    live: SLOTS.find((slot) => bound.has(names.feedQueues[slot])) ?? null,
    queues: wanted.map(({ name, role }, i) => {
      const q = queues[i] ?? {};
      return { name, role, messages: q.messages ?? 0, ready: q.messages_ready ?? 0, unacknowledged: q.messages_unacknowledged ?? 0, consumers: q.consumers ?? 0 };
    }),
  };
}
