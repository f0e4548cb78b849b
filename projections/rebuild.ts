import type { Logger } from 'pino';
import type { EventStore } from '../eventstore/index.js';
import type { ReadStore } from '../readstore/index.js';
import { LiveReadModels } from './generations.js';
import type { AnyProjection } from './projection.js';
import { countsCollectionOf } from './counts.js';
import { checkpointOf, collectionOf, ProjectionRunner } from './runner.js';

export interface RebuildProgress {
  projection: string;
  position: number;
  head: number;
}

/**
 * Rebuilds a read model from position 0 without downtime: the next generation is
 * built beside the live one, then promoted in one settings write once it has
 * caught up. Queries keep reading the live generation until that moment and never
 * see a half-built one. Whoever runs the live projection (`serve`) notices the
 * promotion, carries on with the new generation and drops the old one.
 */
export async function rebuildProjection(
  events: EventStore,
  reads: ReadStore,
  projection: AnyProjection,
  logger: Logger,
  onProgress?: (progress: RebuildProgress) => void,
): Promise<{ from: number; to: number; position: number }> {
  const models = new LiveReadModels(reads);
  const live = await models.generation(projection.name);
  const next = live + 1;
  // A rebuild that died half-way left a generation nobody reads: start it afresh.
  await reads.dropCollection(collectionOf(projection.name, next));
  await reads.dropCollection(countsCollectionOf(projection.name, next));
  await reads.deleteCheckpoint(checkpointOf(projection.name, next));
  const runner = new ProjectionRunner(events, reads, projection, next, logger);
  const position = await runner.catchUp((position, head) => onProgress?.({ projection: projection.name, position, head }));
  await models.promote(projection.name, next, live);
  return { from: live, to: next, position };
}
