// A fresh virtual host per test on the shared RabbitMQ, made and removed through the management API.
import { randomBytes } from 'node:crypto';
import type { Channel } from 'amqplib';
import { openConnection } from '../../messaging/index.js';
import { applyActions, ManagementClient, type Topology } from '../../topology/index.js';
import { AMQP_URL, MANAGEMENT_URL, managementAvailable } from '../messaging/rabbit.js';
import { serverUnavailable } from '../support/servers.js';

export class TestVhost {
  private constructor(
    readonly name: string,
    readonly management: ManagementClient,
  ) {}

  /** A new virtual host, or undefined (skip) when the management API is not there locally. */
  static async create(label: string): Promise<TestVhost | undefined> {
    if (!(await managementAvailable())) {
      serverUnavailable('RabbitMQ management API', `nothing answers at ${new URL(MANAGEMENT_URL).host}`);
      return undefined;
    }
    const management = new ManagementClient(MANAGEMENT_URL);
    const name = `kepler-test-${label}-${process.pid}-${randomBytes(3).toString('hex')}`;
    await management.createVhost(name);
    return new TestVhost(name, management);
  }

  get amqpUrl(): string {
    const url = new URL(AMQP_URL);
    url.pathname = `/${encodeURIComponent(this.name)}`;
    return url.toString();
  }

  get access() {
    return { amqpUrl: this.amqpUrl, management: this.management, vhost: this.name };
  }

  /** Runs `use` with a channel on this vhost (closed afterwards). */
  async withChannel<T>(use: (channel: Channel) => Promise<T>): Promise<T> {
    const connection = await openConnection(this.amqpUrl, 'kepler-test');
    try {
      return await use(await connection.createChannel());
    } finally {
      await connection.close().catch(() => {});
    }
  }

  /** Puts `topology` on the broker as it is (objects of anyone, marked or not). */
  async materialise(topology: Topology): Promise<void> {
    await applyActions(
      [
        ...topology.exchanges.map((exchange) => ({ action: 'declare-exchange' as const, exchange })),
        ...topology.queues.map((queue) => ({ action: 'declare-queue' as const, queue })),
        ...topology.bindings.map((binding) => ({ action: 'bind' as const, binding })),
        ...topology.policies.map((policy) => ({ action: 'set-policy' as const, policy, previous: null })),
      ],
      this.access,
    );
  }

  async delete(): Promise<void> {
    await this.management.deleteVhost(this.name);
  }
}
