// RabbitMQ's management HTTP API: the one definitions call the planner reads the broker
// with, policies (which AMQP cannot set), and virtual hosts (tests).
import type { Arguments, BindingDeclaration, ExchangeDeclaration, QueueDeclaration } from '../messaging/index.js';
import type { PolicyDeclaration, Topology } from './model.js';

interface Definitions {
  exchanges?: Array<{ name: string; type: string; durable: boolean; auto_delete: boolean; internal: boolean; arguments: Arguments }>;
  queues?: Array<{ name: string; durable: boolean; auto_delete: boolean; arguments: Arguments }>;
  bindings?: Array<{ source: string; destination: string; destination_type: string; routing_key: string; arguments: Arguments }>;
  policies?: Array<{ name: string; pattern: string; 'apply-to': string; priority: number; definition: Arguments }>;
}

export class ManagementError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ManagementError';
  }
}

export class ManagementClient {
  private readonly base: URL;
  private readonly authorization: string;

  /** `url`: http://user:password@host:15672 (KEPLER_AMQP_MANAGEMENT_URL). */
  constructor(url: string) {
    const parsed = new URL(url);
    this.authorization = `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')}`;
    parsed.username = '';
    parsed.password = '';
    this.base = parsed;
  }

  /** What the broker holds in `vhost`, as one definitions export. */
  async topology(vhost: string): Promise<Topology> {
    const definitions = (await this.request('GET', `/api/definitions/${encodeURIComponent(vhost)}`)) as Definitions;
    return {
      exchanges: (definitions.exchanges ?? []).map(
        (e): ExchangeDeclaration => ({ name: e.name, type: e.type as ExchangeDeclaration['type'], durable: e.durable, autoDelete: e.auto_delete, internal: e.internal, arguments: e.arguments ?? {} }),
      ),
      queues: (definitions.queues ?? []).map((q): QueueDeclaration => ({ name: q.name, durable: q.durable, autoDelete: q.auto_delete, arguments: q.arguments ?? {} })),
      bindings: (definitions.bindings ?? []).map(
        (b): BindingDeclaration => ({
          source: b.source,
          destination: b.destination,
          destinationType: b.destination_type === 'exchange' ? 'exchange' : 'queue',
          routingKey: b.routing_key,
          arguments: b.arguments ?? {},
        }),
      ),
      policies: (definitions.policies ?? []).map(
        (p): PolicyDeclaration => ({ name: p.name, pattern: p.pattern, applyTo: p['apply-to'] as PolicyDeclaration['applyTo'], priority: p.priority, definition: p.definition }),
      ),
    };
  }

  async setPolicy(vhost: string, policy: PolicyDeclaration): Promise<void> {
    await this.request('PUT', `/api/policies/${encodeURIComponent(vhost)}/${encodeURIComponent(policy.name)}`, {
      pattern: policy.pattern,
      definition: policy.definition,
      priority: policy.priority,
      'apply-to': policy.applyTo,
    });
  }

  async deletePolicy(vhost: string, name: string): Promise<void> {
    await this.request('DELETE', `/api/policies/${encodeURIComponent(vhost)}/${encodeURIComponent(name)}`, undefined, [404]);
  }

  async createVhost(vhost: string, user = 'guest'): Promise<void> {
    await this.request('PUT', `/api/vhosts/${encodeURIComponent(vhost)}`, {});
    await this.request('PUT', `/api/permissions/${encodeURIComponent(vhost)}/${encodeURIComponent(user)}`, { configure: '.*', write: '.*', read: '.*' });
  }

  async deleteVhost(vhost: string): Promise<void> {
    await this.request('DELETE', `/api/vhosts/${encodeURIComponent(vhost)}`, undefined, [404]);
  }

  private async request(method: string, path: string, body?: unknown, alsoFine: number[] = []): Promise<unknown> {
    const response = await fetch(new URL(path, this.base), {
      method,
      headers: { authorization: this.authorization, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    if (!response.ok && !alsoFine.includes(response.status)) {
      throw new ManagementError(response.status, `RabbitMQ management API ${method} ${path}: ${response.status} ${text.slice(0, 300)}`);
    }
    return text ? (JSON.parse(text) as unknown) : null;
  }
}

/** The virtual host an AMQP URL names ("/" when it names none). */
export function vhostOf(amqpUrl: string): string {
  const { pathname } = new URL(amqpUrl);
  return pathname.length > 1 ? decodeURIComponent(pathname.slice(1)) : '/';
}
