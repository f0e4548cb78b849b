import type { KeplerConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { queueStatus } from '../observability.js';
import { Platform } from '../platform.js';
import { openEventStore, openReadStore } from '../stores.js';

/**
 * `kepler status`: is it keeping up, and what is piling up where? Each follower's
 * checkpoint and gap, read from the stores (no serve needed), and with RabbitMQ
 * the depth and consumers of Kepler's queues from the management API.
 */
export async function statusCommand(config: KeplerConfig, options: { json: boolean }): Promise<number> {
  const events = await openEventStore(config.eventStore);
  const reads = await openReadStore(config.readStore);
  try {
    // A platform that runs nothing here: it reads every follower's durable checkpoint.
    const platform = new Platform(events, reads, createLogger('kepler-status', { roles: ['status'] }), { processors: false, projections: false, partition: config.partition });
    const status = await platform.status();
    const queues = config.amqp ? await queueStatus(config.amqp).report() : null;
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ ...status, ...(queues && { queues }) })}\n`);
      return 0;
    }
    const lines = [`head ${status.head}, ${status.caughtUp ? 'caught up' : 'NOT caught up'}`, '', pad(['follower', 'position', 'gap events', 'gap seconds'])];
    for (const s of status.subscriptions) lines.push(pad([s.name, String(s.position), String(s.gapEvents), s.gapSeconds.toFixed(1)]));
    if (queues && 'error' in queues) lines.push('', `queues: ${queues.error}`);
    else if (queues) {
      lines.push('', `live slot: ${queues.live ?? 'none (feed messages wait in the unrouted queue)'}`, '', pad(['queue', 'messages', 'ready', 'unacked', 'consumers']));
      for (const q of queues.queues) lines.push(pad([`${q.name} (${q.role})`, String(q.messages), String(q.ready), String(q.unacknowledged), String(q.consumers)]));
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    await reads.close();
    await events.close();
  }
}

function pad(cells: string[]): string {
  return cells.map((cell, i) => (i === 0 ? cell.padEnd(40) : cell.padStart(12))).join('');
}
