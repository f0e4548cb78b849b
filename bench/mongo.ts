// Projections into MongoDB: a rebuild of every read model into FerretDB (MongoDB wire protocol).
import { join } from 'node:path';
import type { Bench } from './kit.js';
import { rate, runMeasured, ServeProcess, startFerretDb, threeSourceFeed } from './platform.js';

export async function mongoSection(bench: Bench): Promise<void> {
  const dir = bench.scratch('mongo');
  // Small: FerretDB v1 on SQLite scans a whole collection for each update of an existing document.
  const files = await threeSourceFeed(dir, 2_000);
  const seed = await runMeasured(['ingest', '--data-dir', join(dir, 'data'), ...files.paths]);
  if (seed.code !== 0) throw new Error(seed.stderr);
  const ferret = await startFerretDb(dir);
  try {
    const env = { KEPLER_MONGODB_URL: ferret.uri, KEPLER_MONGODB_DATABASE: 'bench' };
    // Processors run on SQLite first, so the rebuild measures projections alone.
    const serve = await ServeProcess.start(join(dir, 'data'), ['--roles', 'processors'], { KEPLER_PROJECTIONS_THREAD: '0' });
    await serve.caughtUpProcessors();
    await serve.stop();
    const run = await runMeasured(['rebuild', '--data-dir', join(dir, 'data')], env);
    if (run.code !== 0) throw new Error(run.stderr);
    const head = Number(/up to position (\d+)/.exec(run.stdout)?.[1] ?? 0);
    bench.figure(`mongo (FerretDB): rebuild 3 read models over ${head.toLocaleString('en')} events`, `${run.seconds.toFixed(1)} s`);
    bench.figure('mongo (FerretDB): events/s per read model', rate(head * 3, run.seconds));
  } finally {
    ferret.stop();
  }
}
