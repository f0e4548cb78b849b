// `npm run bench -- cutover`: a blue → green cut-over under a steady feed over AMQP. How long the
// cut-over took, and the longest any trade's input waited for its decision, during the
// cut-over and outside it (the pause a trade saw). Uses the machine's RabbitMQ, under a prefix of its own.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateFeed, CLEAN_RATES } from './feed-generator.js';
import { deleteBenchTopology, runMeasured, ServeProcess } from './platform.js';

type Report = (name: string, value: string | number) => void;

export async function cutoverSection(report: Report): Promise<void> {
  const { feedLineMessage, openConnection, topologyNames } = await import('../messaging/index.js');
  const { SqliteEventStore } = await import('../eventstore/index.js');
  const url = process.env.KEPLER_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
  const prefix = `kepler-bench-cutover-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'kepler-bench-cutover-'));
  const dataDir = join(dir, 'data');
  const env = { KEPLER_AMQP_URL: url, KEPLER_AMQP_PREFIX: prefix };
  const ratePerSecond = Number(process.env.KEPLER_BENCH_CUTOVER_RATE ?? 500);
  const seconds = Number(process.env.KEPLER_BENCH_CUTOVER_SECONDS ?? 20);
  const feed = generateFeed({ seed: 5, trades: Math.ceil((ratePerSecond * seconds) / 4), filesPerSource: 1, rates: CLEAN_RATES });
  const lines = feed.files.flatMap((file) => file.lines.slice(1, -1).map((raw, i) => ({ source: file.source, file: file.name, line: i + 2, raw })));
  // Interleaved as three systems publishing at once: a trade's allocations and confirmation follow its capture.
  const order = { CORE: 0, ALLOC: 1, CUSTODY: 2 };
  lines.sort((a, b) => a.raw.slice(15, 24).localeCompare(b.raw.slice(15, 24)) || order[a.source] - order[b.source]);

  const blue = await ServeProcess.start(dataDir, [], { ...env, KEPLER_SLOT: 'blue' });
  const green = await ServeProcess.start(dataDir, [], { ...env, KEPLER_SLOT: 'green' });
  let cutoverWindow = { from: 0, to: 0 };
  try {
    const live = await runMeasured(['slot', '--data-dir', dataDir, 'live', 'blue'], env);
    if (live.code !== 0) throw new Error(live.stdout + live.stderr);
    const connection = await openConnection(url, 'kepler-bench-cutover');
    const channel = await connection.createConfirmChannel();
    const exchange = topologyNames(prefix).feedExchange;
    const started = Date.now();
    let cutover: Promise<void> | null = null;
    // A steady rate: every 50 ms, what the rate allows by then; the cut-over starts at a third of the run.
    for (let sent = 0; sent < lines.length; ) {
      const due = Math.min(lines.length, Math.floor(((Date.now() - started) / 1000) * ratePerSecond));
      for (; sent < due; sent++) {
        const message = feedLineMessage(lines[sent]!);
        channel.publish(exchange, message.routingKey, message.content, message.options);
      }
      await channel.waitForConfirms();
      if (!cutover && Date.now() - started > (seconds * 1000) / 3) {
        cutover = (async () => {
          const from = Date.now();
          const run = await runMeasured(['slot', '--data-dir', dataDir, 'cutover', 'green'], env);
          if (run.code !== 0) throw new Error(run.stdout + run.stderr);
          cutoverWindow = { from, to: Date.now() };
          report('cutover under load: kepler slot cutover green (whole CLI run)', `${run.seconds.toFixed(1)} s`);
        })();
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await cutover;
    await connection.close();
    await green.caughtUp(1, 300_000);
    await blue.caughtUp(1, 300_000);
  } finally {
    await Promise.all([blue.stop(), green.stop()]);
    await deleteBenchTopology(url, prefix).catch(() => {});
  }

  const store = SqliteEventStore.open(join(dataDir, 'events.db'));
  try {
    const recorded = new Map<string, Date>();
    const waits: Array<{ at: number; ms: number }> = [];
    let plannedAt: Date | null = null;
    let completedAt: Date | null = null;
    for (let after = 0; ; ) {
      const page = await store.readAll(after, { maxCount: 10_000 });
      for (const event of page.events) {
        recorded.set(event.id, event.recordedAt);
        // The last cut-over in the store is green's (blue's "live" came first).
        if (event.type === 'CutoverPlanned') plannedAt = event.recordedAt;
        if (event.type === 'CutoverCompleted') completedAt = event.recordedAt;
        const cause = event.metadata.causationId ? recorded.get(event.metadata.causationId) : undefined;
        if (cause && /^(trade|booking)-/.test(event.stream)) waits.push({ at: cause.getTime(), ms: event.recordedAt.getTime() - cause.getTime() });
      }
      if (page.endOfStore || page.scannedTo <= after) break;
      after = page.scannedTo;
    }
    if (plannedAt && completedAt) report('cutover under load: plan recorded to completion recorded (7 steps, checks included)', `${((completedAt.getTime() - plannedAt.getTime()) / 1000).toFixed(1)} s`);
    const during = waits.filter((w) => w.at >= cutoverWindow.from && w.at <= cutoverWindow.to).map((w) => w.ms);
    const outside = waits.filter((w) => w.at < cutoverWindow.from || w.at > cutoverWindow.to).map((w) => w.ms).sort((a, b) => a - b);
    report(`cutover under load: feed rate`, `${ratePerSecond} lines/s for ${seconds} s`);
    report('cutover under load: longest input → decision wait during the cut-over', `${Math.max(0, ...during)} ms`);
    report('cutover under load: input → decision wait outside it, p99 / max', `${outside[Math.floor(outside.length * 0.99)] ?? 0} / ${outside.at(-1) ?? 0} ms`);
  } finally {
    await store.close();
  }
}
