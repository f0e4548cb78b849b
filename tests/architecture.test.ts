// The shape of the code, held by a test rather than by review: each top-level
// folder is one concern, other folders reach it through its index.ts, and the
// arrows between folders point one way (no folder depends on one that depends
// on it). app/ wires everything and nothing below it may import it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const NOT_CONCERNS = new Set(['node_modules', 'dist', 'tests', 'ops', 'bin', 'data', 'test-output', 'regression-report']);
/** Entry points besides an index.ts, each with its reason. */
const SECOND_ENTRIES = new Map([
  // The slot commands that need the broker load it only when they run.
  ['slots/operations.js', 'loaded only by the commands that talk to RabbitMQ'],
  // Every CLI command loads the configuration: through the index it loaded the processors, slots and messaging too.
  ['processors/partition.js', 'the configuration parses a partition without loading the processors'],
  // `kepler ingest` starts its intake thread before it loads the domain, the event store or telemetry.
  ['ingestion/start-intake.js', 'the ingest command starts its intake before loading what writes it'],
  // The intake thread parses a feed without the trade, booking and approvals decisions.
  ['domain/feed.js', 'the intake thread parses a feed with the feed\'s records alone'],
  // The intake thread prepares events without loading the SQLite adapter and better-sqlite3.
  ['eventstore/events.js', 'what prepares events loads the port and the ids, not a store'],
]);
/** Folders that sit above everything: the wiring, and the bench that drives the wired platform. */
const TOP = new Set(['app', 'bench']);

const concerns = readdirSync(ROOT).filter((name) => !name.startsWith('.') && !NOT_CONCERNS.has(name) && statSync(join(ROOT, name)).isDirectory());

interface Import {
  from: string;
  file: string;
  target: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every relative import, static or dynamic, that leaves its own top-level folder. */
function crossFolderImports(): Import[] {
  const found: Import[] = [];
  const specifier = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)'(\.{1,2}\/[^']+)'/g;
  for (const concern of concerns) {
    for (const file of sourceFiles(join(ROOT, concern))) {
      for (const match of readFileSync(file, 'utf8').matchAll(specifier)) {
        const target = relative(ROOT, normalize(join(dirname(file), match[1]!))).split(sep).join('/');
        if (target.split('/')[0] !== concern) found.push({ from: concern, file: relative(ROOT, file), target });
      }
    }
  }
  return found;
}

function findCycle(edges: Map<string, Set<string>>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const visit = (node: string, path: string[]): string[] | null => {
    state.set(node, 'open');
    for (const next of edges.get(node) ?? []) {
      if (state.get(next) === 'open') return [...path.slice(path.indexOf(next)), next];
      if (!state.has(next)) {
        const cycle = visit(next, [...path, next]);
        if (cycle) return cycle;
      }
    }
    state.set(node, 'done');
    return null;
  };
  for (const node of edges.keys()) {
    if (state.has(node)) continue;
    const cycle = visit(node, [node]);
    if (cycle) return cycle;
  }
  return null;
}

describe('the shape of the code', () => {
  const imports = crossFolderImports();

  it('finds the folders and their imports (so the rules below are not vacuous)', () => {
    expect(concerns).toEqual(expect.arrayContaining(['app', 'domain', 'eventstore', 'authentication', 'telemetry', 'topology', 'releases']));
    expect(imports.length).toBeGreaterThan(100);
  });

  it('reaches another folder through its public surface: an index.ts (its own or an adapter’s)', () => {
    const reachingIn = imports
      .filter(({ from }) => from !== 'bench')
      .filter(({ target }) => !/(^|\/)index\.js$/.test(target) && !SECOND_ENTRIES.has(target))
      .map(({ file, target }) => `${file} imports ${target}`);
    expect(reachingIn).toEqual([]);
  });

  it('points its arrows one way: no two folders depend on each other, directly or around a loop', () => {
    const edges = new Map<string, Set<string>>();
    for (const { from, target } of imports) {
      const to = target.split('/')[0]!;
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from)!.add(to);
    }
    expect(findCycle(edges)).toBeNull();
  });

  it('keeps the wiring on top: only the bench imports app/, and nothing imports the bench', () => {
    const upward = imports.filter(({ from, target }) => TOP.has(target.split('/')[0]!) && !(from === 'bench' && target.startsWith('app/')));
    expect(upward.map(({ file, target }) => `${file} imports ${target}`)).toEqual([]);
  });
});
