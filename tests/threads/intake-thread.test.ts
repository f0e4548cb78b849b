// The intake thread must hand over exactly what parsing inline produces, and
// fail the way inline parsing fails.
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateFeed, writeFeed, writeLargeFeed } from '../../bench/feed-generator.js';
import { compiled } from '../support/compiled.js';
import { tempDir } from '../support/feed.js';
import { ingest, runCli } from '../support/kepler.js';

type FileIntakeModule = typeof import('../../ingestion/file-intake.js');
type ThreadedModule = typeof import('../../ingestion/threaded-file-intake.js');

async function drain<T, R>(batches: AsyncGenerator<T, R>): Promise<{ batches: T[]; result: R }> {
  const seen: T[] = [];
  for (;;) {
    const next = await batches.next();
    if (next.done) return { batches: seen, result: next.value };
    seen.push(next.value);
  }
}

describe('parsing a CX1 file on a worker thread', () => {
  it('hands over the same items, in the same order, with the same summary as parsing inline', async () => {
    const { fileIntake } = await compiled<FileIntakeModule>('ingestion/file-intake.ts');
    const { threadedFileIntake } = await compiled<ThreadedModule>('ingestion/threaded-file-intake.ts');
    const feed = generateFeed({
      seed: 11,
      trades: 700,
      badLines: { badIsin: 3, sourceMismatch: 2, wrongLength: 2 },
      brokenTrailers: { wrongCount: 1 },
    });
    const dir = tempDir();
    const files = await writeFeed(feed, dir);
    // 700 is not a multiple of the thread's batches of 500, 1,000 is: both must join them without overshooting.
    for (const batchSize of [700, 1000]) {
      for (const path of files) {
        const file = path.split('/').at(-1)!;
        const inline = await drain(fileIntake(path, file, batchSize));
        const threaded = await drain(threadedFileIntake(path, file, batchSize));
        // The thread sends small batches that this side joins; the items and their order must not change.
        expect(threaded.batches.flatMap((b) => b.items)).toEqual(inline.batches.flatMap((b) => b.items));
        expect(threaded.batches.every((b) => b.items.length <= batchSize)).toBe(true);
        expect(threaded.batches.at(-1)?.linesRead).toBe(inline.batches.at(-1)?.linesRead);
        expect(threaded.result).toEqual(inline.result);
      }
    }
    expect(files.length).toBeGreaterThanOrEqual(3);
  });

  it('reports a read that fails part-way as a file-system error, and the CLI says the file cannot be read', async () => {
    const dir = tempDir();
    // Readable as far as access() can tell; reading it fails (EISDIR) inside the thread.
    const notAFile = join(dir, 'CORE_20261127_0000000001.cx1');
    mkdirSync(notAFile);
    const { threadedFileIntake, IntakeThreadError } = await compiled<ThreadedModule>('ingestion/threaded-file-intake.ts');
    const failure = await drain(threadedFileIntake(notAFile, 'x.cx1', 100)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(IntakeThreadError);
    expect(failure).toMatchObject({ code: 'EISDIR', syscall: 'read' });

    const run = await runCli(['ingest', '--data-dir', join(dir, 'data'), notAFile]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`cannot read ${notAFile}`);
    expect(run.stderr).toContain('EISDIR');
  });

  it('through the CLI, a file large enough for the thread is taken whole, and taken again as duplicates', async () => {
    const dir = tempDir();
    // Over the 4 MiB from which `kepler ingest` parses on a thread.
    const feed = await writeLargeFeed(join(dir, 'CORE_20261127_0000000007.cx1'), { lines: 40_000, seed: 3, source: 'CORE' });
    expect(statSync(feed.path).size).toBeGreaterThan(4 * 1024 * 1024);
    const [first] = await ingest(join(dir, 'data'), [feed.path]);
    expect(first).toMatchObject({ lines: feed.lines, accepted: feed.lines, duplicates: 0, rejected: 0, trailer: 'OK' });
    const [again] = await ingest(join(dir, 'data'), [feed.path]);
    expect(again).toMatchObject({ lines: feed.lines, accepted: 0, duplicates: feed.lines, rejected: 0, trailer: 'OK' });
  });
});
