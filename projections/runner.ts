import type { Logger } from 'pino';
import type { EventStore, RecordedEvent, Subscription } from '../eventstore/index.js';
import type { Document, DocumentWrite, ReadStore } from '../readstore/index.js';
import { owns, partitionedName, WHOLE, type Partition } from '../processors/partition.js';
import type { AnyProjection, Projected } from './projection.js';

/** Where one generation of a read model lives and how far it has got. */
export function collectionOf(projection: string, generation: number): string {
  return `${projection}_g${generation}`;
}

export function checkpointOf(projection: string, generation: number, partition: Partition = WHOLE): string {
  return partitionedName(`projection:${projection}:g${generation}`, partition);
}

/**
 * Follows the event store and keeps one generation of a read model up to date.
 * A document is written with the position of the last event applied to it, and
 * events at or below a document's position are skipped, so a batch replayed
 * after a crash changes nothing.
 */
export class ProjectionRunner {
  private position = 0;
  private subscription: Subscription | null = null;
  private stopping = false;
  readonly collection: string;
  readonly checkpointName: string;

  constructor(
    private readonly events: EventStore,
    private readonly reads: ReadStore,
    private readonly projection: AnyProjection,
    readonly generation: number,
    private readonly logger: Logger,
    private readonly onBatch?: (position: number, caughtUp: boolean) => void,
    private readonly partition: Partition = WHOLE,
  ) {
    this.collection = collectionOf(projection.name, generation);
    this.checkpointName = checkpointOf(projection.name, generation, partition);
  }

  get name(): string {
    return this.projection.name;
  }

  get currentPosition(): number {
    return this.position;
  }

  async prepare(): Promise<void> {
    await this.reads.ensureCollection(this.collection, this.projection.indexes);
    this.position = (await this.reads.readCheckpoint(this.checkpointName)) ?? 0;
  }

  async run(): Promise<void> {
    await this.prepare();
    this.subscription = this.events.subscribe(this.position, { filter: this.projection.filter, batchSize: 5000 });
    for await (const batch of this.subscription) {
      if (this.stopping) break;
      await this.apply(batch.events, batch.scannedTo);
      this.position = batch.scannedTo;
      this.onBatch?.(this.position, batch.caughtUp);
    }
  }

  /**
   * Reads from the checkpoint to the head of the store and stops there: how a
   * rebuild builds a new generation beside the live one.
   */
  async catchUp(onProgress?: (position: number, head: number) => void): Promise<number> {
    await this.prepare();
    for (;;) {
      const page = await this.events.readAll(this.position, { maxCount: 10_000, filter: this.projection.filter });
      await this.apply(page.events, page.scannedTo);
      this.position = page.scannedTo;
      onProgress?.(this.position, Math.max(this.position, await this.events.headPosition()));
      if (page.endOfStore) return this.position;
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.subscription?.close();
  }

  private async apply(events: readonly RecordedEvent[], scannedTo: number): Promise<void> {
    const touched = new Map<string, (Projected & Document) | null>();
    const keyed = events.map((event) => ({ event, keys: this.projection.keysOf(event).filter((key) => owns(this.partition, key)) }));
    const missing = [...new Set(keyed.flatMap((k) => k.keys))];
    const stored = await this.reads.getMany(this.collection, missing);
    for (const key of missing) touched.set(key, (stored.get(key) as (Projected & Document) | undefined) ?? null);

    const changed = new Set<string>();
    for (const { event, keys } of keyed) {
      for (const key of keys) {
        const doc = touched.get(key) ?? null;
        if (doc && doc.asOf >= event.position) continue;
        const next = this.projection.apply(doc, event, key);
        touched.set(key, next ? ({ ...next, asOf: event.position } as Projected & Document) : null);
        changed.add(key);
      }
    }

    const writes: DocumentWrite[] = [...changed].map((id) => {
      const doc = touched.get(id);
      return doc
        ? { kind: 'put', collection: this.collection, id, doc, position: doc.asOf }
        : { kind: 'delete', collection: this.collection, id, position: scannedTo };
    });
    if (writes.length === 0 && scannedTo <= this.position) return;
    await this.reads.write(writes, [{ name: this.checkpointName, position: scannedTo }]);
    if (writes.length > 0) this.logger.debug({ projection: this.projection.name, writes: writes.length, position: scannedTo }, 'projected');
  }
}
