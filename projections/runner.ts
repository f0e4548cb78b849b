import type { Logger } from 'pino';
import { StoreUnavailableError, wholeNumberSetting, type EventFilter, type EventStore, type RecordedEvent, type Subscription, type SubscriptionBatch } from '../eventstore/index.js';
import type { Document, DocumentWrite, ReadStore } from '../readstore/index.js';
import { owns, partitionedName, WHOLE, type Partition } from '../processors/index.js';
import { eventLogFields, FollowerMetrics, startBatchSpan, startEventSpan, tracingEnabled, withinBatch, withSpan } from '../telemetry/index.js';
import { READ_EVENTS, type Follow } from './fan-out.js';
import { countsCollectionOf, countsIdOf, seedTally, Tally } from './counts.js';
import type { AnyProjection, Projected } from './projection.js';

/** Where one generation of a read model lives and how far it has got. */
export function collectionOf(projection: string, generation: number): string {
  return `${projection}_g${generation}`;
}

export function checkpointOf(projection: string, generation: number, partition: Partition = WHOLE): string {
  return partitionedName(`projection:${projection}:g${generation}`, partition);
}

/**
 * The filter a runner of `projection` follows the store with (and a fan-out of runners is made for): the
 * projection's, less `withoutMetadata` while the runner reads every event's metadata itself, whatever the
 * projection reads: the trace context each event is projected in, and the batch span links, with tracing
 * on; the correlation id and the rest of what it logs of each event, at debug. Tracing is decided when
 * the telemetry SDK starts, which a process does before it makes its followers (serve.ts,
 * projections-thread.ts); one started later with tracing would find the events read without metadata
 * carrying no trace context (UNREAD_METADATA), and project them outside any trace, as events without one.
 */
export function followedFilter(projection: AnyProjection, logger: Logger): EventFilter {
  const filter = projection.filter;
  if (filter.withoutMetadata === undefined || (!tracingEnabled() && !logger.isLevelEnabled('debug'))) return filter;
  const followed = { ...filter };
  delete followed.withoutMetadata;
  return followed;
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
  /** Where this partition's counts live (projections/counts.ts), when the projection keeps any. */
  readonly countsCollection: string;
  private readonly countsId: string;
  /** The counts as stored after the last batch written; null until loaded, and after a failed write (its outcome unknown). */
  private tally: Tally | null = null;
  private readonly metrics: FollowerMetrics;
  private readonly debug: boolean;
  /** What it follows the store with (followedFilter). */
  private readonly filter: EventFilter;
  /**
   * Positions a reader waits for this read model to reach (read-your-writes: Platform.awaitPosition),
   * ascending: a batch that passes one is written at once, as a batch at the head is, so holding
   * documents across batches while catching up never keeps such a reader waiting longer than it did.
   */
  private awaited: number[] = [];

  constructor(
    private readonly events: EventStore,
    private readonly reads: ReadStore,
    private readonly projection: AnyProjection,
    readonly generation: number,
    private readonly logger: Logger,
    private readonly onBatch?: (position: number, caughtUp: boolean) => void,
    private readonly partition: Partition = WHOLE,
    /** How it follows the store: by default a subscription of its own; a fan-out shares one read among runners. */
    private readonly follow: Follow = (after, options) => events.subscribe(after, options),
    /** When a runner catching up writes what it holds (see CATCH_UP_HOLD). */
    private readonly hold: HoldBounds = CATCH_UP_HOLD,
  ) {
    this.collection = collectionOf(projection.name, generation);
    this.checkpointName = checkpointOf(projection.name, generation, partition);
    this.countsCollection = countsCollectionOf(projection.name, generation);
    this.countsId = countsIdOf(partition);
    this.metrics = new FollowerMetrics(partitionedName(`projection:${projection.name}`, partition));
    this.debug = logger.isLevelEnabled('debug');
    this.filter = followedFilter(projection, logger);
  }

  get name(): string {
    return this.projection.name;
  }

  /** Where its read model is written up to: what a reader of it sees (documents, counts and checkpoint). */
  get currentPosition(): number {
    return this.position;
  }

  /**
   * A reader waits for the read model to reach `position`: the first batch that passes it is written
   * at once, held documents and all, rather than when the hold's bounds say.
   */
  awaitPosition(position: number): void {
    if (position <= this.position || this.awaited.includes(position)) return;
    this.awaited.push(position);
    this.awaited.sort((a, b) => a - b);
    // Positions past the head (a client's guess) stay until reached: the furthest go first, left to the hold's bounds.
    if (this.awaited.length > MAX_AWAITED) this.awaited.length = MAX_AWAITED;
  }

  async prepare(): Promise<void> {
    await this.reads.ensureCollection(this.collection, this.projection.indexes);
    this.position = (await this.reads.readCheckpoint(this.checkpointName)) ?? 0;
    if (this.counted) {
      await this.reads.ensureCollection(this.countsCollection, []);
      this.tally = await this.loadTally();
      if (!this.tally) {
        // A generation without counts yet (built before they were kept): counted once, here.
        this.tally = await seedTally(this.reads, this.collection, this.projection.counted!, this.partition, this.position);
        await this.reads.write([{ kind: 'put', collection: this.countsCollection, id: this.countsId, doc: this.tally.toDocument(), position: this.tally.asOf }]);
        this.logger.info({ projection: this.projection.name, generation: this.generation, position: this.position }, 'counted the read model once to keep its counts from now on');
      }
    }
  }

  private get counted(): boolean {
    return (this.projection.counted?.length ?? 0) > 0;
  }

  private async loadTally(): Promise<Tally | null> {
    const doc = await this.reads.get(this.countsCollection, this.countsId);
    if (!doc) return null;
    // A count added to a generation that keeps others would start from nothing: it needs a generation of its own.
    const missing = this.projection.counted!.filter((c) => !(c.name in doc)).map((c) => c.name);
    if (missing.length > 0) throw new Error(`projection ${this.projection.name}: generation ${this.generation} does not keep ${missing.join(', ')}; raise the projection's version and rebuild it`);
    return Tally.fromDocument(this.projection.counted!, doc);
  }

  /** The counts a batch starts from: as the last write left them, read again if its outcome is unknown. */
  private async startingTally(): Promise<Tally | null> {
    if (!this.counted) return null;
    this.tally ??= await this.loadTally();
    if (!this.tally) throw new Error(`projection ${this.projection.name}: its counts are missing from ${this.countsCollection}`);
    return this.tally.fork();
  }

  async run(): Promise<void> {
    await this.prepare();
    let attempt = 0;
    for (;;) {
      this.subscription = this.follow(this.position, { filter: this.filter, batchSize: READ_EVENTS });
      const written = this.position;
      try {
        return await this.takeBatches(this.subscription);
      } catch (error) {
        // A store that lost its connection (the read store, or the event store this follows) is waited
        // for, then followed again from the last batches written: their events are not kept to apply
        // again (see READ_EVENTS), and writes carry positions, so applying them again is harmless.
        if (!(error instanceof StoreUnavailableError) || this.stopping) throw error;
        // Ended by an error, the subscription may not have been closed (its read failed, not its taker).
        await this.subscription.close().catch(() => undefined);
        attempt = this.position > written ? 1 : attempt + 1;
        this.logger.warn({ projection: this.projection.name, attempt, err: error }, 'store unavailable; following again from the last batches written');
        await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * attempt)));
        if (this.stopping) return;
      }
    }
  }

  /**
   * Projects each batch as it comes, keeping the documents it reads and changes across batches while
   * behind the head, and writes them (documents, counts and checkpoint together) when writeDue says:
   * at a batch that reaches the head (unless this process's processors are far behind it), when a reader
   * waits for a position a batch has passed, or when the hold's bounds say (documents held, time since
   * the last write). While it holds and no batch comes (at the head, the store still), it looks again
   * every `recheckMs`, hearing what it is told, so that what is held is written once due even if the
   * store does not move again. What is held is not claimed written: the position, and so what readers
   * wait on, moves only with a write, and a stop or a crash follows again from the last one.
   */
  private async takeBatches(subscription: Subscription): Promise<void> {
    const iterator = subscription[Symbol.asyncIterator]();
    let working: WorkingSet | null = null;
    let lastWrite = this.hold.now();
    // Where the batches held end, and whether the last of them reached the head.
    let held = { scannedTo: this.position, caughtUp: false };
    // The batch asked for and not yet come: kept across a look at what is held.
    let next: Asked<IteratorResult<SubscriptionBatch>> | null = null;
    let ended = false;
    // Whether a batch at the head was held since the last write (writeDue).
    let heldAtHead = false;
    const written = (scannedTo: number, caughtUp: boolean) => {
      lastWrite = this.hold.now();
      heldAtHead = false;
      this.position = scannedTo;
      while (this.awaited.length > 0 && this.awaited[0]! <= this.position) this.awaited.shift();
      this.onBatch?.(this.position, caughtUp);
    };
    try {
      for (;;) {
        next ??= new Asked(iterator.next());
        const taken: IteratorResult<SubscriptionBatch> | typeof RECHECK = working === null || !working.pending || this.stopping ? await next.promise : await next.within(this.hold.recheckMs);
        if (taken === RECHECK) {
          // Nothing came while holding: heard and decided as at a batch, with the same batches held.
          this.hold.hear?.();
          if (!this.due(working!, held.scannedTo, held.caughtUp, heldAtHead, lastWrite)) continue;
          await this.flush(working!, held.scannedTo);
          working = await this.keptAfterWrite(working!, held.caughtUp);
          written(held.scannedTo, held.caughtUp);
          continue;
        }
        next = null;
        if (taken.done) {
          ended = true;
          break;
        }
        const batch = taken.value;
        if (this.stopping) break;
        const started = process.hrtime.bigint();
        const span = startBatchSpan(`projection:${this.projection.name} batch`, batch.events, { 'kepler.subscription': `projection:${this.projection.name}` });
        let wrote = false;
        working = await withinBatch(span, async (): Promise<WorkingSet | null> => {
          const into = working ?? new WorkingSet(await this.startingTally());
          await this.project(batch.events, into);
          into.pending = true;
          // At every batch, at the head too, so that what waits on the port does not pile up there.
          this.hold.hear?.();
          if (!this.due(into, batch.scannedTo, batch.caughtUp, heldAtHead, lastWrite)) return into;
          await this.flush(into, batch.scannedTo);
          wrote = true;
          return this.keptAfterWrite(into, batch.caughtUp);
        });
        held = { scannedTo: batch.scannedTo, caughtUp: batch.caughtUp };
        heldAtHead ||= !wrote && batch.caughtUp;
        this.metrics.batch(batch.events.length, started);
        if (wrote) written(batch.scannedTo, batch.caughtUp);
      }
    } finally {
      // Let go of the subscription as a for-await loop left early does; with a batch still asked for, by
      // closing it, which ends that read (its outcome no longer wanted, its failure included).
      if (!ended) {
        if (next) {
          // Its failure, if it fails, is taken by Asked's own reaction: no unhandled rejection.
          await subscription.close().catch(() => undefined);
        } else {
          await iterator.return?.(undefined);
        }
      }
    }
  }

  /**
   * What a runner keeps of the documents it just wrote (keepsWritten): while it is still catching up, all
   * of them, as the store now holds them, for the batches to come to find in memory rather than read and
   * parse again; else nothing.
   */
  private async keptAfterWrite(working: WorkingSet, caughtUp: boolean): Promise<WorkingSet | null> {
    if (!keepsWritten({ documents: working.documents.size, caughtUp, processorsGap: this.hold.processorsGap?.() }, this.hold)) return null;
    for (const entry of working.documents.values()) {
      if (!entry.changed) continue;
      entry.changed = false;
      // What the store now holds of it, as a read would have found it.
      entry.before = entry.doc && this.indexedFields(entry.doc);
    }
    return new WorkingSet(await this.startingTally(), working.documents);
  }

  /** Whether what a runner holds, up to `scannedTo`, is written now (writeDue). */
  private due(working: WorkingSet, scannedTo: number, caughtUp: boolean, heldAtHead: boolean, lastWrite: number): boolean {
    return writeDue(
      {
        documents: working.documents.size,
        sinceWrite: this.hold.now() - lastWrite,
        scannedTo,
        caughtUp,
        awaited: this.awaited[0],
        heldAtHead,
        processorsGap: this.hold.processorsGap?.(),
      },
      this.hold,
    );
  }

  /**
   * Reads from the checkpoint to the head of the store and stops there: how a
   * rebuild builds a new generation beside the live one. Nobody reads that
   * generation yet, so documents stay in memory across pages and are written
   * when many have gathered, not once per page that touches them.
   */
  async catchUp(onProgress?: (position: number, head: number) => void): Promise<number> {
    await this.prepare();
    let working = new WorkingSet(await this.startingTally());
    for (;;) {
      const page = await this.events.readAll(this.position, { maxCount: 10_000, filter: this.filter });
      await this.project(page.events, working);
      if (page.endOfStore || working.documents.size >= CATCH_UP_FLUSH_DOCUMENTS) {
        await this.flush(working, page.scannedTo);
        working = new WorkingSet(await this.startingTally());
      }
      this.position = page.scannedTo;
      onProgress?.(this.position, Math.max(this.position, await this.events.headPosition()));
      if (page.endOfStore) return this.position;
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.subscription?.close();
  }

  /** Applies events to the documents they touch, loading from the store those not yet in the working set. */
  private async project(events: readonly RecordedEvent[], working: WorkingSet): Promise<void> {
    const { documents } = working;
    // Plain loops, with no array per event when the runner has the whole store: this runs once per event of every batch.
    const whole = this.partition.count === 1;
    const keyed: Array<readonly string[]> = new Array(events.length);
    const missing: string[] = [];
    const loading: Entry[] = [];
    for (let i = 0; i < events.length; i++) {
      const all = this.projection.keysOf(events[i]!);
      const keys = whole ? all : all.filter((key) => owns(this.partition, key));
      keyed[i] = keys;
      for (const key of keys) {
        if (documents.has(key)) continue;
        // In the set at once, filled once read: a key asked for twice in a batch is found here the second time.
        const entry: Entry = { doc: null, before: null, changed: false };
        documents.set(key, entry);
        missing.push(key);
        loading.push(entry);
      }
    }
    // Nothing asked of the read store when every key is held (most batches once a catch-up keeps what it
    // wrote, and every empty one): a read there opens the turn's snapshot, a BEGIN and a COMMIT.
    if (missing.length > 0) await this.load(missing, loading);
    this.applyAll(events, keyed, working);
  }

  /** The documents of keys not yet in the working set, as the read store holds them, into their entries. */
  private async load(missing: readonly string[], loading: readonly Entry[]): Promise<void> {
    const stored = await this.reads.getMany(this.collection, missing);
    for (let i = 0; i < missing.length; i++) {
      const doc = (stored.get(missing[i]!) as (Projected & Document) | undefined) ?? null;
      const entry = loading[i]!;
      entry.doc = doc;
      entry.before = doc && this.indexedFields(doc);
    }
  }

  private applyAll(events: readonly RecordedEvent[], keyed: ReadonlyArray<readonly string[]>, working: WorkingSet): void {
    const tracing = tracingEnabled();
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const keys = keyed[i]!;
      if (tracing && event.metadata.traceparent !== undefined) {
        // An event that carries a trace is projected in a span of that trace (a child of what caused it).
        const span = startEventSpan(`projection:${this.projection.name} ${event.type}`, event.metadata.traceparent, { 'kepler.subscription': `projection:${this.projection.name}`, 'kepler.event.type': event.type })!;
        withSpan(span, () => this.applyEvent(event, keys, working));
        span.end();
      } else {
        this.applyEvent(event, keys, working);
      }
    }
  }

  private applyEvent(event: RecordedEvent, keys: readonly string[], { documents, tally }: WorkingSet): void {
    for (const key of keys) {
      const entry = documents.get(key)!;
      const doc = entry.doc;
      if (doc && doc.asOf >= event.position) continue;
      const next = this.projection.apply(doc, event, key);
      const after = next === null ? null : this.projection.stampsAsOf ? (next as Projected & Document) : stamped(next, event.position);
      entry.doc = after;
      entry.changed = true;
      tally?.note(doc, after, event.position);
    }
    if (this.debug && keys.length > 0) this.logger.debug({ ...eventLogFields(event), projection: this.projection.name }, 'event projected');
  }

  /**
   * A stored document's indexed fields, as its write will tell the read store it found them (`before`):
   * kept rather than the document, which would otherwise live until the write (past the scavenges
   * that collect the batch).
   */
  private indexedFields(doc: Document): Document {
    const fields: Document = {};
    for (const field of this.projection.indexes) fields[field] = doc[field];
    return fields;
  }

  /**
   * Writes the changed documents, the counts and the checkpoint together. The
   * counts come first: an adapter without transactions writes them before the
   * documents (see projections/counts.ts).
   */
  private async flush(working: WorkingSet, scannedTo: number): Promise<void> {
    const { tally } = working;
    const writes: DocumentWrite[] = tally?.dirty ? [{ kind: 'put', collection: this.countsCollection, id: this.countsId, doc: tally.toDocument(), position: tally.asOf }] : [];
    // forEach, not for-of over entries: no [id, entry] pair per document held, which the kept ones (keptAfterWrite) make many.
    working.documents.forEach(({ doc, before, changed }, id) => {
      if (!changed) return;
      writes.push(doc ? { kind: 'put', collection: this.collection, id, doc, position: doc.asOf, before } : { kind: 'delete', collection: this.collection, id, position: scannedTo });
    });
    if (writes.length === 0 && scannedTo <= this.position) return;
    try {
      await this.reads.write(writes, [{ name: this.checkpointName, position: scannedTo }]);
    } catch (error) {
      this.tally = null;
      throw error;
    }
    if (tally) this.tally = tally;
    if (writes.length > 0) this.logger.debug({ projection: this.projection.name, writes: writes.length, position: scannedTo }, 'projected');
  }
}

/**
 * The documents the batches read or made, by key, in the order first read (the order first changed, as
 * a key is read for the event that changes it, unless that event was already applied), with all a write
 * needs of each: one map, looked up once per event, where a map of the documents, one of what was read
 * and a set of the changed were each looked up or added to.
 */
class WorkingSet {
  /** Whether batches were projected into it since it was made: what it holds is not all written. */
  pending = false;

  constructor(
    /** The projection's counts as these documents change them; null when it keeps none. */
    readonly tally: Tally | null,
    readonly documents = new Map<string, Entry>(),
  ) {}
}

interface Entry {
  /** As the events applied so far left it; null: absent or deleted. */
  doc: (Projected & Document) | null;
  /** What the read store held of it when first read into the set: its indexed fields, or null for none. */
  before: Document | null;
  /** Whether an event changed it: only those are written. */
  changed: boolean;
}

/** Positions a runner keeps of those readers wait for: more at once come only from clients asking past the head. */
const MAX_AWAITED = 64;

/** When a live runner writes the documents it holds across batches (writeDue). */
export interface HoldBounds {
  /** Documents (read or changed) held: past this many, they are written. */
  readonly documents: number;
  /** Milliseconds since the last write: past this, what is held is written. */
  readonly ms: number;
  /**
   * Events this process's processors must be behind the head for a batch at the head to be held too
   * (0: never): see CATCH_UP_HOLD.
   */
  readonly headGap: number;
  /** How often a runner that holds documents and is handed no batch looks again at whether they are due. */
  readonly recheckMs: number;
  /** The clock those milliseconds are read from. */
  readonly now: () => number;
  /**
   * Takes in, at each batch and each look again, what arrives by a way the event loop would deliver
   * only once the catch-up is over (the projections thread's port: a catch-up's batches follow one
   * another in microtasks): the positions readers wait for, where the processors stand. See Platform's
   * hearPort.
   */
  readonly hear?: () => void;
  /**
   * How many events this process's processors are behind the head (the furthest behind of them), as last
   * heard; undefined where none run in this process (a process of the split topology), or before it is known.
   */
  readonly processorsGap?: () => number | undefined;
}

/** What a runner holds, when it decides whether to write it (writeDue). */
export interface Held {
  /** Documents held (read or changed). */
  readonly documents: number;
  /** Milliseconds since its last write. */
  readonly sinceWrite: number;
  /** Where the batches held end. */
  readonly scannedTo: number;
  /** Whether the last of them reached the head of the store (it is at scannedTo). */
  readonly caughtUp: boolean;
  /** The first position a reader waits for, if any. */
  readonly awaited: number | undefined;
  /** Whether a batch at the head was held since the last write (the processors were far behind then). */
  readonly heldAtHead: boolean;
  /** How far this process's processors are behind the head (HoldBounds.processorsGap). */
  readonly processorsGap: number | undefined;
}

/**
 * Whether a live runner writes what it holds now: when it holds the bound of documents, when the time
 * bound has passed since its last write, when its batches passed a position a reader waits for, and at
 * the head, unless this process's processors are at least `headGap` events behind it. Then the read
 * models could show little that is new anyway (the processors have yet to turn what the store holds into
 * the events they project), and holding lets a trade's phases, which the processors append far apart,
 * be written together. A live system whose processors keep up is never that far behind, so each of its
 * batches at the head is written at once; a process without processors never holds at the head.
 * What was held at the head is written as soon as the processors come within `headGap` of it, at the
 * head or not, so that this write may go on while they do the rest rather than after them. (In the
 * caughtup bench that seldom helps: the booking manager's position moves by whole pages of 5,000 of its
 * events, so the gap falls from tens of thousands to 0 at once, and the last write, 0.6-0.7 s, follows
 * the processors where the unheld runner's took about 0.25 s: BENCHMARKS.md, fourteenth session.) A
 * runner that was never held at the head (the projections alone catching up, the processors at the
 * head) holds behind it as before.
 */
export function writeDue(held: Held, bounds: Pick<HoldBounds, 'documents' | 'ms' | 'headGap'>): boolean {
  if (held.documents >= bounds.documents || held.sinceWrite >= bounds.ms) return true;
  if (held.awaited !== undefined && held.awaited <= held.scannedTo) return true;
  if (!held.caughtUp && !held.heldAtHead) return false;
  return !(bounds.headGap > 0 && held.processorsGap !== undefined && held.processorsGap >= bounds.headGap);
}

/**
 * Whether a live runner that has just written what it held keeps those documents in memory for the
 * batches to come: while it is still catching up (the write was behind the head, or at it while this
 * process's processors are far behind: writeDue's holds), within the hold's bound of documents, which
 * counts the kept ones as it counts the held (so memory is bounded as before: past it, all are written and
 * let go). A trade's phases come far apart in the store (versions, allocations, confirmations, bookings):
 * a write the time bound forces in between read its document back from the store and parsed it again at
 * the next phase. A write at the head with the processors near it (a live system's every batch, a
 * catch-up's end) keeps nothing: the runner then reads what it needs from the store, as before.
 */
export function keepsWritten(held: Pick<Held, 'documents' | 'caughtUp' | 'processorsGap'>, bounds: Pick<HoldBounds, 'documents' | 'headGap'>): boolean {
  if (held.documents >= bounds.documents) return false;
  if (!held.caughtUp) return true;
  return bounds.headGap > 0 && held.processorsGap !== undefined && held.processorsGap >= bounds.headGap;
}

/** What Asked.within resolves with when the time passed first. */
const RECHECK = Symbol('recheck');

/**
 * A batch asked for, which a runner that holds may wait for many times over (once each look at what it
 * holds) with one reaction on it: a Promise.race at each look would add one to the batch's promise every
 * time, for as long as the store stays still.
 */
class Asked<T> {
  private outcome: { value: T } | { error: unknown } | null = null;
  private wake: (() => void) | null = null;

  constructor(readonly promise: Promise<T>) {
    promise.then(
      (value) => this.settle({ value }),
      (error: unknown) => this.settle({ error }),
    );
  }

  private settle(outcome: { value: T } | { error: unknown }): void {
    this.outcome = outcome;
    this.wake?.();
  }

  /** What the batch's promise resolved with, or RECHECK after `ms` if it has not by then. */
  async within(ms: number): Promise<T | typeof RECHECK> {
    if (this.outcome === null) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        timer = setTimeout(resolve, ms);
      });
      clearTimeout(timer);
      this.wake = null;
    }
    if (this.outcome === null) return RECHECK;
    if ('error' in this.outcome) throw this.outcome.error;
    return this.outcome.value;
  }
}

/**
 * A live runner behind the head (a restart, a new slot building its read models from position 0, a
 * feed ingested faster than the projections follow) holds its documents across batches, as a rebuild
 * does, because a trade's events come in four phases far apart in the store (versions, allocations,
 * confirmations, bookings): written every 5,000 events, as before, the trades read model was written
 * about four times a trade, and those writes and the reads back were about 38 % of the projections
 * thread. A projections-only catch-up of 100,000 trades held whole writes each trade once: 101,654
 * writes instead of 410,583, and about 35 % less CPU on the projections thread (BENCHMARKS.md, thirteenth
 * session). Where the projections follow the processors through a feed (the caughtup bench) they reach
 * the head about once a second and write there, as they must: there it saves 2-8 % of the writes.
 *
 * KEPLER_CATCHUP_DOCUMENTS bounds the memory. 200,000 (as KEPLER_REBUILD_DOCUMENTS) holds a
 * 100,000-trade catch-up whole: serve's peak RSS rose by 75-110 MB doing so (about 300 MB to 371-399 MB,
 * projections only); 100,000 flushed as the last trades came in and saved less than half as many
 * writes. Reaching the bound (a 200,000-trade catch-up) took serve's peak from 300 to 570 MB, about
 * 1.35 KB a document: below the 700-740 MB of serve following a 100,000-trade feed, which holds little
 * (its projections write at the head), and well below 1 GB.
 *
 * KEPLER_CATCHUP_STALENESS_MS bounds how far what a reader sees lags what the runner has projected
 * (a batch at the head, or past a position a reader waits for, is written at once either way). 10 s
 * held a 100,000-trade catch-up whole or in two writes (8-15 s of wall clock under load); 5 s wrote
 * 160,000-245,000 documents, 30 s as few as 10 s. 10 s stays well inside the 120 s a follower may
 * lag before /health/ready fails and the 60 s a regression run waits for a read model. A process
 * whose projections cannot hear read-your-writes requests (no query API beside them) holds for at most
 * half their wait instead (app/config.ts, catchUpStalenessMs).
 *
 * KEPLER_CATCHUP_HEAD_GAP (events; 0: never) lets a runner hold at the head too while this process's
 * processors are that far behind the head: following the processors through a feed (the caughtup bench),
 * the projections reach the head about once a second, while the processors are still turning received
 * records into trade events, and writing there wrote each trade about four times: a 20,000-trade run
 * writes 64-69 % fewer documents with it, and the projections thread takes about a fifth less CPU. 50,000
 * events is one to two seconds of the processors' catch-up, and far more than a live system's processors
 * lag a steady command load between two looks at where they stand (every PROCESSORS_TOLD_MS,
 * app/platform.ts): there each batch at the head is written at once, as before. Holding, the runner looks again every `recheckMs`, so what
 * it holds is written within about that once due, even if the store does not move again.
 */
export const CATCH_UP_HOLD: HoldBounds = {
  // Checked as whole numbers: a typo read by Number() would be NaN, and no comparison with NaN is ever due, so nothing held would be written before the head.
  documents: wholeNumberSetting(process.env.KEPLER_CATCHUP_DOCUMENTS, 'KEPLER_CATCHUP_DOCUMENTS') ?? 200_000,
  ms: wholeNumberSetting(process.env.KEPLER_CATCHUP_STALENESS_MS, 'KEPLER_CATCHUP_STALENESS_MS') ?? 10_000,
  headGap: wholeNumberSetting(process.env.KEPLER_CATCHUP_HEAD_GAP, 'KEPLER_CATCHUP_HEAD_GAP') ?? 50_000,
  recheckMs: 50,
  now: () => performance.now(),
};

/**
 * How many documents a catch-up keeps in memory before writing the changed ones:
 * what bounds a rebuild's memory (about 1 KB a trade). A trade is touched again
 * far apart in the log (its versions, then its allocations, then its confirmation
 * and booking), so the set saves writes only when it holds that many trades: a
 * rebuild of 100,000 trades took 29 s flushing every 50,000 documents and 18 s
 * holding them all.
 */
const CATCH_UP_FLUSH_DOCUMENTS = Number(process.env.KEPLER_REBUILD_DOCUMENTS ?? 200_000);

/**
 * The document as of `position`: `{ ...next, asOf }` in effect (asOf keeps its place when the document has
 * one, else comes last), built by copy and assignment because on Node 20's V8 a spread literal that adds a
 * property its source lacks costs microseconds (see domain/trade/decide.ts), once per projected event.
 */
function stamped(next: Omit<Projected, 'asOf'>, position: number): Projected & Document {
  const doc = Object.assign({}, next) as Projected & Document;
  doc.asOf = position;
  return doc;
}

