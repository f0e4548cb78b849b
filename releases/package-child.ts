// Runs a packed candidate's own code in a process of its own, so the control
// plane never loads another version of Kepler into itself:
//
//   node package-child.js inspect PACKAGE_DIR
//     → {eventSchemaVersion, projections: [{name, version, codeDigest}]}
//   node package-child.js replay PACKAGE_DIR SOURCE_STORE_JSON SAMPLE SCRATCH_DIR
//     → the replay gate's answer: the candidate's projections rebuilt from a sample of the source's events
//
// PACKAGE_DIR/node_modules must resolve Kepler's dependencies (a link to an installation).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import type { EventStore } from '../eventstore/index.js';
import type { AnyProjection } from '../projections/index.js';
import type { ReadStore } from '../readstore/index.js';
import { projectionCodeDigest } from './code-digest.js';
import { replayProjections, type ReplayKit } from './replay.js';

type StoreConfig = { kind: 'sqlite'; path: string } | { kind: 'eventstoredb' | 'postgres'; url: string };

const load = async <T>(dir: string, module: string): Promise<T> => (await import(pathToFileURL(join(dir, module)).href)) as T;

async function main(): Promise<unknown> {
  const [mode, dir, ...rest] = process.argv.slice(2);
  if (!dir) throw new Error('usage: package-child.js inspect|replay PACKAGE_DIR ...');
  const projections = await load<{ PROJECTIONS: readonly AnyProjection[]; rebuildProjection: ReplayKit['rebuildProjection'] }>(dir, 'dist/projections/index.js');
  if (mode === 'inspect') {
    const domain = await load<{ EVENT_SCHEMA_VERSION?: number }>(dir, 'dist/domain/index.js');
    return {
      eventSchemaVersion: domain.EVENT_SCHEMA_VERSION ?? 1,
      projections: projections.PROJECTIONS.map((p) => ({ name: p.name, version: p.version ?? 1, codeDigest: projectionCodeDigest(p) })),
    };
  }
  if (mode === 'replay') {
    const [sourceJson, sample, scratch] = rest as [string, string, string];
    const source = JSON.parse(sourceJson) as StoreConfig;
    const eventstore = await load<{ SqliteEventStore: { open(path: string): EventStore } }>(dir, 'dist/eventstore/index.js');
    const readstore = await load<{ SqliteReadStore: { open(path: string): ReadStore } }>(dir, 'dist/readstore/index.js');
    let events: EventStore;
    if (existsSync(join(dir, 'dist/stores/index.js'))) {
      // A candidate that opens stores from a configuration itself opens the source as its own release would.
      const stores = await load<{ openEventStore(config: StoreConfig): Promise<EventStore> }>(dir, 'dist/stores/index.js');
      events = await stores.openEventStore(source);
    } else if (source.kind === 'sqlite') events = eventstore.SqliteEventStore.open(source.path);
    else if (source.kind === 'eventstoredb') {
      const esdb = await load<{ EsdbEventStore: { connect(url: string): Promise<EventStore> } }>(dir, 'dist/eventstore/eventstoredb/index.js');
      events = await esdb.EsdbEventStore.connect(source.url);
    } else throw new Error(`this candidate cannot open a ${source.kind} event store`);
    try {
      return await replayProjections(
        events,
        Number(sample),
        {
          projections: projections.PROJECTIONS,
          rebuildProjection: projections.rebuildProjection,
          openEventStore: (path) => eventstore.SqliteEventStore.open(path),
          openReadStore: (path) => readstore.SqliteReadStore.open(path),
        },
        scratch,
      );
    } finally {
      await events.close();
    }
  }
  throw new Error(`unknown mode ${mode}`);
}

main().then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (error: Error) => {
    process.stderr.write(`${error.stack ?? error.message}\n`);
    process.exit(1);
  },
);
