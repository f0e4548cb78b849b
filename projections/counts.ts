// Counts a projection keeps of its own documents (trades per status, open
// exceptions per code), so that reading them costs O(values) rather than a scan
// of every document: the runner notes each document's change in a tally and
// writes the tally with the documents and the checkpoint of the same batch.
//
// Layout: one collection per generation beside the read model's
// (`<projection>_g<n>_counts`), one document per partition (`counts`, or
// `counts#<i>of<n>`): { <counter name>: { <value>: count }, asOf }. Partitions
// own distinct documents, so the counts of a read model are the sums over them.
//
// Exactly once: a change is counted only for an event after the tally's stored
// position (`since`). On an adapter with transactions the tally is written with
// the documents and the checkpoint, so a replay finds it as old as the
// documents. Elsewhere (MongoDB) the tally is written first (the port orders
// writes by collection), so a crash leaves either nothing of the batch, or the
// tally with none, some or all of its documents: the replay recounts none of
// the batch's events, while applying again those whose documents were not written.
import type { Document, ReadStore } from '../readstore/index.js';
import { owns, partitionedName, type Partition } from '../processors/index.js';
import type { CountedField, Projected } from './projection.js';

export function countsCollectionOf(projection: string, generation: number): string {
  return `${projection}_g${generation}_counts`;
}

export function countsIdOf(partition: Partition): string {
  return partitionedName('counts', partition);
}

export type Counts = Record<string, Record<string, number>>;

/** The value a document is counted under for one counter, or null when it is not counted (absent, or outside `where`). */
export function countedValue(doc: Document | null, counter: CountedField): string | null {
  return valueOf(doc, counter.field, Object.entries(counter.where ?? {}));
}

/** countedValue with `where` as entries, made once per tally rather than once per document (it runs twice per projected document). */
function valueOf(doc: Document | null, field: string, where: ReadonlyArray<readonly [string, unknown]>): string | null {
  if (doc === null) return null;
  for (const [name, expected] of where) {
    if ((doc[name] ?? null) !== expected) return null;
  }
  // The key countBy would give it: the value as text.
  return String(doc[field] ?? null);
}

/**
 * The counts of one projection in one partition as of `asOf`, changed in
 * memory as events are applied. `since` is the position of the stored tally:
 * an event at or before it is already counted there.
 */
export class Tally {
  private changed = false;
  private readonly wheres: ReadonlyArray<ReadonlyArray<readonly [string, unknown]>>;

  private constructor(
    readonly counters: readonly CountedField[],
    readonly counts: Counts,
    readonly since: number,
    private asOfPosition: number,
  ) {
    this.wheres = counters.map((c) => Object.entries(c.where ?? {}));
  }

  static empty(counters: readonly CountedField[], position: number): Tally {
    return new Tally(counters, Object.fromEntries(counters.map((c) => [c.name, {}])), position, position);
  }

  static fromDocument(counters: readonly CountedField[], doc: Document): Tally {
    const counts: Counts = {};
    for (const counter of counters) counts[counter.name] = { ...((doc[counter.name] as Record<string, number> | undefined) ?? {}) };
    const asOf = (doc as Projected & Document).asOf;
    return new Tally(counters, counts, asOf, asOf);
  }

  /** A copy to change, standing where this one stands: what a batch starts from. */
  fork(): Tally {
    return new Tally(this.counters, Object.fromEntries(Object.entries(this.counts).map(([name, values]) => [name, { ...values }])), this.asOfPosition, this.asOfPosition);
  }

  get asOf(): number {
    return this.asOfPosition;
  }

  /** Whether anything was counted since the tally was loaded or forked: whether it needs writing. */
  get dirty(): boolean {
    return this.changed;
  }

  /** A document became `after` (null: deleted) through the event at `position`. */
  note(before: Document | null, after: Document | null, position: number): void {
    if (position <= this.since) return;
    for (let i = 0; i < this.counters.length; i++) {
      const counter = this.counters[i]!;
      const was = valueOf(before, counter.field, this.wheres[i]!);
      const is = valueOf(after, counter.field, this.wheres[i]!);
      if (was === is) continue;
      const values = this.counts[counter.name]!;
      if (was !== null) {
        const left = (values[was] ?? 0) - 1;
        // A value nobody has any more is left out, as countBy leaves it out.
        if (left === 0) delete values[was];
        else values[was] = left;
      }
      if (is !== null) values[is] = (values[is] ?? 0) + 1;
      this.changed = true;
      this.asOfPosition = Math.max(this.asOfPosition, position);
    }
  }

  toDocument(): Projected & Document {
    return { ...this.counts, asOf: this.asOfPosition };
  }
}

/**
 * The tally of a generation that has none yet (a store from before the counts,
 * or a new generation), counted once from its documents; `position` is the
 * checkpoint those documents stand at (some may stand later: their events are
 * skipped when applied again, so they are counted here and not again).
 */
export async function seedTally(reads: ReadStore, collection: string, counters: readonly CountedField[], partition: Partition, position: number): Promise<Tally> {
  const tally = Tally.empty(counters, position);
  if (partition.count === 1) {
    for (const counter of counters) {
      const counted = await reads.countBy(collection, counter.field, counter.where);
      tally.counts[counter.name] = counted;
    }
    return tally;
  }
  // A partition counts only its own documents: read them all, once.
  for (let afterId: string | undefined; ; ) {
    const page = await reads.find(collection, { ...(afterId !== undefined && { afterId }), limit: 5000 });
    for (const { id, doc } of page) {
      if (!owns(partition, id)) continue;
      for (const counter of counters) {
        const value = countedValue(doc, counter);
        if (value !== null) tally.counts[counter.name]![value] = (tally.counts[counter.name]![value] ?? 0) + 1;
      }
    }
    if (page.length < 5000) return tally;
    afterId = page[page.length - 1]!.id;
  }
}

/** One counter of a generation of a read model, summed over the partitions that keep it. */
export async function readCounts(reads: ReadStore, projection: string, generation: number, counter: string): Promise<Record<string, number>> {
  const total: Record<string, number> = {};
  for (const { doc } of await reads.find(countsCollectionOf(projection, generation), {})) {
    for (const [value, count] of Object.entries((doc[counter] as Record<string, number> | undefined) ?? {})) {
      total[value] = (total[value] ?? 0) + count;
    }
  }
  return total;
}
