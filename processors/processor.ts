import * as E from 'fp-ts/lib/Either.js';
import type { Logger } from 'pino';
import { deterministicId, StoreBusyError, type EventData, type EventFilter, type EventStore, type RecordedEvent } from '../eventstore/index.js';
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
  /** The stream that owns the decision, and the decider's input; null to pass over the event. */
  route(event: RecordedEvent): { stream: string; input: Input } | null;
  initialState: State;
  evolve(state: State, event: Event): State;
  decide(input: Input, state: State): E.Either<{ code: string; message: string }, Event[]>;
}

interface Loaded<State> {
  state: State;
  /** Revision of the last event in the stream; null when the stream does not exist. */
  revision: number | null;
}

export interface ProcessorStatus {
  name: string;
  position: number;
}

const IDLE_CHECKPOINT_INTERVAL_MS = 1000;
const BUSY_RETRY_MS = 100;
const BUSY_RETRY_MAX_MS = 2000;

/**
 * Trades whose state is kept in memory. Bounded so that memory does not grow with
 * the history; an evicted state is simply read again. Large enough that a day's
 * allocation and confirmation files, which revisit every trade of the core file,
 * do not keep reloading them.
 */
const CACHE_LIMIT = Number(process.env.KEPLER_PROCESSOR_CACHE ?? 200_000);

export class ProcessorRunner<State, Event extends { type: string; tradeRef: string }, Input> {
  private readonly cache = new Map<string, Loaded<State>>();
  private position = 0;
  /** The checkpoint as last stored, and when. */
  private stored = { position: 0, at: 0 };
  private trailingCheckpoint: NodeJS.Timeout | null = null;
  private stopping = false;
  private subscription: ReturnType<EventStore['subscribe']> | null = null;

  readonly name: string;
  private readonly metrics: FollowerMetrics;
  private readonly bookings = new BookingMetrics();
  /** Per-event log lines cost a look at the level only. */
  private readonly debug: boolean;

  constructor(
    private readonly store: EventStore,
    private readonly definition: ProcessorDefinition<State, Event, Input>,
    private readonly logger: Logger,
    private readonly partition: Partition = WHOLE,
  ) {
    this.name = partitionedName(definition.name, partition);
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
    this.subscription = this.store.subscribe(this.position, { filter: this.definition.filter, batchSize: 5000 });
    for await (const batch of this.subscription) {
      if (this.stopping) break;
      const started = process.hrtime.bigint();
      // One span per batch, linked to every trace in it; each event's handling is a span of its own trace.
      const span = startBatchSpan(`${this.name} batch`, batch.events, { 'kepler.subscription': this.name });
      await withinBatch(span, () => this.processWhileBusy(batch.events, batch.scannedTo));
      this.metrics.batch(batch.events.length, started);
      this.position = batch.scannedTo;
    }
    if (this.trailingCheckpoint) clearTimeout(this.trailingCheckpoint);
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
    this.trailingCheckpoint ??= setTimeout(() => {
      this.trailingCheckpoint = null;
      this.storeCheckpoint(this.position).catch((error: unknown) => this.logger.error({ err: error, processor: this.name }, 'checkpoint not stored'));
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
   * which is what a conflict does anyway.
   */
  private async processWhileBusy(events: readonly RecordedEvent[], scannedTo: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.process(events, scannedTo);
      } catch (error) {
        if (!(error instanceof StoreBusyError) || this.stopping) throw error;
        this.logger.warn({ processor: this.name, attempt }, 'event store locked by another writer; trying the batch again');
        await new Promise((resolve) => setTimeout(resolve, Math.min(BUSY_RETRY_MAX_MS, BUSY_RETRY_MS * attempt)));
      }
    }
  }

  private async process(events: readonly RecordedEvent[], scannedTo: number): Promise<void> {
    const checkpoint = { name: this.name, position: scannedTo };
    for (let attempt = 1; ; attempt++) {
      const touched = new Map<string, Loaded<State> & { appended: EventData[] }>();
      for (const event of events) {
        const routed = this.definition.route(event);
        if (!routed || !owns(this.partition, event.metadata.correlationId)) continue;
        let entry = touched.get(routed.stream);
        if (!entry) {
          entry = { ...(await this.load(routed.stream)), appended: [] };
          touched.set(routed.stream, entry);
        }
        let decision: Event[] | null;
        let traceparent = event.metadata.traceparent;
        if (traceparent !== undefined && tracingEnabled()) {
          const span = startEventSpan(`${this.definition.name} ${event.type}`, traceparent, { 'kepler.subscription': this.name, 'kepler.event.type': event.type, 'kepler.stream': event.stream })!;
          const loaded = entry;
          decision = withSpan(span, () => this.decide(routed.input, loaded, event));
          // What the handling decides carries the handling span's context, so the trace goes on from here.
          traceparent = traceparentOf(span) ?? traceparent;
          span.end();
        } else {
          decision = this.decide(routed.input, entry, event);
        }
        if (!decision) continue;
        decision.forEach((decided, index) => {
          entry!.state = this.definition.evolve(entry!.state, decided);
          entry!.appended.push(toEventData(decided, event, index, traceparent));
        });
      }

      const writes = [...touched].filter(([, entry]) => entry.appended.length > 0);
      if (writes.length === 0) return this.storeCheckpointLazily(scannedTo);
      const outcomes = await this.store.appendMany(
        writes.map(([stream, entry]) => ({ stream, expectedRevision: entry.revision ?? 'no_stream', events: entry.appended })),
        { checkpoint },
      );
      let conflicts = 0;
      outcomes.forEach((outcome, i) => {
        const [stream, entry] = writes[i]!;
        if (outcome.ok) {
          this.remember(stream, { state: entry.state, revision: outcome.nextRevision });
          this.bookings.appended(entry.appended);
        } else {
          this.cache.delete(stream);
          conflicts++;
        }
      });
      if (conflicts === 0) {
        this.stored = { position: scannedTo, at: Date.now() };
        return;
      }
      // Another writer got there first. Decide again on fresh state: inputs already
      // handled are no-ops, so the appends that did succeed are not repeated.
      this.logger.warn({ processor: this.name, conflicts, attempt }, 'concurrent writer, retrying batch');
      if (attempt >= 10) throw new Error(`${this.name}: gave up after ${attempt} concurrency conflicts`);
    }
  }

  /** The decision on one event; null when refused (logged). */
  private decide(input: Input, entry: Loaded<State>, event: RecordedEvent): Event[] | null {
    const decision = this.definition.decide(input, entry.state);
    if (E.isLeft(decision)) {
      // Inputs come from the store, so a refusal is a defect, not bad data: log it loudly and go on.
      this.logger.error({ ...eventLogFields(event), processor: this.name, error: decision.left }, 'decision refused');
      return null;
    }
    if (this.debug) this.logger.debug({ ...eventLogFields(event), processor: this.name, decided: decision.right.map((e) => e.type) }, 'event handled');
    return decision.right;
  }

  private async load(stream: string): Promise<Loaded<State>> {
    const cached = this.cache.get(stream);
    if (cached) return cached;
    const events = await this.store.readStream(stream);
    const state = events.reduce((s, e) => this.definition.evolve(s, e.data as Event), this.definition.initialState);
    const loaded = { state, revision: events.at(-1)?.revision ?? null };
    this.remember(stream, loaded);
    return loaded;
  }

  private remember(stream: string, loaded: Loaded<State>): void {
    this.cache.delete(stream);
    this.cache.set(stream, loaded);
    if (this.cache.size > CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value!);
  }
}

function toEventData(event: { type: string; tradeRef: string }, cause: RecordedEvent, index: number, traceparent: string | undefined): EventData {
  const { source, sourceSequence, file, line } = cause.metadata;
  return {
    id: deterministicId(cause.id, event.type, index),
    type: event.type,
    data: event,
    metadata: {
      correlationId: event.tradeRef,
      causationId: cause.id,
      ...(source !== undefined && { source }),
      ...(sourceSequence !== undefined && { sourceSequence }),
      ...(file !== undefined && { file }),
      ...(line !== undefined && { line }),
      ...(traceparent !== undefined && { traceparent }),
    },
  };
}
