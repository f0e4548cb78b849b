// A feed consumer killed between the durable append and the ack loses nothing
// and doubles nothing: the broker redelivers, and the store finds duplicates.
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../eventstore/index.js';
import { publishFile, switchLiveSlot, type FeedBatchReport, type FeedConsumerStatus } from '../../messaging/index.js';
import { tempDir } from '../support/feed.js';
import { REPO_ROOT } from '../support/kepler.js';
import { ingestAsFiles, totals, writeTestFeed } from './feeds.js';
import { allEvents, intakeStreams, rabbitMq, TestBroker, uniquePrefix, waitFor } from './rabbit.js';

const url = await rabbitMq();
const CHILD = join(REPO_ROOT, 'tests', 'messaging', 'consumer-child.mjs');

/** The child runs the compiled code: build it when messaging/ changed since (npm test builds first anyway). */
function ensureBuilt(): void {
  const sources = readdirSync(join(REPO_ROOT, 'messaging')).filter((f) => f.endsWith('.ts'));
  const stale = sources.some((file) => {
    const js = join(REPO_ROOT, 'dist', 'messaging', file.replace(/\.ts$/, '.js'));
    return !existsSync(js) || statSync(js).mtimeMs < statSync(join(REPO_ROOT, 'messaging', file)).mtimeMs;
  });
  if (!stale) return;
  try {
    execFileSync(join(REPO_ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], { cwd: REPO_ROOT, stdio: 'ignore' });
  } catch {
    // Type errors elsewhere in the tree do not stop tsc from emitting.
  }
}

type Report = ({ event: 'durable'; batch: number } & FeedBatchReport) | { event: 'consuming' } | { event: 'stopped'; status: FeedConsumerStatus };

interface Child {
  reports: Report[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill: (signal: NodeJS.Signals) => void;
}

function startChild(env: Record<string, string>): Child {
  const child = spawn(process.execPath, [CHILD], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const reports: Report[] = [];
  let buffered = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) if (line.trim()) reports.push(JSON.parse(line) as Report);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { reports, stderr: () => stderr, exited, kill: (signal) => child.kill(signal) };
}

const durable = (reports: Report[]) => reports.filter((r): r is Extract<Report, { event: 'durable' }> => r.event === 'durable');

describe.skipIf(!url)('feed consumer killed between append and ack', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('loses nothing and doubles nothing', async () => {
    ensureBuilt();
    const prefix = uniquePrefix('crash');
    const broker = await TestBroker.open(url!, prefix);
    cleanups.push(() => broker.cleanup());
    await switchLiveSlot(broker.channel, broker.names, 'blue');
    const queue = broker.names.feedQueues.blue;

    const feed = writeTestFeed(400);
    const reference = await ingestAsFiles(feed);
    cleanups.push(() => reference.store.close());
    let total = 0;
    for (const path of feed.paths) total += (await publishFile(broker.channel, broker.names.feedExchange, path)).published;
    expect(await broker.messageCount(queue)).toBe(total);

    const db = join(tempDir('kepler-amqp-crash-'), 'events.db');
    const env = { AMQP_URL: url!, PREFIX: prefix, DB: db, CONNECTION_NAME: `${prefix}.child` };

    // Each round: the child acknowledges batches 1..k-1, appends batch k durably, and is killed before acking it.
    let ready = total;
    for (const killAfter of [2, 3, 2]) {
      const child = startChild({ ...env, KILL_AFTER_BATCHES: String(killAfter) });
      const exit = await child.exited;
      expect(exit.signal, child.stderr()).toBe('SIGKILL');
      const batches = durable(child.reports);
      expect(batches.map((b) => b.batch)).toEqual(Array.from({ length: killAfter }, (_, i) => i + 1));
      const killed = batches.at(-1)!;
      expect(killed.messages).toBeGreaterThan(0);
      const acked = batches.slice(0, -1).reduce((n, b) => n + b.messages, 0);
      ready -= acked;
      // The killed batch is in the store, yet back in the queue: it was never acknowledged.
      await waitFor(`${ready} messages ready again`, async () => (await broker.messageCount(queue)) === ready, 10_000);
    }
    const store = SqliteEventStore.open(db);
    cleanups.push(() => store.close());
    const reached = await intakeStreams(store);
    expect(reached.size).toBeGreaterThan(0);

    // The last consumer runs to the end.
    const expected = await intakeStreams(reference.store, { exceptTypes: ['TrailerMismatched'] });
    const child = startChild(env);
    await waitFor(
      'the last consumer to take everything',
      async () => (await broker.messageCount(queue)) === 0 && (await intakeStreams(store)).size === expected.size,
      30_000,
      100,
    );
    child.kill('SIGTERM');
    const exit = await child.exited;
    expect(exit.code, child.stderr()).toBe(0);
    const stopped = child.reports.find((r): r is Extract<Report, { event: 'stopped' }> => r.event === 'stopped')!;
    // It was handed the killed batches again, and found their lines already there.
    expect(stopped.status.redelivered).toBeGreaterThan(0);
    expect(stopped.status.duplicates).toBeGreaterThan(0);
    expect(await broker.messageCount(queue)).toBe(0);

    const actual = await intakeStreams(store);
    expect(actual).toEqual(expected);
    for (const [stream, events] of actual) expect(events.length, stream).toBe(1);
    const ids = (await allEvents(store)).map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    const accepted = [...actual.values()].flat().filter((e) => e.type !== 'LineRejected').length;
    expect(accepted).toBe(totals(reference.summaries).accepted);
  });
});
