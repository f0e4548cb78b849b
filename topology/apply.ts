// The executor: carries out a plan's operations on the broker, one by one, AMQP for
// exchanges, queues and bindings, the management API for policies.
import type { Channel, ChannelModel } from 'amqplib';
import { bind, openConnection, unbind, type AmqpTls } from '../messaging/index.js';
import { ManagementClient } from './management.js';
import { digestOf, Ownership, scoped } from './model.js';
import { describeAction, type Action, type Plan } from './plan.js';

export class StalePlanError extends Error {
  constructor(
    readonly basedOn: string,
    readonly now: string,
  ) {
    super(`the broker changed since the plan was made (plan based on ${basedOn}, broker now ${now}): make a new plan`);
    this.name = 'StalePlanError';
  }
}

export class RefusedOperationError extends Error {
  constructor(
    readonly action: Action,
    reason: string,
  ) {
    super(`refused: ${describeAction(action)}: ${reason}`);
    this.name = 'RefusedOperationError';
  }
}

export interface BrokerAccess {
  /** amqp://user:password@host:port/vhost */
  amqpUrl: string;
  /** The CA, client certificate and key of an amqps:// broker, as the feed consumer and publisher use them. */
  tls?: AmqpTls;
  management: ManagementClient;
  vhost: string;
}

export interface ApplyOptions {
  /** Delete (or replace) queues that still hold messages or have consumers: only after a drain. */
  force?: boolean;
  /** Carry out operations the plan marks blocked (an operator took care of what they say). */
  ignoreBlocks?: boolean;
  /** Refuse unless the broker is still as the plan saw it (a saved plan). */
  checkDigest?: boolean;
  onApplied?: (action: Action, index: number) => void;
  /**
   * Asked before each operation that removes something: false stops the apply (the
   * desired state changed since the plan was made; the next round plans again).
   */
  stillWanted?: () => Promise<boolean>;
}

export interface ApplyReport {
  applied: Action[];
  /** Operations refused (blocked, or a queue that holds messages), with why; the rest went ahead. */
  refused: Array<{ action: Action; reason: string }>;
}

/** The broker's present state in the plan's scope, and its digest. */
export async function observe(access: BrokerAccess, prefix: string) {
  const topology = scoped(await access.management.topology(access.vhost), new Ownership(prefix));
  return { topology, digest: digestOf(topology) };
}

/**
 * Carries out `plan`. An operation that would destroy messages, or that the plan
 * marks blocked, is refused and reported; the others go ahead (they are
 * independent: each is make-before-break on its own). A failure of the broker stops it.
 */
export async function applyPlan(plan: Plan, access: BrokerAccess, options: ApplyOptions = {}): Promise<ApplyReport> {
  if (options.checkDigest) {
    const { digest } = await observe(access, plan.prefix);
    if (digest !== plan.basedOn) throw new StalePlanError(plan.basedOn, digest);
  }
  const report: ApplyReport = { applied: [], refused: [] };
  if (plan.ops.length === 0) return report;
  const connection = await openConnection(access.amqpUrl, 'kepler-topology', access.tls);
  connection.on('error', () => {});
  try {
    let channel = await openChannel(connection);
    for (const [index, op] of plan.ops.entries()) {
      if (op.blocked && !options.ignoreBlocks) {
        report.refused.push({ action: op, reason: op.blocked });
        continue;
      }
      if (op.risk !== 'low' && options.stillWanted && !(await options.stillWanted())) break;
      try {
        await carryOut(op, channel, access, options);
        report.applied.push(op);
        options.onApplied?.(op, index);
      } catch (error) {
        if (!(error instanceof RefusedOperationError)) throw error;
        report.refused.push({ action: op, reason: error.message });
        // A refused check may have closed the channel (a passive declare of a missing queue does).
        channel = await openChannel(connection).catch(() => channel);
      }
    }
    return report;
  } finally {
    await connection.close().catch(() => {});
  }
}

/** Carries out single actions, such as the inverses of a plan. */
export async function applyActions(actions: readonly Action[], access: BrokerAccess, options: Pick<ApplyOptions, 'force'> = {}): Promise<void> {
  const connection = await openConnection(access.amqpUrl, 'kepler-topology', access.tls);
  connection.on('error', () => {});
  try {
    const channel = await openChannel(connection);
    for (const action of actions) await carryOut(action, channel, access, options);
  } finally {
    await connection.close().catch(() => {});
  }
}

async function openChannel(connection: ChannelModel): Promise<Channel> {
  const channel = await connection.createChannel();
  channel.on('error', () => {});
  return channel;
}

async function carryOut(action: Action, channel: Channel, access: BrokerAccess, options: Pick<ApplyOptions, 'force'>): Promise<void> {
  switch (action.action) {
    case 'declare-exchange': {
      const e = action.exchange;
      await channel.assertExchange(e.name, e.type, { durable: e.durable, autoDelete: e.autoDelete, internal: e.internal, arguments: e.arguments });
      return;
    }
    case 'delete-exchange':
      await channel.deleteExchange(action.exchange.name);
      return;
    case 'replace-exchange': {
      if (!options.force) throw new RefusedOperationError(action, 'replacing an exchange drops its bindings for a moment: use --force');
      const e = action.exchange;
      await channel.deleteExchange(e.name);
      await channel.assertExchange(e.name, e.type, { durable: e.durable, autoDelete: e.autoDelete, internal: e.internal, arguments: e.arguments });
      return;
    }
    case 'declare-queue': {
      const q = action.queue;
      await channel.assertQueue(q.name, { durable: q.durable, autoDelete: q.autoDelete, arguments: q.arguments });
      return;
    }
    case 'delete-queue':
      await ensureIdle(action, channel, action.queue.name, options);
      await channel.deleteQueue(action.queue.name);
      return;
    case 'replace-queue': {
      await ensureIdle(action, channel, action.queue.name, options);
      const q = action.queue;
      await channel.deleteQueue(q.name);
      await channel.assertQueue(q.name, { durable: q.durable, autoDelete: q.autoDelete, arguments: q.arguments });
      return;
    }
    case 'bind':
      await bind(channel, action.binding);
      return;
    case 'unbind':
      await unbind(channel, action.binding);
      return;
    case 'set-policy':
      await access.management.setPolicy(access.vhost, action.policy);
      return;
    case 'delete-policy':
      await access.management.deletePolicy(access.vhost, action.policy.name);
      return;
  }
}

/**
 * The queue's own count (a passive declare asks the queue itself, unlike the
 * management statistics, which lag by seconds): no message ready, no consumer
 * that could hold one unacknowledged. Quorum queues do not support if-empty
 * deletes, so this check is the guard.
 */
async function ensureIdle(action: Action, channel: Channel, queue: string, options: Pick<ApplyOptions, 'force'>): Promise<void> {
  if (options.force) return;
  const { messageCount, consumerCount } = await channel.checkQueue(queue);
  if (messageCount > 0 || consumerCount > 0) {
    throw new RefusedOperationError(action, `queue ${queue} holds ${messageCount} messages and has ${consumerCount} consumers: drain it, then use --force`);
  }
}
