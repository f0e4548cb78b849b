// The CX1 feed over RabbitMQ: lines published, consumed and durably appended.
import { join } from 'node:path';
import { writeLargeFeed } from './feed-generator.js';
import { secondsSince, type Bench } from './kit.js';
import { deleteBenchTopology, rate, runMeasured, ServeProcess } from './platform.js';

export async function amqpSection(bench: Bench): Promise<void> {
  const url = process.env.KEPLER_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
  const prefix = `kepler-bench-${process.pid}`;
  const dir = bench.scratch('amqp');
  const lines = 100_000;
  const file = await writeLargeFeed(join(dir, 'CORE_AMQP.cx1'), { lines, seed: 3, source: 'CORE' });
  const env = { KEPLER_AMQP_URL: url, KEPLER_AMQP_PREFIX: prefix };
  const serve = await ServeProcess.start(join(dir, 'data'), ['--roles', 'ingestion'], env);
  try {
    const live = await runMeasured(['slot', '--data-dir', join(dir, 'data'), 'live', 'blue'], env);
    if (live.code !== 0) throw new Error(live.stderr);
    const started = process.hrtime.bigint();
    const published = await runMeasured(['publish', file.path], env);
    if (published.code !== 0) throw new Error(published.stderr);
    const publishSeconds = secondsSince(started);
    while ((await serve.status()).head < file.lines) await new Promise((r) => setTimeout(r, 50));
    const seconds = secondsSince(started);
    bench.figure(`amqp: ${lines.toLocaleString('en')} lines published (confirms)`, `${rate(lines, publishSeconds)} lines/s`);
    bench.figure(`amqp: ${lines.toLocaleString('en')} lines published and durably appended`, `${rate(lines, seconds)} lines/s`);
  } finally {
    await serve.stop();
    await deleteBenchTopology(url, prefix);
  }
}
