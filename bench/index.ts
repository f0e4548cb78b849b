// `npm run bench [-- SECTION... ] [--repeat N]`: prints figures, each beside the machine's own limit
// measured in the same run; never a pass/fail test. Record them in BENCHMARKS.md.
//
// A section is a function of the bench (bench/kit.ts) in a file of its own; it is added here with
// one line, loaded only when chosen. Raw-append baselines for other event stores go in RAW_APPENDS
// (bench/baselines.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench, machine, type Section } from './kit.js';

const SECTIONS: Record<string, () => Promise<Section>> = {
  ingest: async () => (await import('./ingest.js')).ingestSection,
  'ingest-memory': async () => (await import('./ingest.js')).ingestMemorySection,
  caughtup: async () => (await import('./followers.js')).caughtUpSection,
  rebuild: async () => (await import('./followers.js')).rebuildSection,
  commands: async () => (await import('./http.js')).commandsSection,
  queries: async () => (await import('./http.js')).queriesSection,
  'http-split': async () => (await import('./http.js')).httpSplitSection,
  block: async () => (await import('./followers.js')).blockTradeSection,
  mongo: async () => (await import('./mongo.js')).mongoSection,
  amqp: async () => (await import('./amqp.js')).amqpSection,
  regression: async () => (await import('./platform.js')).regressionSection,
  // Sections that print their own figures (and, for PostgreSQL, their own ratios to its raw insert).
  postgres: async () => {
    const { postgresSection } = await import('./postgres.js');
    return (bench) => postgresSection((name, value) => bench.figure(name, value));
  },
  observe: async () => {
    const { observabilityCost } = await import('./observability.js');
    return (bench) => observabilityCost(bench.scratch('observe'), (name, value) => bench.figure(name, value));
  },
  cutover: async () => {
    const { cutoverSection } = await import('./cutover.js');
    return (bench) => cutoverSection((name, value) => bench.figure(name, value));
  },
};

/** Names that stand for several sections. */
const GROUPS: Record<string, string[]> = { http: ['commands', 'queries'] };

function parseArguments(args: string[]): { sections: string[]; repeat: number } {
  let repeat = 1;
  const named: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--repeat') repeat = Number(args[++i]);
    else named.push(...(GROUPS[args[i]!] ?? [args[i]!]));
  }
  const unknown = named.filter((name) => !SECTIONS[name]);
  if (unknown.length > 0 || !Number.isInteger(repeat) || repeat < 1) {
    throw new Error(`usage: bench [SECTION...] [--repeat N]; sections: ${[...Object.keys(SECTIONS), ...Object.keys(GROUPS)].join(', ')}`);
  }
  return { sections: named.length > 0 ? named : Object.keys(SECTIONS), repeat };
}

const { sections, repeat } = parseArguments(process.argv.slice(2));
const { cpu, cores, memoryGiB, node, loadAverage } = machine();
process.stdout.write(`Kepler benchmarks on ${cores} × ${cpu}, ${memoryGiB} GiB, Node ${node}; load average ${loadAverage.join(' ')}\n`);
process.stdout.write('Each figure: its ratio to the machine\'s limit measured in this run first, then both absolute figures.\n');
const work = mkdtempSync(join(tmpdir(), 'kepler-bench-'));
const bench = new Bench(work);
try {
  for (let pass = 1; pass <= repeat; pass++) {
    bench.startPass();
    for (const name of sections) {
      process.stdout.write(`${name}${repeat > 1 ? ` (pass ${pass} of ${repeat})` : ''}\n`);
      await (await SECTIONS[name]!())(bench);
    }
  }
  process.stdout.write(`load average at the end: ${machine().loadAverage.join(' ')}\n`);
  process.stdout.write(`${bench.summary()}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
