import * as E from 'fp-ts/lib/Either.js';
import type { Logger } from 'pino';
import { deterministicId, StoreBusyError, StoreUnavailableError, wholeNumberSetting, type EventData, type EventFilter, type EventMetadata, type EventStore, type RecordedEvent, type StreamAppend } from '../eventstore/index.js';
import { otherSlot, type Slot } from '../messaging/index.js';
import {
  decideAffinity,
  evolveOwnership,
  isOwnershipEvent,
  isRegistryEvent,
  liveAt,
  liveSince,
  readRegistry,
  SLOT_HANDED_OVER,
  SLOTS_CHANGED,
  slotCheckpointName,
  UNOWNED,
  INITIAL_REGISTRY,
  type OwnershipEvent,
  type Ownership,
  type RegistryState,
  type SlotHandedOver,
} from '../slots/index.js';
import {
  BookingMetrics,
  eventLogFields,
  FollowerMetrics,
  startBatchSpan,
  startEventSpan,
  traceparentOf,
  tracingEnabled,
  withinBatch,
  withSpan,
} from '../telemetry/index.js';
import { owns, partitionedName, WHOLE, type Partition } from './partition.js';

/**
 * A processor turns events of other streams into decisions on one of its own
 * streams (an aggregate or a process manager). Everything domain-specific is in
 * the definition; the runner only does I/O.
 */
export interface ProcessorDefinition<State, Event extends { type: string; tradeRef: string }, Input> {
  /** Also the checkpoint's name. */
  name: string;
  filter: EventFilter;
  /** What the streams it decides on start with (they hold its slot affinity too). */
  streamPrefix: string;
  /** The stream that owns the decision, and the decider's input; null to pass over the event. */
  route(event: RecordedEvent): { stream: string; input: Input } | null;
  initialState: State;
  /**
   * How many of its streams' states the runner keeps in memory unless KEPLER_PROCESSOR_CACHE
   * says otherwise: as many as the inputs come back to before the state would be read again.
   */
  cacheSize: number;
  evolve(state: State, event: Event): State;
  decide(input: Input, state: State): E.Either<{ code: string; message: string }, Event[]>;
  /**
   * decide, with the state its events evolve to (`events.reduce(evolve, state)`, exactly), for a
   * decider that computes it anyway: the runner then does not evolve by each event again.
   */
  decideAndEvolve?(input: Input, state: State): E.Either<{ code: string; message: string }, { events: Event[]; state: State }>;
}

interface Loaded<State, Event> {
  /** The state as of some event of the stream; `unapplied` are the stream's events after it. */
  state: State;
  /**
   * Events decided on the stream (and appended, once cached) that `state` has not been evolved by
   * yet: evolved only when an input of the stream is next decided (see current). A trade is mostly
   * decided once and then never again before its state leaves the cache, and each evolved version
   * (a copy of its maps and sets, a fingerprint per version) lived until the batch's commit, was
   * promoted, and died old. Never changed once cached: a batch that does not commit leaves it as it was.
   */
  unapplied: readonly Event[];
  /** Revision of the last event in the stream; null when the stream does not exist. */
  revision: number | null;
  /** Which slot decides for the stream. */
  ownership: Ownership;
}

/** A stream as a batch decides on it: what it was, and what this batch decided on it so far. */
interface Entry<State, Event> extends Loaded<State, Event> {
  appended: EventData[];
}

const NOTHING_UNAPPLIED: readonly never[] = [];
/** A stream readStreams found nothing of. */
const NO_EVENTS: readonly RecordedEvent[] = [];

export interface ProcessorOptions {
  partition?: Partition;
  /**
   * The blue/green slot this processor belongs to: it then decides only for the
   * streams its slot owns (slot affinity). Without it, it decides for every stream.
   */
  slot?: Slot;
}

export interface ProcessorStatus {
  name: string;
  position: number;
}

const IDLE_CHECKPOINT_INTERVAL_MS = 1000;
const BUSY_RETRY_MS = 100;
const BUSY_RETRY_MAX_MS = 2000;
/** How long a claim right after a cut-over waits for the previous live slot before looking for what it left. */
const PEER_WAIT_MS = 2000;

/**
 * Streams whose state is kept in memory, for every processor alike when set (deployment profiles
 * set it); otherwise each definition's own cacheSize. Bounded so that memory does not grow with the
 * history; an evicted state is simply read again.
 */
// Checked as a whole number: Number() of a typo is NaN, and a cache no larger than NaN is never trimmed, so it would grow with the history.
const CACHE_LIMIT = wholeNumberSetting(process.env.KEPLER_PROCESSOR_CACHE, 'KEPLER_PROCESSOR_CACHE') ?? null;

export class ProcessorRunner<State, Event extends { type: string; tradeRef: string }, Input> {
  private readonly cache = new Map<string, Loaded<State, Event>>();
  private readonly cacheLimit: number;
  private position = 0;
  /** The checkpoint as last stored, and when. */
  private stored = { position: 0, at: 0 };
  private trailingCheckpoint: NodeJS.Timeout | null = null;
  /** The trailing write under way, which the next batch waits for (see storeCheckpointLazily). */
  private trailingWrite: Promise<void> | null = null;
  /** A batch is being decided and appended. */
  private processing = false;
  private stopping = false;
  private subscription: ReturnType<EventStore['subscribe']> | null = null;
  private registry: RegistryState = INITIAL_REGISTRY;
  /** The cut-over point this processor already waited for the other slot to pass. */
  private waitedForPeerAt: number | null = null;
  private readonly partition: Partition;
  private readonly slot: Slot | undefined;

  readonly name: string;
  private readonly metrics: FollowerMetrics;
  private readonly bookings = new BookingMetrics();
  /** Per-event log lines cost a look at the level only. */
  private readonly debug: boolean;

  constructor(
    private readonly store: EventStore,
    private readonly definition: ProcessorDefinition<State, Event, Input>,
    private readonly logger: Logger,
    options: ProcessorOptions | Partition = {},
  ) {
    const { partition = WHOLE, slot } = 'count' in options ? { partition: options, slot: undefined } : options;
    this.partition = partition;
    this.slot = slot;
    this.cacheLimit = CACHE_LIMIT ?? definition.cacheSize;
    this.name = partitionedName(slot ? slotCheckpointName(definition.name, slot) : definition.name, partition);
    this.metrics = new FollowerMetrics(this.name);
    this.debug = logger.isLevelEnabled('debug');
  }

  get status(): ProcessorStatus {
    return { name: this.name, position: this.position };
  }

  /** Runs until stop(); resumes from the durable checkpoint. */
  async run(): Promise<void> {
    this.position = (await this.store.readCheckpoint(this.name)) ?? 0;
    this.stored = { position: this.position, at: Date.now() };
    const filter = this.slot ? { ...this.definition.filter, eventTypes: [...(this.definition.filter.eventTypes ?? []), SLOTS_CHANGED, SLOT_HANDED_OVER] } : this.definition.filter;
    if (this.slot) this.registry = await readRegistry(this.store);
    this.subscription = this.store.subscribe(this.position, { filter, batchSize: 5000 });
    for await (const batch of this.subscription) {
      if (this.stopping) break;
      // The live slot as of each position is read from the registry's history, so it only needs reading when it changed.
      if (this.slot && batch.events.some(isRegistryEvent)) this.registry = await readRegistry(this.store);
      const started = process.hrtime.bigint();
      // One span per batch, linked to every trace in it; each event's handling is a span of its own trace.
      const span = startBatchSpan(`${this.name} batch`, batch.events, { 'kepler.subscription': this.name });
      if (this.trailingWrite) await this.trailingWrite;
      this.processing = true;
      try {
        await withinBatch(span, () => this.processWhileBusy(batch.events, batch.scannedTo));
      } finally {
        this.processing = false;
      }
      this.metrics.batch(batch.events.length, started);
      this.position = batch.scannedTo;
    }
    if (this.trailingCheckpoint) clearTimeout(this.trailingCheckpoint);
    if (this.trailingWrite) await this.trailingWrite;
    await this.storeCheckpoint(this.position);
  }

  /**
   * A batch that decided nothing moves the checkpoint only now and then: replaying
   * it after a crash is harmless, and a disk flush per idle batch is not.
   */
  private async storeCheckpointLazily(position: number): Promise<void> {
    if (position <= this.stored.position) return;
    const wait = this.stored.at + IDLE_CHECKPOINT_INTERVAL_MS - Date.now();
    if (wait <= 0) return this.storeCheckpoint(position);
    // A trailing write, so that a processor which goes quiet still shows others how far it got.
    // Never beside a batch's append, which carries this checkpoint too: a store that commits
    // writes together (PostgreSQL's group commit) would write one checkpoint twice in one
    // statement, and that fails the commit (seen in the crash test: `serve` stopped). A batch
    // under way stores the checkpoint with its append, or comes back here if it decided nothing;
    // the next batch waits for a write already gone out.
    this.trailingCheckpoint ??= setTimeout(() => {
      this.trailingCheckpoint = null;
      if (this.processing) return;
      const write = this.storeCheckpoint(this.position)
        .catch((error: unknown) => this.logger.error({ err: error, processor: this.name }, 'checkpoint not stored'))
        .finally(() => {
          if (this.trailingWrite === write) this.trailingWrite = null;
        });
      this.trailingWrite = write;
    }, wait);
  }

  private async storeCheckpoint(position: number): Promise<void> {
    if (position <= this.stored.position) return;
    this.stored = { position, at: Date.now() };
    await this.store.writeCheckpoint({ name: this.name, position });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.subscription?.close();
  }

  /**
   * Another process holding the store's write lock for long (a stalled ingest, say) is
   * waited out, not fatal: the batch is decided again on fresh state once it lets go,
   * which is what a conflict does anyway. So is a lost connection to a store server:
   * whether the lost append committed is unknown, and deciding again on fresh state
   * appends only what is still missing.
   */
  private async processWhileBusy(events: readonly RecordedEvent[], scannedTo: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.process(events, scannedTo);
      } catch (error) {
        const busy = error instanceof StoreBusyError;
        if ((!busy && !(error instanceof StoreUnavailableError)) || this.stopping) throw error;
        if (!busy) this.cache.clear();
        this.logger.warn({ processor: this.name, attempt, err: busy ? undefined : error }, busy ? 'event store locked by another writer; trying the batch again' : 'event store unavailable; trying the batch again');
        await new Promise((resolve) => setTimeout(resolve, Math.min(BUSY_RETRY_MAX_MS, BUSY_RETRY_MS * attempt)));
      }
    }
  }

  private async process(events: readonly RecordedEvent[], scannedTo: number): Promise<void> {
    const checkpoint = { name: this.name, position: scannedTo };
    // Each event routed once, whatever the attempts: routing is pure, and it was done twice an
    // attempt (for the prefetch, then to decide).
    const routes = events.map((event) => this.routeOwn(event));
    for (let attempt = 1; ; attempt++) {
      // What is remembered of a stream whose ownership changes in this batch predates the change
      // (the batch was read after it committed): read such streams afresh, so that the inputs before
      // the change and the change itself are decided on the ownership that stands. Trusting the
      // memory lost an input in a cut-over under load: passed over as the old owner's, while the old
      // owner, reading the stream after the hand-over, passed it over as the new owner's.
      for (const event of events) if (isOwnershipEvent(event.type)) this.cache.delete(event.stream);
      await this.prefetch(routes);
      const touched = new Map<string, Entry<State, Event>>();
      const enter = (stream: string, { state, unapplied, revision, ownership }: Loaded<State, Event>) => {
        // Named field by field: a literal opening with a spread and adding a property costs microseconds on Node 20 (see Trade.decide).
        const entry: Entry<State, Event> = { state, unapplied, revision, ownership, appended: [] };
        touched.set(stream, entry);
        return entry;
      };
      // Without an await when the stream is at hand (nearly always, after the prefetch): two
      // suspensions an event were about 5 % of the processors' thread.
      const entryOf = (stream: string): (Entry<State, Event>) | Promise<Entry<State, Event>> => {
        const entry = touched.get(stream);
        if (entry) return entry;
        const cached = this.cache.get(stream);
        return cached ? enter(stream, cached) : this.load(stream).then((loaded) => touched.get(stream) ?? enter(stream, loaded));
      };
      // Read once an attempt, when first wanted, and then taken without an await: an await of an
      // async function for every event of a slot's processor, for a value already at hand, was
      // a suspension and two promises an event.
      let peerProgress: number | null | undefined;
      const peer = (): number | null | Promise<number | null> =>
        peerProgress === undefined ? this.peerProgress().then((progress) => (peerProgress = progress)) : peerProgress;

      for (let i = 0; i < events.length; i++) {
        const event = events[i]!;
        if (isRegistryEvent(event)) continue;
        if (isOwnershipEvent(event.type)) {
          await this.recoverAfterHandOver(event, entryOf);
          continue;
        }
        const routed = routes[i];
        if (!routed) continue;
        const found = entryOf(routed.stream);
        const entry = found instanceof Promise ? await found : found;
        if (this.slot) {
          const since = liveSince(this.registry, this.slot, event.position);
          // Built whole, not as { ...context, peerProgress }: see entryOf.
          const context = (peerProgress: number | null) => ({ slot: this.slot!, position: event.position, live: liveAt(this.registry, event.position), liveSince: since, peerProgress });
          // A cached owner can only be stale in ways an append corrects (another slot took the
          // stream from this one: the append conflicts) or the subscription shows (a drain handed
          // it to this one: the hand-over event drops it from the cache before the batch, above).
          const known = peer();
          let affinity = decideAffinity(event.metadata.correlationId, entry.ownership, context(known instanceof Promise ? await known : known));
          if (affinity.kind === 'claim' && affinity.recoverAfter !== null && since !== null && this.waitedForPeerAt !== since) {
            // Just after a cut-over the slot live before this one is usually a moment from the point
            // where this one became live: waiting for it (once) is cheaper than looking for what it left.
            this.waitedForPeerAt = since;
            peerProgress = await this.waitForPeer(since);
            affinity = decideAffinity(event.metadata.correlationId, entry.ownership, context(peerProgress));
          }
          if (affinity.kind === 'skip') continue;
          if (affinity.kind !== 'decide') {
            const before = entry.appended.length;
            if (affinity.kind === 'claim' && affinity.recoverAfter !== null) await this.recover(routed.stream, entry, affinity.recoverAfter, event.position);
            // Owning a stream means nothing until there is something to decide in it.
            if (!this.decideInto(entry, event, routed.input) && entry.appended.length === before) continue;
            entry.appended.splice(before, 0, this.ownershipEventData(affinity.event, event));
            entry.ownership = { owner: this.slot, at: null };
            continue;
          }
        }
        this.decideInto(entry, event, routed.input);
      }

      // Without a [stream, entry] pair per stream touched, each kept until the commit returns.
      const writes: Array<Entry<State, Event>> = [];
      const appends: StreamAppend[] = [];
      touched.forEach((entry, stream) => {
        if (entry.appended.length === 0) return;
        writes.push(entry);
        appends.push({ stream, expectedRevision: entry.revision ?? 'no_stream', events: entry.appended });
      });
      if (writes.length === 0) return this.storeCheckpointLazily(scannedTo);
      const outcomes = await this.store.appendMany(appends, { checkpoint });
      let conflicts = 0;
      for (let i = 0; i < outcomes.length; i++) {
        const outcome = outcomes[i]!;
        const entry = writes[i]!;
        const { stream } = appends[i]!;
        if (outcome.ok) {
          this.remember(stream, { state: entry.state, unapplied: entry.unapplied, revision: outcome.nextRevision, ownership: entry.ownership });
          this.bookings.appended(entry.appended);
        } else {
          this.cache.delete(stream);
          conflicts++;
        }
      }
      if (conflicts === 0) {
        this.stored = { position: scannedTo, at: Date.now() };
        return;
      }
      // Another writer got there first (the other slot, a command, another process). Decide
      // again on fresh state: inputs already handled are no-ops, so the appends that did
      // succeed are not repeated.
      this.logger.warn({ processor: this.name, conflicts, attempt }, 'concurrent writer, retrying batch');
      if (attempt >= 10) throw new Error(`${this.name}: gave up after ${attempt} concurrency conflicts`);
    }
  }

  /**
   * Decides one input into the entry; true when it decided something. The handling is a
   * span of the input's own trace (when it carries one), and what it decides carries that
   * span's context, so the trace goes on from here.
   */
  private decideInto(entry: Entry<State, Event>, cause: RecordedEvent, input: Input): boolean {
    let decision: { events: Event[]; state: State | null } | null;
    let traceparent = cause.metadata.traceparent;
    if (traceparent !== undefined && tracingEnabled()) {
      const span = startEventSpan(`${this.definition.name} ${cause.type}`, traceparent, { 'kepler.subscription': this.name, 'kepler.event.type': cause.type, 'kepler.stream': cause.stream })!;
      decision = withSpan(span, () => this.decide(input, entry, cause));
      traceparent = traceparentOf(span) ?? traceparent;
      span.end();
    } else {
      decision = this.decide(input, entry, cause);
    }
    if (!decision) return false;
    const { events, state } = decision;
    // The events of one decision share one metadata object while they name the same trade (a booking's
    // noted input and the booking it makes): the store then encodes it once (see EventMetadata's sharing).
    let metadata: EventMetadata | null = null;
    for (let index = 0; index < events.length; index++) {
      const event = events[index]!;
      if (metadata === null || metadata.correlationId !== event.tradeRef) metadata = metadataOf(event, cause, this.slot, traceparent);
      entry.appended.push({ id: deterministicId(cause.id, event.type, index), type: event.type, data: event, metadata });
    }
    // The decider's own array, which nothing else keeps or changes; entries never change an unapplied list, they replace it.
    if (state !== null) entry.state = state;
    else if (events.length > 0) entry.unapplied = entry.unapplied.length === 0 ? events : entry.unapplied.concat(events);
    return events.length > 0;
  }

  /**
   * The entry's state with every event decided on it evolved in: `unapplied.reduce(evolve, state)`,
   * exactly what evolving by each event as it was decided gave, only later. The entry (never a cached
   * Loaded, which stays as it was) keeps the result.
   */
  private current(entry: Entry<State, Event>): State {
    const { unapplied } = entry;
    if (unapplied.length === 0) return entry.state;
    let state = entry.state;
    for (let i = 0; i < unapplied.length; i++) state = this.definition.evolve(state, unapplied[i]!);
    entry.state = state;
    entry.unapplied = NOTHING_UNAPPLIED;
    return state;
  }

  /** The decision on one event, with the state after it when the decider gives it; null when refused (logged). */
  private decide(input: Input, entry: Entry<State, Event>, event: RecordedEvent): { events: Event[]; state: State | null } | null {
    const { decideAndEvolve } = this.definition;
    const current = this.current(entry);
    const decision = decideAndEvolve
      ? decideAndEvolve(input, current)
      : E.map((events: Event[]) => ({ events, state: null as State | null }))(this.definition.decide(input, current));
    if (E.isLeft(decision)) {
      // Inputs come from the store, so a refusal is a defect, not bad data: log it loudly and go on.
      this.logger.error({ ...eventLogFields(event), processor: this.name, error: decision.left }, 'decision refused');
      return null;
    }
    if (this.debug) this.logger.debug({ ...eventLogFields(event), processor: this.name, decided: decision.right.events.map((e) => e.type) }, 'event handled');
    return decision.right;
  }

  private ownershipEventData(event: OwnershipEvent, cause: RecordedEvent): EventData {
    return {
      id: deterministicId(cause.id, event.type, this.definition.name, this.slot ?? ''),
      type: event.type,
      data: event,
      metadata: { correlationId: event.tradeRef, causationId: cause.id, ...(this.slot && { slot: this.slot }) },
    };
  }

  /**
   * A drain handed a stream to this slot and the old owner may have left inputs
   * undecided: decide, in store order, every input of the stream after `since`
   * that the stream has not handled yet.
   */
  private async recoverAfterHandOver(
    event: RecordedEvent,
    entryOf: (stream: string) => (Entry<State, Event>) | Promise<Entry<State, Event>>,
  ): Promise<void> {
    if (!this.slot || event.type !== SLOT_HANDED_OVER || !event.stream.startsWith(this.definition.streamPrefix)) return;
    const handOver = event.data as SlotHandedOver;
    if (handOver.to !== this.slot || handOver.since === null || !owns(this.partition, event.metadata.correlationId)) return;
    const entry = await entryOf(event.stream);
    if (entry.ownership.owner !== this.slot) return;
    await this.recover(event.stream, entry, handOver.since, event.position);
  }

  /** Decides the inputs of `stream` in (after, before), in order; handled ones are no-ops. */
  private async recover(stream: string, entry: Entry<State, Event>, after: number, before: number): Promise<void> {
    let from = after;
    while (from < before - 1) {
      const page = await this.store.readAll(from, { maxCount: 5000, filter: this.definition.filter });
      for (const input of page.events) {
        if (input.position >= before) return;
        const routed = this.definition.route(input);
        if (routed?.stream === stream) this.decideInto(entry, input, routed.input);
      }
      if (page.endOfStore || page.scannedTo <= from) return;
      from = page.scannedTo;
    }
  }

  /** Waits (a little) for the other slot's follower to reach `position`; how far it got. */
  private async waitForPeer(position: number): Promise<number | null> {
    const deadline = Date.now() + PEER_WAIT_MS;
    for (;;) {
      const progress = await this.peerProgress();
      if (progress === null || progress >= position || Date.now() >= deadline || this.stopping) return progress;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** How far the other slot's follower of this kind, on this partition, has got. */
  private async peerProgress(): Promise<number | null> {
    if (!this.slot) return null;
    return this.store.readCheckpoint(partitionedName(slotCheckpointName(this.definition.name, otherSlot(this.slot)), this.partition));
  }

  /**
   * Asks for every stream of the batch that is not cached at once, so that a store on a
   * server reads them in one round trip rather than one each.
   */
  private async prefetch(routes: ReadonlyArray<{ stream: string } | null>): Promise<void> {
    const missing = new Set<string>();
    for (const routed of routes) if (routed && !this.cache.has(routed.stream)) missing.add(routed.stream);
    if (missing.size === 0) return;
    // The store's reads, then each state built here: not an async load() per stream, whose promise and
    // resumption cost more than the state of a stream that does not exist yet (nearly all of them).
    const streams = [...missing];
    // All at once where the store can (one promise, not one a stream: a catch-up's batch loads thousands).
    if (this.store.readStreams) {
      const read = await this.store.readStreams(streams);
      for (let i = 0; i < streams.length; i++) this.remember(streams[i]!, this.loaded(read.get(streams[i]!) ?? NO_EVENTS));
      return;
    }
    const read = await Promise.all(streams.map((stream) => this.store.readStream(stream)));
    for (let i = 0; i < streams.length; i++) this.remember(streams[i]!, this.loaded(read[i]!));
  }

  /** Where an event goes, if this processor decides on it here: routed, and of this partition. */
  private routeOwn(event: RecordedEvent): { stream: string; input: Input } | null {
    // Registry and ownership events are the runner's own business, never an input.
    if (isRegistryEvent(event) || isOwnershipEvent(event.type)) return null;
    const routed = this.definition.route(event);
    return routed && owns(this.partition, event.metadata.correlationId) ? routed : null;
  }

  private async load(stream: string): Promise<Loaded<State, Event>> {
    const cached = this.cache.get(stream);
    if (cached) return cached;
    const loaded = this.loaded(await this.store.readStream(stream));
    this.remember(stream, loaded);
    return loaded;
  }

  /** A stream's state as its events give it. */
  private loaded(events: readonly RecordedEvent[]): Loaded<State, Event> {
    let state = this.definition.initialState;
    let ownership = UNOWNED;
    for (const e of events) {
      if (isOwnershipEvent(e.type)) ownership = evolveOwnership(ownership, e.data as OwnershipEvent, e.position);
      else state = this.definition.evolve(state, e.data as Event);
    }
    return { state, unapplied: NOTHING_UNAPPLIED, revision: events.at(-1)?.revision ?? null, ownership };
  }

  private remember(stream: string, loaded: Loaded<State, Event>): void {
    this.cache.delete(stream);
    this.cache.set(stream, loaded);
    if (this.cache.size > this.cacheLimit) this.cache.delete(this.cache.keys().next().value!);
  }
}

function metadataOf(event: { tradeRef: string }, cause: RecordedEvent, slot: Slot | undefined, traceparent: string | undefined): EventMetadata {
  const { source, sourceSequence, file, line, actor } = cause.metadata;
  // One literal with every key, in the order the spreads had, a key the cause's metadata lacks left
  // undefined: JSON.stringify leaves such keys out (so does the EventStoreDB mapping), so the stored
  // JSON is the same as when they were added one by one, without the object's property store grown
  // at each addition, for each of the hundreds of thousands of events decided.
  // Who caused the input caused what is decided on it (actor), as the trace does.
  return { correlationId: event.tradeRef, causationId: cause.id, source, sourceSequence, file, line, traceparent, actor, slot };
}
