// `kepler ingest` against the raw batched append of the events it produced, for
// the shapes a feed arrives in: one big file, many medium files, many small ones.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { INGEST_BATCH_SIZE, type FileIngestionSummary } from '../ingestion/index.js';
import { writeLargeFeed } from './feed-generator.js';
import type { Bench } from './kit.js';
import { runMeasured } from './platform.js';
import { eventsOfSqliteStore } from './raw-append.js';

/**
 * Feeds of about a million lines, as one file, 50 files and 500 files (the targets), and the
 * feed issue #14 was opened on, 61 files of about 20,000 lines (1.26 M), which it asks to be
 * checked on another machine with the single file.
 */
export const INGEST_SHAPES = [
  { files: 1, lines: 1_000_000 },
  { files: 50, lines: 20_000 },
  { files: 500, lines: 2_000 },
  { files: 61, lines: 20_656 },
];

export async function ingestSection(bench: Bench): Promise<void> {
  for (const shape of INGEST_SHAPES) {
    const dir = bench.scratch(`ingest-${shape.files}x${shape.lines}`);
    try {
      const files = await coreFiles(dir, shape.files, shape.lines);
      const lines = shape.files * shape.lines;
      const run = await ingestFiles(join(dir, 'data'), files, lines);
      const raw = await bench.baselines.rawAppend(eventsOfSqliteStore(join(dir, 'data', 'events.db'), INGEST_BATCH_SIZE));
      const label = shape.files === 1 ? `one ${shape.lines.toLocaleString('en')}-line file` : `${shape.files} files of ${shape.lines.toLocaleString('en')} lines`;
      bench.ratio(
        `ingest, ${label}`,
        { rate: lines / run.seconds, unit: 'lines', detail: `${run.seconds.toFixed(2)} s, whole CLI run; peak RSS ${run.peakRssMb.toFixed(0)} MB` },
        { ...raw, of: 'raw batched append', detail: `${raw.detail}, ${raw.meanEventBytes.toFixed(0)} bytes each` },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** Peak memory of one file as it grows: it should stay flat. */
export async function ingestMemorySection(bench: Bench): Promise<void> {
  for (const lines of [250_000, 1_000_000, 4_000_000]) {
    const dir = bench.scratch(`ingest-memory-${lines}`);
    try {
      const files = await coreFiles(dir, 1, lines);
      const run = await ingestFiles(join(dir, 'data'), files, lines);
      bench.figure(`ingest ${lines.toLocaleString('en')} lines: peak RSS MB`, Math.round(run.peakRssMb));
      bench.figure(`ingest ${lines.toLocaleString('en')} lines: lines/s (whole CLI run)`, Math.round(lines / run.seconds));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** CORE files of consecutive sequences and distinct trades, named as the feed names them. */
async function coreFiles(dir: string, count: number, lines: number): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const path = join(dir, `CORE_20261127_${String(i + 1).padStart(10, '0')}.cx1`);
    await writeLargeFeed(path, { lines, seed: 1, source: 'CORE', firstSequence: i * lines + 1, refPrefix: `F${i}` });
    paths.push(path);
  }
  return paths;
}

async function ingestFiles(dataDir: string, files: string[], lines: number) {
  const run = await runMeasured(['ingest', '--data-dir', dataDir, '--json', ...files]);
  if (run.code !== 0) throw new Error(run.stderr);
  const summaries = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as FileIngestionSummary);
  const accepted = summaries.reduce((sum, s) => sum + s.accepted, 0);
  if (summaries.length !== files.length || accepted !== lines) throw new Error(`ingest took ${accepted} of ${lines} lines in ${summaries.length} summaries`);
  return run;
}
