// What the slot and topology commands share: who runs them, and the broker and store they act on.
import { userInfo } from 'node:os';
import type { Actor, EventStore } from '../../eventstore/index.js';
import type { AmqpConfig, KeplerConfig } from '../config.js';
import { openEventStore } from '../stores.js';

/** The operator running a CLI command, as audit records name them. */
export function operatorActor(flag: string | undefined): Actor {
  const subject = flag ?? process.env.KEPLER_ACTOR ?? safeUserName();
  return { subject, clientId: 'kepler-cli' };
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

export interface Operations {
  store: EventStore;
  amqp: AmqpConfig;
  close(): Promise<void>;
}

/** Opens what the command needs, or says what is missing (exit status 2). */
export async function openOperations(config: KeplerConfig, command: string): Promise<Operations | null> {
  if (!config.amqp) {
    process.stderr.write(`kepler ${command}: set KEPLER_AMQP_URL (or amqp.url in the config file)\n`);
    return null;
  }
  const store = await openEventStore(config.eventStore);
  return { store, amqp: config.amqp, close: () => store.close() };
}

export async function brokerTarget(amqp: AmqpConfig) {
  const { ManagementClient, vhostOf } = await import('../../topology/index.js');
  return { access: { amqpUrl: amqp.url, management: new ManagementClient(amqp.managementUrl), vhost: vhostOf(amqp.url) }, prefix: amqp.prefix };
}
