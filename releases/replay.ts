// The projection-replay gate: the candidate's projections rebuild, on scratch
// stores, from a sample of a real environment's events (its latest ones, so the
// event types the platform writes today are in it). A projection that throws on
// real events fails the gate before it reaches an environment.
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import type { EventStore, RecordedEvent } from '../eventstore/index.js';
import type { AnyProjection } from '../projections/index.js';
import type { ReadStore } from '../readstore/index.js';
import type { ProbeAnswer } from './gates.js';

/** What a replay needs of Kepler's code: the candidate's own, loaded from its package. */
export interface ReplayKit {
  projections: readonly AnyProjection[];
  rebuildProjection(events: EventStore, reads: ReadStore, projection: AnyProjection, logger: Logger): Promise<{ position: number }>;
  openEventStore(path: string): EventStore | Promise<EventStore>;
  openReadStore(path: string): ReadStore | Promise<ReadStore>;
}

/** Copies the latest `sample` events of `source` into `target`, keeping their streams, types, data and metadata. */
export async function copySample(source: EventStore, target: EventStore, sample: number): Promise<number> {
  const head = await source.headPosition();
  let after = Math.max(0, head - sample);
  let copied = 0;
  while (copied < sample) {
    const page = await source.readAll(after, { maxCount: Math.min(1000, sample - copied) });
    if (page.events.length > 0) {
      await target.appendMany(
        page.events.map((e: RecordedEvent) => ({ stream: e.stream, expectedRevision: 'any' as const, events: [{ id: e.id, type: e.type, data: e.data, metadata: e.metadata }] })),
      );
      copied += page.events.length;
    }
    after = page.scannedTo;
    if (page.endOfStore || page.events.length === 0) break;
  }
  return copied;
}

export async function replayProjections(source: EventStore, sample: number, kit: ReplayKit, scratchRoot: string): Promise<ProbeAnswer> {
  const scratch = await mkdtemp(join(scratchRoot, 'replay-'));
  const events = await kit.openEventStore(join(scratch, 'events.db'));
  const reads = await kit.openReadStore(join(scratch, 'read.db'));
  try {
    const copied = await copySample(source, events, sample);
    if (copied === 0) return { verdict: 'fail', reason: 'the source environment has no events to replay', evidence: { sample, copied } };
    const logger: Logger = pino({ level: 'silent' });
    const rebuilt: Record<string, number> = {};
    const failures: Array<{ projection: string; error: string }> = [];
    for (const projection of kit.projections) {
      try {
        rebuilt[projection.name] = (await kit.rebuildProjection(events, reads, projection, logger)).position;
      } catch (error) {
        failures.push({ projection: projection.name, error: (error as Error).message });
      }
    }
    const evidence = { sample, copied, rebuilt, failures };
    if (failures.length > 0) {
      return { verdict: 'fail', reason: `${failures.map((f) => `${f.projection}: ${f.error}`).join('; ')} (replaying ${copied} events)`, evidence };
    }
    return { verdict: 'pass', reason: `${kit.projections.map((p) => p.name).join(', ')} rebuilt from ${copied} sampled events`, evidence };
  } finally {
    await reads.close();
    await events.close();
    await rm(scratch, { recursive: true, force: true });
  }
}
