// The check from outside, through the CLI, in a fresh virtual host: plan → apply →
// plan is empty; a Kepler binding deleted by hand is drift (exit 1) that apply repairs; a
// queue Kepler did not create survives apply --prune; a saved plan is refused once the
// broker changed; a queue holding messages is not deleted without --force.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OWNER_ARGUMENT, standingObjects, topologyNames, unbind } from '../../messaging/index.js';
import { MANAGEMENT_URL, rabbitMq } from '../messaging/rabbit.js';
import { tempDir } from '../support/feed.js';
import { runCli } from '../support/kepler.js';
import { TestVhost } from '../topology/broker.js';

const url = await rabbitMq();
const vhost = url ? await TestVhost.create('cli') : undefined;
afterAll(() => vhost?.delete());

describe.skipIf(!vhost)('kepler topology, from outside, in a fresh virtual host', () => {
  const env = () => ({ KEPLER_AMQP_URL: vhost!.amqpUrl, KEPLER_AMQP_MANAGEMENT_URL: MANAGEMENT_URL, KEPLER_DATA_DIR: dataDir });
  const dataDir = join(tempDir('kepler-topology-'), 'data');
  const cli = async (...args: string[]) => runCli(['topology', ...args], { env: env() });
  const plan = async () => {
    const result = await cli('plan', '--json');
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as { basedOn: string; ops: Array<{ action: string; risk: string; inverse: { action: string } }> };
  };

  it('plan → apply → plan is empty; a binding deleted by hand is drift that apply repairs; foreign queues survive --prune', async () => {
    const first = await plan();
    expect(first.basedOn).toMatch(/^sha256:/);
    expect(first.ops.length).toBeGreaterThan(0);
    expect(first.ops.every((op) => op.risk && op.inverse.action)).toBe(true);
    const applied = await cli('apply');
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect((await plan()).ops).toEqual([]);
    expect((await cli('drift', '--exit-code')).code).toBe(0);

    // A Kepler binding deleted by hand.
    const names = topologyNames('kepler');
    await vhost!.withChannel((channel) => unbind(channel, standingObjects(names).bindings[0]!));
    const drift = await cli('drift', '--exit-code');
    expect(drift.code).toBe(1);
    expect(drift.stdout).toContain(`bind ${names.deadLetterExchange} → queue ${names.deadLetterQueue}`);
    expect((await cli('apply')).code).toBe(0);
    expect((await cli('drift', '--exit-code')).code).toBe(0);

    // Someone else's queues (one named like Kepler's), one of Kepler's own that nothing wants any more.
    await vhost!.withChannel(async (channel) => {
      await channel.assertQueue('kepler.smoke-test', { durable: true });
      await channel.bindQueue('kepler.smoke-test', names.eventsExchange, 'trade.#');
      await channel.assertQueue('reporting.trades', { durable: true });
      await channel.assertQueue('kepler.retired', { durable: true, arguments: { [OWNER_ARGUMENT]: 'kepler' } });
      await channel.assertQueue('kepler.retired-busy', { durable: true, arguments: { [OWNER_ARGUMENT]: 'kepler' } });
      channel.sendToQueue('kepler.retired-busy', Buffer.from('still here'));
      // A round trip on the channel: the broker has the message before the connection closes.
      expect((await channel.checkQueue('kepler.retired-busy')).messageCount).toBe(1);
    });
    const kept = await cli('plan');
    expect(kept.stdout).toContain('kept   queue kepler.retired');
    const pruned = await cli('apply', '--prune');
    expect(pruned.stdout).toContain('delete-queue kepler.retired');
    expect(pruned.stdout).toMatch(/refused: delete-queue kepler.retired-busy: queue kepler.retired-busy holds 1 messages/);
    expect(pruned.code).toBe(1);
    const queues = (await vhost!.management.topology(vhost!.name)).queues.map((q) => q.name);
    expect(queues).toEqual(expect.arrayContaining(['kepler.smoke-test', 'reporting.trades', 'kepler.retired-busy']));
    expect(queues).not.toContain('kepler.retired');
    const bindings = (await vhost!.management.topology(vhost!.name)).bindings;
    expect(bindings.some((b) => b.destination === 'kepler.smoke-test' && b.routingKey === 'trade.#')).toBe(true);
    // After a drain, --force deletes it.
    expect((await cli('apply', '--prune', '--force')).code).toBe(0);
    expect((await vhost!.management.topology(vhost!.name)).queues.map((q) => q.name)).not.toContain('kepler.retired-busy');
  });

  it('refuses a saved plan once the broker changed since it was made', async () => {
    const names = topologyNames('kepler');
    await vhost!.withChannel((channel) => unbind(channel, standingObjects(names).bindings[1]!));
    const saved = await cli('plan', '--json');
    const file = join(tempDir('kepler-plan-'), 'plan.json');
    writeFileSync(file, saved.stdout);
    await vhost!.withChannel((channel) => channel.assertQueue('kepler.meanwhile', { durable: true }));
    const stale = await cli('apply', '--plan', file);
    expect(stale.code).toBe(3);
    expect(stale.stderr).toMatch(/the broker changed since the plan was made/);
    const fresh = await cli('plan', '--json');
    writeFileSync(file, fresh.stdout);
    const applied = await cli('apply', '--plan', file);
    expect(applied.code, applied.stderr).toBe(0);
    expect((await cli('drift', '--exit-code')).code).toBe(0);
  });
});
