// The intake thread must hand over exactly what parsing inline produces, file
// boundaries included, and fail the way inline parsing fails.
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateFeed, writeFeed, writeLargeFeed } from '../../bench/feed-generator.js';
import { decodeEvent } from '../../eventstore/index.js';
import { unpackIntakeBatch, type IntakeBatch } from '../../ingestion/intake-batch.js';
import type { PackedIntakeBatch } from '../../ingestion/packed-batch.js';
import { compiled } from '../support/compiled.js';
import { tempDir } from '../support/feed.js';
import { ingest, REPO_ROOT, runCli } from '../support/kepler.js';
import { closedPort } from '../support/servers.js';

type FileIntakeModule = typeof import('../../ingestion/file-intake.js');
type ThreadedModule = typeof import('../../ingestion/threaded-file-intake.js');
type UnreadableModule = typeof import('../../ingestion/unreadable-file.js');

async function drain(batches: AsyncGenerator<PackedIntakeBatch, void>): Promise<IntakeBatch[]> {
  const seen: IntakeBatch[] = [];
  for await (const batch of batches) seen.push(unpackIntakeBatch(batch));
  return seen;
}

/** Per file, in order: its items' kinds and streams, and its summary. What the writer makes of a run. */
function byFile(batches: IntakeBatch[]) {
  const files: Array<{ file: number; items: string[]; summary?: IntakeBatch['segments'][number]['summary'] }> = [];
  for (const batch of batches) {
    let item = 0;
    expect(batch.segments.reduce((sum, s) => sum + s.items, 0)).toBe(batch.items.length);
    for (const segment of batch.segments) {
      let entry = files.at(-1);
      if (entry?.file !== segment.file) files.push((entry = { file: segment.file, items: [] }));
      expect(entry.summary).toBeUndefined();
      for (const end = item + segment.items; item < end; item++) entry.items.push(`${batch.items[item]!.kind} ${batch.items[item]!.append.stream}`);
      if (segment.summary) entry.summary = segment.summary;
    }
  }
  return files;
}

describe('parsing the files of a run on a worker thread', () => {
  it('hands over the same items, in the same order, with the same file boundaries and summaries as parsing inline', async () => {
    const { feedIntake } = await compiled<FileIntakeModule>('ingestion/file-intake.ts');
    const { threadedFeedIntake } = await compiled<ThreadedModule>('ingestion/threaded-file-intake.ts');
    const feed = generateFeed({
      seed: 11,
      trades: 700,
      badLines: { badIsin: 3, sourceMismatch: 2, wrongLength: 2 },
      brokenTrailers: { wrongCount: 1, missing: 1 },
    });
    const dir = tempDir();
    const files = (await writeFeed(feed, dir)).map((path) => ({ path, name: basename(path) }));
    expect(files.length).toBeGreaterThanOrEqual(3);
    // 700 is not a multiple of the thread's batches of 500, 1,000 is: both must join them without overshooting.
    for (const batchSize of [700, 1000]) {
      const inline = await drain(feedIntake(files, batchSize));
      const threaded = await drain(threadedFeedIntake(files, batchSize).batches);
      expect(threaded.flatMap((b) => b.items)).toEqual(inline.flatMap((b) => b.items));
      expect(threaded.every((b) => b.items.length <= batchSize)).toBe(true);
      expect(byFile(threaded)).toEqual(byFile(inline));
    }

    const run = byFile(await drain(feedIntake(files, 1000)));
    expect(run.map((f) => f.file)).toEqual(files.map((_, i) => i));
    for (const file of run) {
      // Every line but a valid header and trailer is an item; a broken trailer adds the file's exception, last.
      const exceptions = file.items.filter((item) => item.startsWith('exception '));
      expect(file.items.length - exceptions.length).toBe(file.summary!.lines);
      expect(exceptions.length).toBe(file.summary!.trailer === 'OK' ? 0 : 1);
      if (exceptions.length > 0) expect(file.items.at(-1)).toBe(exceptions[0]);
    }
    expect(run.some((f) => f.summary!.trailer !== 'OK')).toBe(true);
  });

  it('when recycling, takes back each batch\'s buffers once the next is asked for, and fills them again with the same items as parsing inline', async () => {
    const { feedIntake } = await compiled<FileIntakeModule>('ingestion/file-intake.ts');
    const { threadedFeedIntake } = await compiled<ThreadedModule>('ingestion/threaded-file-intake.ts');
    const dir = tempDir();
    const path = join(dir, 'CORE_20261127_0000000001.cx1');
    // Many more batches than are ever in flight, so that buffers come back and are filled again.
    await writeLargeFeed(path, { lines: 30_000, seed: 5, source: 'CORE' });
    const files = [{ path, name: basename(path) }];
    // What a writer reads of each batch: its keys and its events' JSON, copied while the batch is its own.
    const contents = (batch: PackedIntakeBatch) => unpackIntakeBatch(batch).items.map(({ kind, append: { stream, events: [event] } }) => [kind, stream, decodeEvent(event!)]);
    const inline: unknown[] = [];
    for await (const batch of feedIntake(files, 1000)) inline.push(...contents(batch));
    const threaded: unknown[] = [];
    let previous: PackedIntakeBatch | null = null;
    let handedBack = 0;
    for await (const batch of threadedFeedIntake(files, 1000, { recycle: true }).batches) {
      // The batch before this one went back to the thread: its buffers are no longer here.
      if (previous) handedBack += previous.json.filter((chunk) => chunk.bytes.byteLength === 0).length;
      threaded.push(...contents(batch));
      previous = batch;
    }
    expect(threaded).toEqual(inline);
    expect(handedBack).toBeGreaterThan(25);
  });

  it('turns the event loop before handing over each store batch, even when the thread is ahead and its batches are waiting', async () => {
    // The writer's isolate runs its garbage collector's tasks (scavenges, the end of a full
    // collection) on its event loop. Handed the next batch straight from the inbox, the writer
    // turned its loop only when the thread fell behind: its scavenges came mid-write, promoting
    // the batch being written, and its full collections found that batch live and let the heap
    // grow to four times it (BENCHMARKS.md, eleventh session).
    const { threadedFeedIntake } = await compiled<ThreadedModule>('ingestion/threaded-file-intake.ts');
    const dir = tempDir();
    const path = join(dir, 'CORE_20261127_0000000001.cx1');
    await writeLargeFeed(path, { lines: 12_000, seed: 3, source: 'CORE' });
    let batches = 0;
    let withoutTurn = 0;
    let turned = true;
    for await (const batch of threadedFeedIntake([{ path, name: basename(path) }], 1000, { recycle: true }).batches) {
      batches += 1;
      if (!turned) withoutTurn += 1;
      // The first time, the thread is let run ahead: every batch it may send is waiting after this.
      if (batches === 1) await new Promise((resolve) => setTimeout(resolve, 500));
      turned = false;
      setImmediate(() => (turned = true));
      void batch;
    }
    expect(batches).toBeGreaterThanOrEqual(12);
    expect(withoutTurn).toBe(0);
  });

  it('lets a batch end one file and begin the next, so small files flow as one', async () => {
    const { feedIntake } = await compiled<FileIntakeModule>('ingestion/file-intake.ts');
    const dir = tempDir();
    const files = [];
    for (let i = 0; i < 5; i++) {
      const path = join(dir, `CORE_20261127_000000000${i + 1}.cx1`);
      await writeLargeFeed(path, { lines: 300, seed: 1, firstSequence: i * 300 + 1, refPrefix: `S${i}` });
      files.push({ path, name: basename(path) });
    }
    const batches = await drain(feedIntake(files, 1000));
    expect(batches.map((b) => b.items.length)).toEqual([1000, 500]);
    expect(batches[0]!.segments.map((s) => [s.file, s.items, s.summary?.lines])).toEqual([[0, 300, 300], [1, 300, 300], [2, 300, 300], [3, 100, undefined]]);
    expect(batches[1]!.segments.map((s) => [s.file, s.items, s.summary?.lines])).toEqual([[3, 200, 300], [4, 300, 300]]);
  });

  it('reports a read that fails part-way as that file unreadable, and the CLI says the file cannot be read', async () => {
    const dir = tempDir();
    // Readable as far as access() can tell; reading it fails (EISDIR) inside the thread.
    const notAFile = join(dir, 'CORE_20261127_0000000001.cx1');
    mkdirSync(notAFile);
    const { threadedFeedIntake } = await compiled<ThreadedModule>('ingestion/threaded-file-intake.ts');
    const { UnreadableFileError } = await compiled<UnreadableModule>('ingestion/unreadable-file.ts');
    const failure = await drain(threadedFeedIntake([{ path: notAFile, name: 'x.cx1' }], 100).batches).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UnreadableFileError);
    expect(failure).toMatchObject({ path: notAFile, message: expect.stringContaining('EISDIR') });

    const run = await runCli(['ingest', '--data-dir', join(dir, 'data'), notAFile]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`cannot read ${notAFile}`);
    expect(run.stderr).toContain('EISDIR');
  });

  it('through the CLI, a store that cannot be opened stops the thread the intake started before it: the process exits with the store\'s error', async () => {
    const dir = tempDir();
    // Large enough for the thread, which the CLI starts before it opens the store.
    const feed = await writeLargeFeed(join(dir, 'CORE_20261127_0000000009.cx1'), { lines: 40_000, seed: 4, source: 'CORE' });
    expect(statSync(feed.path).size).toBeGreaterThan(4 * 1024 * 1024);
    const port = await closedPort();
    // Left running, the thread (waiting for the writer to take its batches) would keep the process alive until killed.
    const run = await runCli(['ingest', '--data-dir', join(dir, 'data'), feed.path], {
      env: { KEPLER_EVENTSTORE_URL: `postgres://kepler:secret@127.0.0.1:${port}/kepler`, KEPLER_STORE_WAIT_MS: '300' },
      killAfterMs: 60_000,
    });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/^kepler ingest: the event store at postgres:\/\/kepler:\*\*\*@127\.0\.0\.1:\d+\/kepler did not answer within \d+ s/m);
    expect(run.stdout).toBe('');
  });

  it('through the CLI, files large enough for the thread are taken whole, each summarised in order, and taken again as duplicates', async () => {
    const dir = tempDir();
    // Over the 4 MiB from which `kepler ingest` parses on a thread, in two files.
    const first = await writeLargeFeed(join(dir, 'CORE_20261127_0000000007.cx1'), { lines: 40_000, seed: 3, source: 'CORE' });
    const second = await writeLargeFeed(join(dir, 'CORE_20261127_0000000008.cx1'), { lines: 25_001, seed: 3, source: 'CORE', firstSequence: 40_001, refPrefix: 'M' });
    expect(statSync(first.path).size).toBeGreaterThan(4 * 1024 * 1024);
    const once = await ingest(join(dir, 'data'), [first.path, second.path]);
    expect(once).toMatchObject([
      { file: basename(first.path), lines: first.lines, accepted: first.lines, duplicates: 0, rejected: 0, trailer: 'OK' },
      { file: basename(second.path), lines: second.lines, accepted: second.lines, duplicates: 0, rejected: 0, trailer: 'OK' },
    ]);
    const again = await ingest(join(dir, 'data'), [second.path, first.path]);
    expect(again).toMatchObject([
      { file: basename(second.path), lines: second.lines, accepted: 0, duplicates: second.lines, rejected: 0, trailer: 'OK' },
      { file: basename(first.path), lines: first.lines, accepted: 0, duplicates: first.lines, rejected: 0, trailer: 'OK' },
    ]);
  });
});

/** Every module a compiled module loads before it runs (its static imports, followed): repository paths, and packages by name. */
function staticImports(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    if (!file.startsWith('/')) return;
    const source = readFileSync(file, 'utf8');
    for (const [, specifier] of source.matchAll(/^\s*(?:import|export)\s(?:[^'";]*?\sfrom\s)?['"]([^'"]+)['"]/gm)) {
      visit(specifier!.startsWith('.') ? resolve(dirname(file), specifier!) : specifier!);
    }
  };
  visit(join(REPO_ROOT, 'dist', entry));
  return [...seen].map((file) => (file.startsWith('/') ? relative(join(REPO_ROOT, 'dist'), file) : file));
}

describe('what the intake thread waits for at the start of `kepler ingest`', () => {
  it('the ingest command starts the thread from modules that load neither the domain, the event store nor telemetry', () => {
    const before = staticImports('app/commands/ingest.js');
    expect(before).toContain('ingestion/start-intake.js');
    expect(before.filter((module) => /^(domain|eventstore|telemetry|stores)\//.test(module) || module === 'better-sqlite3' || module === 'immutable')).toEqual([]);
  });

  it('the CLI, before it runs the chosen command, loads neither the configuration nor the stores (they wait until the ingest command has started its thread)', () => {
    const cli = staticImports('app/cli.js');
    expect(cli.filter((module) => module === 'app/config.js' || module === 'app/stores.js' || /^(domain|eventstore|telemetry|stores|authentication)\//.test(module) || module === 'better-sqlite3')).toEqual([]);
  });

  it('the thread loads no event store: neither the SQLite adapter nor better-sqlite3', () => {
    const thread = staticImports('ingestion/intake-thread.js');
    expect(thread).toContain('ingestion/file-intake.js');
    expect(thread.filter((module) => module.startsWith('eventstore/sqlite/') || module === 'better-sqlite3' || module === 'eventstore/index.js')).toEqual([]);
  });

  it("the thread loads the feed's side of the domain alone: not the trade, booking and approvals decisions, nor immutable", () => {
    const thread = staticImports('ingestion/intake-thread.js');
    expect(thread).toContain('domain/feed.js');
    expect(thread.filter((module) => /^domain\/(index\.js|trade\/|booking\/|approvals\/)/.test(module) || module === 'immutable')).toEqual([]);
  });

  it("the thread's parser builds its results without loading fp-ts (about half of the thread's module loading)", () => {
    const thread = staticImports('ingestion/intake-thread.js');
    expect(thread).toContain('ingestion/cx1/parse.js');
    expect(thread.filter((module) => module.startsWith('fp-ts'))).toEqual([]);
  });
});
