import { type EventFilter, type RecordedEvent, type EventStore, type GlobalPosition, type Subscription, type SubscriptionBatch } from '../eventstore/index.js';

/** How a runner follows the store: the store's own subscribe, or a fan-out's. */
export type Follow = (after: GlobalPosition, options: { filter?: EventFilter; batchSize?: number }) => Subscription;

export interface FanOutOptions {
  /** Events per read of the shared subscription. */
  batchSize?: number;
  /** Batches handed to a follower and not yet taken before the shared read waits for it. */
  queued?: number;
  /**
   * How long the shared read waits for a follower that does not take its batches before
   * letting it go on alone (it reads by itself from where it was, and joins again once level).
   */
  stallMs?: number;
}

/**
 * One subscription to the event store for several followers of one thread (the projections): each
 * page of events is read and decoded once, and each follower is handed the events of that page
 * that pass its own filter and lie after its own position.
 *
 * Each follower keeps its own position and checkpoint; a batch it is handed says, as a store's
 * subscription would, how far it has been looked at (`scannedTo`). The shared read starts where the
 * follower furthest ahead stands; one behind it (a new generation after a rebuild, a read model new
 * to this release) reads alone, with its own filter, until it is level with it, then joins. The shared read waits for followers that have
 * `queued` batches not yet taken, so a slow follower paces the others rather than letting batches
 * pile up in memory; one that takes none for `stallMs` (stuck on its read store, say) is let go on
 * alone, keeping what it was already handed, so the others do not wait on it. A follower that
 * closes (it stopped or failed) is forgotten at once. Events are shared between followers, as they
 * were between the projections' functions of one subscription: a follower must not change them.
 */
export class EventFanOut {
  private readonly members = new Set<Member>();
  private readonly union: EventFilter | undefined;
  private readonly batchSize: number;
  private readonly queued: number;
  private readonly stallMs: number;
  private source: Subscription | null = null;
  private starting = false;
  /** Where the shared read has handed out up to; null before it starts. */
  private cursor: GlobalPosition | null = null;
  /** Where the shared read last said it was at the head (its last batch was caughtUp); null while it is not. */
  private caughtUpAt: GlobalPosition | null = null;
  private closed = false;
  private failure: { error: unknown } | null = null;
  /** Wakes the shared read waiting for room or for a follower. */
  private changed: (() => void) | null = null;

  constructor(
    private readonly events: EventStore,
    /** Every filter a follower will bring: the shared read reads what any of them wants. */
    filters: readonly EventFilter[],
    options: FanOutOptions = {},
  ) {
    this.union = unionOf(filters);
    this.batchSize = options.batchSize ?? READ_EVENTS;
    this.queued = options.queued ?? 2;
    this.stallMs = options.stallMs ?? 5000;
  }

  /** A subscription as EventStore.subscribe gives, served from the shared read. */
  readonly subscribe: Follow = (after, options) => {
    const filter = options.filter;
    if (!covers(this.union, filter)) throw new Error(`fan-out: filter ${JSON.stringify(filter)} is not one it was made for`);
    const member = new Member(after, filter);
    this.members.add(member);
    if (this.cursor === null) {
      // Followers that start in the same turn (a platform starting its runners) are all counted
      // when the shared read chooses where to start.
      if (!this.starting) {
        this.starting = true;
        setImmediate(() => this.start());
      }
    } else if (member.position >= this.cursor) {
      this.join(member);
    }
    const iterator = this.batches(member, options.batchSize ?? this.batchSize);
    return {
      [Symbol.asyncIterator]: () => iterator,
      close: async () => {
        this.leave(member);
        await iterator.return(undefined);
      },
    };
  };

  async close(): Promise<void> {
    this.closed = true;
    for (const member of this.members) member.wake();
    this.changed?.();
    await this.source?.close();
  }

  private start(): void {
    this.starting = false;
    if (this.closed || this.members.size === 0) return;
    // From the follower furthest ahead: those behind it (a read model new to this release, one reset) read
    // alone until level, as they did before there was a fan-out, and nobody up to date waits for them.
    const from = Math.max(...[...this.members].map((m) => m.position));
    this.cursor = from;
    for (const member of this.members) {
      member.shared = member.position >= from;
      if (!member.shared) member.wake(); // waiting for the start: now to read alone
    }
    this.source = this.events.subscribe(from, { filter: this.union, batchSize: this.batchSize });
    void this.pump(this.source);
  }

  /** The shared read: each batch handed to every follower level with it. */
  private async pump(source: Subscription): Promise<void> {
    try {
      for await (const batch of source) {
        if (this.closed) break;
        for (const member of this.members) if (member.shared) member.hand(batch);
        this.cursor = batch.scannedTo;
        this.caughtUpAt = batch.caughtUp ? batch.scannedTo : null;
        await this.room();
        if (this.closed) break;
      }
    } catch (error) {
      if (!this.closed) this.failure = { error };
    } finally {
      // The store's subscription ended (the store closed) or failed: so do the followers', once they have taken what they were handed.
      this.closed = true;
      for (const member of this.members) member.wake();
    }
  }

  /** Waits until every follower reading the shared batches has room for one more, and at least one does. */
  private async room(): Promise<void> {
    let deadline = Date.now() + this.stallMs;
    while (!this.closed) {
      const shared = [...this.members].filter((m) => m.shared);
      const full = shared.filter((m) => m.queue.length >= this.queued);
      if (shared.length > 0 && full.length === 0) return;
      if (full.length > 0 && Date.now() >= deadline) {
        for (const member of full) member.shared = false;
        deadline = Date.now() + this.stallMs;
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = full.length > 0 ? setTimeout(resolve, Math.max(0, deadline - Date.now())) : null;
        this.changed = () => {
          if (timer) clearTimeout(timer);
          resolve();
        };
      });
      this.changed = null;
    }
  }

  private async *batches(member: Member, batchSize: number): AsyncGenerator<SubscriptionBatch> {
    try {
      while (!member.closed) {
        const next = member.queue.shift();
        if (next) {
          this.changed?.();
          yield next;
          continue;
        }
        if (this.failure) throw this.failure.error;
        if (this.closed) return;
        if (!member.shared && this.cursor !== null && member.position >= this.cursor) {
          this.join(member);
          continue; // what joining handed it, if anything, first
        }
        if (member.shared || this.cursor === null) {
          await member.handed();
          continue;
        }
        // Behind the shared read: alone, with its own filter, until level with it.
        const page = await this.events.readAll(member.position, { maxCount: batchSize, filter: member.filter });
        if (member.closed || member.shared) continue;
        if (page.scannedTo > member.position || (page.endOfStore && !member.announcedCaughtUp)) {
          member.position = Math.max(member.position, page.scannedTo);
          member.announcedCaughtUp = page.endOfStore;
          yield { events: page.events, scannedTo: member.position, caughtUp: page.endOfStore };
        }
      }
    } finally {
      this.leave(member);
    }
  }

  /**
   * A follower level with the shared read takes its batches from now on. When that read already said it
   * was at the head, there, and waits for events, it is said to the follower too, as its own subscription
   * would: a runner writes what it has projected only at a batch that says so (runner.ts), and one that
   * caught up alone with a full page ending at the head held it unwritten until the next event.
   */
  private join(member: Member): void {
    member.shared = true;
    if (this.caughtUpAt !== null && member.position === this.caughtUpAt) member.hand({ events: [], scannedTo: member.position, caughtUp: true });
    this.changed?.();
  }

  private leave(member: Member): void {
    member.closed = true;
    member.wake();
    if (this.members.delete(member)) this.changed?.();
  }
}

/**
 * Events a projection runner takes from the store (or the fan-out) at a time, projected at once; it
 * writes what they changed every few batches (runner.ts), so each batch's events die young. A page of
 * 5,000 decoded events, held while five runners took it in turn, lived through the scavenges their own
 * work caused and was copied to the old generation (a 20,000-trade catch-up of the projections, `--trace-gc-nvp`: 203 MB promoted, 10
 * mark-compacts; in batches of 500: 63 MB, 4).
 */
export const READ_EVENTS = 500;

/** One follower of a fan-out: how far it has been handed events, and the batches it has not taken yet. */
class Member {
  /** Read alongside the shared read (true), or alone until level with it. */
  shared = false;
  closed = false;
  announcedCaughtUp = false;
  readonly queue: SubscriptionBatch[] = [];
  private waiting: (() => void) | null = null;
  /** The filter's types (see shareOf); undefined when it names none. */
  private readonly types: ReadonlySet<string> | undefined;

  constructor(
    /** Up to here, every event it wants has been handed to it. */
    public position: GlobalPosition,
    readonly filter: EventFilter | undefined,
  ) {
    this.types = filter?.eventTypes === undefined ? undefined : new Set(filter.eventTypes);
  }

  /** Its share of a batch of the shared read, as its own subscription would have given it. */
  hand(batch: SubscriptionBatch): void {
    if (batch.scannedTo > this.position) {
      const events = this.shareOf(batch.events);
      const last = this.queue.at(-1);
      // Nothing of its own in a batch: carry its position on the batch still queued, if any, rather than queue another.
      if (last && events.length === 0) {
        last.scannedTo = batch.scannedTo;
        last.caughtUp = batch.caughtUp;
      } else {
        this.queue.push({ events, scannedTo: batch.scannedTo, caughtUp: batch.caughtUp });
      }
      this.position = batch.scannedTo;
      this.announcedCaughtUp = batch.caughtUp;
    } else if (batch.caughtUp && !this.announcedCaughtUp) {
      this.queue.push({ events: [], scannedTo: this.position, caughtUp: true });
      this.announcedCaughtUp = true;
    } else {
      return;
    }
    this.wake();
  }

  /**
   * The events of a shared batch it takes: after its position, and through its filter. The filter's types
   * as a set, looked up once per event and follower (five of them, every event of the store): listed,
   * each event's type was compared with up to eleven names by their characters (passesFilter).
   */
  private shareOf(events: readonly RecordedEvent[]): RecordedEvent[] {
    const after = this.position;
    const types = this.types;
    const prefixes = this.filter?.streamPrefixes;
    const taken: RecordedEvent[] = [];
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      if (event.position <= after || (types !== undefined && !types.has(event.type))) continue;
      if (prefixes === undefined || prefixes.some((prefix) => event.stream.startsWith(prefix))) taken.push(event);
    }
    return taken;
  }

  handed(): Promise<void> {
    return new Promise((resolve) => (this.waiting = resolve));
  }

  wake(): void {
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.();
  }
}

/**
 * A filter that lets through whatever any of the filters does: the types of all when each names types
 * (a filter's prefixes then left to its own follower: each takes only its share of a batch), the
 * prefixes of all when each names prefixes, else everything (a filter cannot say "this type or that
 * prefix").
 */
export function unionOf(filters: readonly EventFilter[]): EventFilter | undefined {
  if (filters.length === 0 || filters.some((f) => f.eventTypes === undefined && f.streamPrefixes === undefined)) return undefined;
  if (filters.every((f) => f.eventTypes !== undefined)) return withHints(filters, { eventTypes: [...new Set(filters.flatMap((f) => f.eventTypes!))] });
  if (filters.every((f) => f.streamPrefixes !== undefined)) return withHints(filters, { streamPrefixes: [...new Set(filters.flatMap((f) => f.streamPrefixes!))] });
  return undefined;
}

/** The union with the parts of events it may be read without (see withoutOf). */
function withHints(filters: readonly EventFilter[], union: EventFilter): EventFilter {
  const withoutData = withoutOf(filters, 'withoutData');
  const withoutMetadata = withoutOf(filters, 'withoutMetadata');
  return { ...union, ...(withoutData.length > 0 && { withoutData }), ...(withoutMetadata.length > 0 && { withoutMetadata }) };
}

/**
 * The types the union is read without the data (or the metadata) of: those no filter that lets them
 * through reads it of (EventFilter.withoutData, withoutMetadata). One follower's event is every
 * follower's, so a type is read without a part only when each that may take it said so (a filter that
 * names no types may take any).
 */
function withoutOf(filters: readonly EventFilter[], hint: 'withoutData' | 'withoutMetadata'): string[] {
  const candidates = new Set(filters.flatMap((f) => f[hint] ?? []));
  return [...candidates].filter((type) => filters.every((f) => (f.eventTypes !== undefined && !f.eventTypes.includes(type)) || (f[hint]?.includes(type) ?? false)));
}

/**
 * Whether everything `filter` lets through, `union` does too (checked on its lists, not by reasoning about
 * prefixes), with every part the follower reads: a type the union is read without the data or metadata of
 * is one the filter takes none of, or says it reads without too.
 */
function covers(union: EventFilter | undefined, filter: EventFilter | undefined): boolean {
  if (union === undefined) return true;
  for (const hint of ['withoutData', 'withoutMetadata'] as const) {
    if (union[hint]?.some((type) => (filter?.eventTypes === undefined || filter.eventTypes.includes(type)) && !(filter?.[hint]?.includes(type) ?? false))) return false;
  }
  if (filter === undefined) return false;
  if (union.eventTypes && !(filter.eventTypes ?? [undefined]).every((type) => type !== undefined && union.eventTypes!.includes(type))) return false;
  if (union.streamPrefixes && !(filter.streamPrefixes ?? [undefined]).every((prefix) => prefix !== undefined && union.streamPrefixes!.includes(prefix))) return false;
  return true;
}
