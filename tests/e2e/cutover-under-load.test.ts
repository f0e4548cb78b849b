// The proof: cut-overs under load lose nothing and double nothing.
//
// A private RabbitMQ node (its application is restarted mid-run, which the machine's
// shared broker must never see), both slots running side by side on one event store,
// the gateway (with the topology role) in front of them. A generator publishes the CX1
// feed over AMQP with confirms and sends commands through the gateway, while the
// platform cuts over blue → green, rolls back to blue, cuts over to green again and
// drains blue; a feed consumer dies between its append and its ack, a processor process
// is killed mid-batch, and the broker application restarts. Then the checker.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateFeed, MIXED_RATES, Rng, writeFeed } from '../../bench/feed-generator.js';
import { SqliteEventStore, type RecordedEvent } from '../../eventstore/index.js';
import { INTEGRATION_ROUTING_KEYS, openConnection, topologyNames } from '../../messaging/index.js';
import { allEvents, intakeStreams } from '../messaging/rabbit.js';
import { commandPlan, driveCommands, FeedPublisher, feedMessages, IntegrationAudit, sendCommand, type CommandOutcome } from '../support/cutover-load.js';
import { tempDir } from '../support/feed.js';
import { freePort, PrivateRabbit } from '../support/private-rabbit.js';
import { ingest, KeplerServer, REPO_ROOT, runCli, snapshot } from '../support/kepler.js';
import { tryStartServer } from '../support/servers.js';

const rabbit = await tryStartServer('a private RabbitMQ node (rabbitmq-server)', () => PrivateRabbit.start());
afterAll(() => rabbit?.stop());

const SLOT_ROLES = 'processors,projections,command-api,query-api,publisher';
const CONSUMER = join(REPO_ROOT, 'tests', 'messaging', 'consumer-child.mjs');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Trailers are a property of files: over AMQP there is none to check. */
function withoutTrailerChecks(state: Awaited<ReturnType<typeof snapshot>>) {
  const { TRAILER_MISMATCH: _trailers, ...counts } = state.counts;
  return { ...state, counts, exceptions: state.exceptions.filter((e) => (e as { code?: string }).code !== 'TRAILER_MISMATCH') };
}

/** Received records without the file and line they came from (rejections are named by them, and keep them). */
function withoutPlaceOfDuplicates(intake: Awaited<ReturnType<typeof intakeStreams>>) {
  return new Map(
    [...intake].map(([stream, events]) => [
      stream,
      events.map((event) => {
        if (event.type === 'LineRejected') return event;
        const { origin, ...data } = event.data as { origin: Record<string, unknown> };
        const { line: _line, file: _file, ...metadata } = event.metadata as Record<string, unknown>;
        const { line: _l, file: _f, ...place } = origin;
        return { ...event, data: { ...data, origin: place }, metadata };
      }),
    ]),
  );
}

/** A slot's AMQP feed consumer in a process of its own, restarted whenever it dies (a supervisor's job). */
class SupervisedConsumer {
  private child: ChildProcess | null = null;
  private stopping = false;
  deaths = 0;

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  start(extra: NodeJS.ProcessEnv = {}): void {
    const child = spawn(process.execPath, [CONSUMER], { env: { ...process.env, ...this.env, ...extra }, stdio: ['ignore', 'ignore', 'ignore'] });
    this.child = child;
    child.once('exit', (_code, signal) => {
      if (this.stopping) return;
      if (signal === 'SIGKILL') this.deaths++;
      setTimeout(() => this.start(), 100);
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}

describe.skipIf(!rabbit)('blue/green cut-over under load', () => {
  it('loses nothing and doubles nothing, and ends as an undisturbed single-slot run', async () => {
    const started = Date.now();
    const seed = Date.now() % 100_000;
    const rng = new Rng(seed);
    const between = (min: number, max: number) => Math.round(min + rng.next() * (max - min));
    const dir = tempDir('kepler-cutover-');
    const rates = { ...MIXED_RATES, conflictingVersion: 0, sequenceConflict: 0 }; // arrival order decides those: not a slot's doing
    const feed = generateFeed({ seed: 12, trades: 160, filesPerSource: 1, rates });
    const files = await writeFeed(feed, join(dir, 'files'));
    const messages = feedMessages(feed);
    const plan = commandPlan(16);

    // The reference: one slot, undisturbed, the same feed and the same commands.
    const reference = (async () => {
      const refDir = join(dir, 'reference');
      const server = await KeplerServer.start(refDir, { env: { KEPLER_PROJECTIONS_THREAD: '0' } });
      try {
        await ingest(refDir, files);
        for (const trade of plan) for (const step of trade) expect((await sendCommand(server.url, step)).status).toBeLessThan(300);
        await server.caughtUp(120_000);
        return withoutTrailerChecks(await snapshot(server));
      } finally {
        await server.stop();
      }
    })();

    const dataDir = join(dir, 'platform');
    const env = {
      KEPLER_AMQP_URL: rabbit!.amqpUrl,
      KEPLER_AMQP_MANAGEMENT_URL: rabbit!.managementUrl,
      KEPLER_TOPOLOGY_INTERVAL_MS: '1000',
      KEPLER_PROJECTIONS_THREAD: '0',
    };
    const ports = { blue: await freePort(), green: await freePort(), gateway: await freePort() };
    const slots: Record<'blue' | 'green', KeplerServer> = {} as never;
    const startSlot = async (slot: 'blue' | 'green') => {
      slots[slot] = await KeplerServer.start(dataDir, { env: { ...env, KEPLER_SLOT: slot }, args: ['--roles', SLOT_ROLES, '--port', String(ports[slot])] });
    };
    const gatewayStarting = KeplerServer.start(dataDir, {
      env: { ...env, KEPLER_GATEWAY_BLUE_URL: `http://127.0.0.1:${ports.blue}`, KEPLER_GATEWAY_GREEN_URL: `http://127.0.0.1:${ports.green}` },
      args: ['--roles', 'gateway,topology', '--port', String(ports.gateway)],
    });
    const starting = [startSlot('blue'), startSlot('green'), gatewayStarting];
    for (const start of starting) start.catch(() => {}); // the first failure is the one reported
    await Promise.all(starting);
    const gateway = await gatewayStarting;
    const consumers = {
      blue: new SupervisedConsumer({ AMQP_URL: rabbit!.amqpUrl, PREFIX: 'kepler', DB: join(dataDir, 'events.db'), CONNECTION_NAME: 'blue-ingestion', SLOT: 'blue' }),
      green: new SupervisedConsumer({ AMQP_URL: rabbit!.amqpUrl, PREFIX: 'kepler', DB: join(dataDir, 'events.db'), CONNECTION_NAME: 'green-ingestion', SLOT: 'green' }),
    };
    const audit = new IntegrationAudit(rabbit!.amqpUrl, 'kepler');
    const slotCli = (...args: string[]) => runCli(['slot', ...args, '--data-dir', dataDir, '--actor', 'load-test'], { env });
    const log: string[] = [];
    const phase = (what: string) => log.push(`${((Date.now() - started) / 1000).toFixed(1)} s: ${what}`);
    phase('slots and gateway up');
    try {
      const first = await slotCli('live', 'blue');
      expect(first.code, first.stdout + first.stderr).toBe(0);
      // The consumer of blue dies between a durable append and its ack, on its second batch.
      consumers.blue.start({ KILL_AFTER_BATCHES: '2' });
      consumers.green.start();
      await audit.start();
      phase('blue live, load starts');

      const cutover = async (to: 'blue' | 'green') => {
        const result = await slotCli('cutover', to);
        log.push(`cutover ${to}: ${result.code}\n${result.stdout}${result.stderr}`);
        expect(result.code, result.stdout + result.stderr).toBe(0);
        return /cut-over (\S+):/.exec(result.stdout)![1]!;
      };
      const killMidBatch = async (slot: 'blue' | 'green') => {
        // Killed while its processors are behind the head, that is, with a batch in hand.
        const deadline = Date.now() + 5000;
        while (Date.now() < deadline) {
          const status = await slots[slot].json<{ head: number; subscriptions: Array<{ name: string; position: number }> }>('/status').catch(() => null);
          if (status?.subscriptions.some((s) => !s.name.startsWith('projection') && s.position < status.head)) break;
          await sleep(20);
        }
        await slots[slot].kill();
        log.push(`killed ${slot}'s processors`);
        await startSlot(slot);
      };

      // The load runs through every disturbance: the last parts of it wait for the later ones. The last
      // twentieth waits for the second cut-over to have finished, so green decides some of it however
      // slowly the machine runs (a loaded machine once finished the rest while the CLI was starting).
      const reached = { restart: false, secondCutover: false, secondCutoverDone: false };
      const share = (index: number, total: number) => index / total;
      const mayGo = (index: number, total: number) => {
        const part = share(index, total);
        if (part < 0.6) return true;
        if (part < 0.85) return reached.restart;
        if (part < 0.95) return reached.secondCutover;
        return reached.secondCutoverDone;
      };
      let publishing = true;
      const load = Promise.all([
        new FeedPublisher(rabbit!.amqpUrl, 'kepler')
          .publish(messages, { chunk: 10, everyMs: 150, mayPublish: (i) => mayGo(i, messages.length) })
          .finally(() => (publishing = false)),
        driveCommands(gateway.url, plan, { workers: 2, pauseMs: 100, mayStart: (t) => mayGo(t, plan.length) }),
      ]);
      const chaos = (async () => {
        await sleep(between(500, 2000));
        const c1 = await cutover('green');
        await sleep(between(300, 1500));
        phase('first cut-over to green');
        await killMidBatch('green');
        phase('green processors killed and restarted');
        await sleep(between(300, 1500));
        const back = await slotCli('rollback', c1);
        log.push(`rollback ${c1}: ${back.code}\n${back.stdout}${back.stderr}`);
        phase('rolled back');
        expect(back.code, back.stdout + back.stderr).toBe(0);
        await sleep(between(300, 1500));
        await rabbit!.restartApp();
        reached.restart = true;
        phase('broker application restarted');
        await sleep(between(500, 1500));
        const second = cutover('green');
        reached.secondCutover = true;
        await second;
        reached.secondCutoverDone = true;
        phase('second cut-over to green');
        const drain = await slotCli('drain', 'blue', '--deadline', '8');
        log.push(`drain blue: ${drain.code}\n${drain.stdout}${drain.stderr}`);
        expect(drain.code, drain.stdout + drain.stderr).toBe(0);
      })();
      const [[, outcomes]] = await Promise.all([load.finally(() => phase('load done')), chaos.finally(() => phase('chaos done'))]);
      expect(publishing).toBe(false);
      const failed = (outcomes as CommandOutcome[]).filter((o) => o.status >= 300);
      expect(failed.map((o) => `${o.step.method} ${o.step.path} → ${o.status}`)).toEqual([]);
      expect(consumers.blue.deaths).toBeGreaterThanOrEqual(1);

      // Quiet: queues empty, both slots caught up, nothing new for a moment.
      const connection = await openConnection(rabbit!.amqpUrl, 'kepler-test-checker');
      const channel = await connection.createChannel();
      const names = topologyNames('kepler');
      const depth = async () => {
        let total = 0;
        for (const queue of [names.feedQueues.blue, names.feedQueues.green, names.unroutedQueue, names.deadLetterQueue, audit.queue]) total += (await channel.checkQueue(queue)).messageCount;
        return total;
      };
      const deadline = Date.now() + 90_000;
      let lastHead = -1;
      for (;;) {
        const [blue, green] = await Promise.all([slots.blue.json<{ caughtUp: boolean; head: number }>('/status'), slots.green.json<{ caughtUp: boolean; head: number }>('/status')]);
        if (blue.caughtUp && green.caughtUp && (await depth()) === 0 && blue.head === lastHead) break;
        lastHead = blue.head;
        if (Date.now() > deadline) throw new Error(`not quiet after 90 s (seed ${seed}): ${JSON.stringify({ blue, green, depth: await depth() })}\n${log.join('\n')}`);
        await sleep(500);
      }
      await connection.close();
      phase('quiet');

      // What a user sees through the gateway (the live slot's read models) is what one undisturbed slot made.
      expect(withoutTrailerChecks(await snapshot(gateway))).toEqual(await reference);
      phase('compared with the reference');

      // What an operator sees now: green live and alone, blue owning nothing, the cut-overs recorded.
      const status = await slotCli('status', '--json');
      expect(status.code, status.stderr).toBe(0);
      const slotStatus = JSON.parse(status.stdout) as {
        live: string;
        routing: { feed: string[]; events: string[]; publishing: string[] };
        slots: Record<'blue' | 'green', { ownedStreams: number; queue: { messages: number; consumers: number } }>;
        cutovers: Array<{ status: string; last: { actor: { subject: string } } }>;
      };
      expect(slotStatus.live).toBe('green');
      expect(slotStatus.routing).toEqual({ live: 'green', feed: ['green'], events: ['green'], publishing: ['green'] });
      expect(slotStatus.slots.blue.ownedStreams).toBe(0);
      expect(slotStatus.slots.green.ownedStreams).toBeGreaterThan(0);
      expect(slotStatus.slots.green.queue).toEqual({ messages: 0, consumers: 1 });
      expect(slotStatus.cutovers.map((c) => c.status)).toEqual(['completed', 'rolled-back', 'completed']);
      expect(slotStatus.cutovers.every((c) => c.last.actor.subject === 'load-test')).toBe(true);
      if (process.env.KEPLER_TEST_VERBOSE) process.stderr.write(`${log.join('\n')}\n`);
    } finally {
      await audit.stop();
      await Promise.all([consumers.blue.stop(), consumers.green.stop()]);
      await Promise.all([gateway.stop(), slots.blue?.stop(), slots.green?.stop()]);
    }

    const store = SqliteEventStore.open(join(dataDir, 'events.db'));
    const refStore = SqliteEventStore.open(join(dir, 'reference', 'events.db'));
    try {
      const events = await allEvents(store);
      // Every confirmed feed message appended exactly once, by source sequence: the intake is the reference's.
      // Of a line sent twice verbatim (same sequence, same content), which copy is kept (its line number)
      // depends on which slot's consumer took one first while both queues were bound: the content cannot.
      const intake = await intakeStreams(store);
      expect(withoutPlaceOfDuplicates(intake)).toEqual(withoutPlaceOfDuplicates(await intakeStreams(refStore, { exceptTypes: ['TrailerMismatched'] })));
      for (const [stream, list] of intake) expect(list.length, stream).toBe(1);
      expect(new Set(events.map((e) => e.id)).size).toBe(events.length);

      // Decision streams: every decision by the slot that owned the stream then, hand-overs recorded, no input decided twice.
      const byStream = new Map<string, RecordedEvent[]>();
      for (const event of events) if (/^(trade|booking)-/.test(event.stream)) byStream.set(event.stream, [...(byStream.get(event.stream) ?? []), event]);
      let handOvers = 0;
      const bySlot = { blue: 0, green: 0 } as Record<string, number>;
      for (const [stream, list] of byStream) {
        let owner: string | null = null;
        const inputs = new Map<string, number>();
        list.forEach((event, index) => {
          if (event.type === 'SlotClaimed') {
            expect(owner, `${stream} claimed twice`).toBeNull();
            owner = (event.data as { slot: string }).slot;
            return;
          }
          if (event.type === 'SlotHandedOver') {
            const { from, to } = event.data as { from: string; to: string };
            expect(from, `${stream}: handed over by a slot that did not own it`).toBe(owner);
            owner = to;
            handOvers++;
            return;
          }
          expect(event.metadata.slot, `${stream} r${event.revision} ${event.type} decided by ${event.metadata.slot}, owned by ${owner}`).toBe(owner);
          bySlot[event.metadata.slot!]!++;
          const inputId = (event.data as { inputId: string }).inputId;
          const previous = inputs.get(inputId);
          expect(previous === undefined || previous === index - 1, `${stream}: input ${inputId} decided twice`).toBe(true);
          inputs.set(inputId, index);
        });
        expect(owner, `${stream} still owned by the drained slot`).not.toBe('blue');
      }
      expect(handOvers).toBeGreaterThan(0);
      expect(bySlot.blue).toBeGreaterThan(0);
      expect(bySlot.green).toBeGreaterThan(0);

      // Integration events: each published at least once, per trade in order once deduplicated by message-id.
      const published = events.filter((e) => INTEGRATION_ROUTING_KEYS[e.type] !== undefined);
      const firsts = new Map<string, { correlationId: string; position: number }>();
      for (const message of audit.received) if (!firsts.has(message.messageId)) firsts.set(message.messageId, message);
      expect(published.filter((e) => !firsts.has(e.id)).map((e) => `${e.type} ${e.stream}`)).toEqual([]);
      const lastPosition = new Map<string, number>();
      for (const { correlationId, position } of firsts.values()) {
        expect(position, `integration events of ${correlationId} out of order`).toBeGreaterThan(lastPosition.get(correlationId) ?? 0);
        lastPosition.set(correlationId, position);
      }
      expect(new Set(audit.received.map((m) => m.slot))).toEqual(new Set(['blue', 'green']));
    } finally {
      await store.close();
      await refStore.close();
    }
  }, 300_000);
});
