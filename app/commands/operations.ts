// What the slot and topology commands share: who runs them, and the broker and store they act on.
import { userInfo } from 'node:os';
import type { AuthConfig } from '../../authentication/index.js';
import type { Actor, EventStore } from '../../eventstore/index.js';
import type { AmqpConfig, KeplerConfig } from '../config.js';
import { amqpTls, openEventStore } from '../stores.js';

import { OperatorRefusedError } from './operator-refused.js';

export { OperatorRefusedError } from './operator-refused.js';

/**
 * Who runs an operator's command, as its audit records name them.
 *
 * With authentication configured (an issuer: loadConfig gives `auth`), the actor is
 * the principal of the access token in KEPLER_TOKEN, checked like any API request's
 * (issuer, audience, expiry, signature), and the token must carry the operation's
 * scope (authorization's operations table): a name typed on the command line cannot
 * defeat four eyes. --actor and KEPLER_ACTOR are then refused rather than ignored, so
 * nobody believes they were recorded under a name they were not.
 *
 * Without authentication (a developer's machine) the actor is a label: --actor,
 * KEPLER_ACTOR, else the OS user.
 *
 * `operation` is the command as typed (`slot cutover`, `approve`); one the operations
 * table does not name records nothing, and needs no token.
 */
export async function operatorActor(auth: AuthConfig | null, operation: string, flag: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<Actor> {
  if (!auth) return { subject: flag ?? env.KEPLER_ACTOR ?? safeUserName(), clientId: 'kepler-cli' };
  // Loaded only with authentication on: the CLI's other commands start without them.
  const { operationScope } = await import('../../authorization/index.js');
  const scope = operationScope(operation);
  // A status, a plan, a check: nothing is recorded, so nobody needs to be named.
  if (scope === undefined) return READ_ONLY;
  if (flag !== undefined || env.KEPLER_ACTOR !== undefined) {
    throw new OperatorRefusedError(
      `${flag !== undefined ? '--actor' : 'KEPLER_ACTOR'} is refused: authentication is configured (issuer ${auth.issuer}), so the actor recorded is the principal of the access token in KEPLER_TOKEN`,
    );
  }
  const token = env.KEPLER_TOKEN?.trim();
  if (!token) throw new OperatorRefusedError(`needs an access token in KEPLER_TOKEN with the scope ${scope} (authentication is configured: issuer ${auth.issuer}, audience ${auth.audience})`);
  const { TokenVerifier } = await import('../../authentication/index.js');
  const verification = await new TokenVerifier(auth).verify(token);
  if (!verification.ok) {
    throw new OperatorRefusedError(
      verification.kind === 'unavailable'
        ? `cannot check KEPLER_TOKEN: the issuer's keys cannot be had (${verification.reason})`
        : `KEPLER_TOKEN is not a valid access token of ${auth.issuer} for ${auth.audience}${verification.expired ? ': it expired' : ''}`,
    );
  }
  if (!verification.principal.scopes.has(scope)) throw new OperatorRefusedError(`the access token of ${verification.principal.actor.subject} lacks the scope ${scope}, which kepler ${operation} needs`);
  return verification.principal.actor;
}

/** The actor of a command that records nothing, with authentication on. */
const READ_ONLY: Actor = { subject: 'read-only', clientId: 'kepler-cli' };

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
  const tls = await amqpTls(amqp);
  return { access: { amqpUrl: amqp.url, ...(tls && { tls }), management: new ManagementClient(amqp.managementUrl), vhost: vhostOf(amqp.url) }, prefix: amqp.prefix };
}
