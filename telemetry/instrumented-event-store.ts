// Measures the event store from outside: a decorator of the port, so every
// adapter (SQLite, EventStoreDB, PostgreSQL) is measured the same way without
// knowing it. Appends and stream reads are timed (db.client.operation.duration,
// the semantic conventions' database-client metric, which covers every operation
// a client makes, told apart by db.operation.name), revision conflicts and busy
// refusals counted, and, inside traced work, each is a span. A read is timed once
// a call, never once an event: a processor reads a whole batch's streams in one
// readStreams. readAll and subscribe are left as they are: a follower's reads are
// inside its batch, which kepler.follower.batch.duration times.
import { SpanKind, type Attributes, type Span } from '@opentelemetry/api';
import {
  appendsNewStreams,
  StoreBusyError,
  WrongExpectedRevisionError,
  type AppendableEvent,
  type AppendOutcome,
  type Checkpoint,
  type EventStore,
  type ExpectedRevision,
  type NewStreamEvents,
  type RecordedEvent,
  type StreamAppend,
  type StreamGuard,
} from '../eventstore/index.js';
import { counter, secondsHistogram, secondsSince } from './instruments.js';
import { tracingEnabled } from './sdk.js';
import { failed, startChildSpan } from './tracing.js';

type Operation = 'append' | 'appendMany' | 'readStream' | 'readStreams';

export class InstrumentedEventStore implements EventStore {
  private readonly duration = secondsHistogram('db.client.operation.duration', 'Duration of event-store operations: appends (one stream, or many in one write) and stream reads (one, or many at once)');
  private readonly conflicts = counter('kepler.eventstore.append.conflicts', 'Stream appends refused because another writer moved the stream first (optimistic concurrency)', '{append}');
  private readonly busy = counter('kepler.eventstore.busy', 'Writes refused because another process held the store past the wait (retried by processors, 503 to commands)', '{write}');
  private readonly appended = counter('kepler.eventstore.appended.events', 'Events appended to the store by this process', '{event}');
  private readonly ok: Record<Operation, Attributes>;
  private readonly failedWith = new Map<string, Attributes>();
  /** The inner store's bulk intake, when it has one: measured as an append to many streams. */
  readonly appendNewStreams?: (events: NewStreamEvents) => Promise<number[]>;
  /** The inner store's, when it has one (the port's commitQueued). */
  readonly commitQueued?: () => boolean;
  /** The inner store's, when it has one (the port's readStreams). */
  readonly readStreams?: (streams: readonly string[]) => Promise<Map<string, RecordedEvent[]>>;

  constructor(
    private readonly inner: EventStore,
    /** db.system.name: sqlite, eventstoredb, postgresql. */
    system: string,
  ) {
    this.ok = {
      append: { 'db.system.name': system, 'db.operation.name': 'append' },
      appendMany: { 'db.system.name': system, 'db.operation.name': 'append_many' },
      readStream: { 'db.system.name': system, 'db.operation.name': 'read_stream' },
      readStreams: { 'db.system.name': system, 'db.operation.name': 'read_streams' },
    };
    if (inner.commitQueued) this.commitQueued = inner.commitQueued.bind(inner);
    if (inner.readStreams) {
      const readStreams = inner.readStreams.bind(inner);
      this.readStreams = (streams) => {
        const span = tracingEnabled() ? startChildSpan(`read ${streams.length} streams`, { ...this.ok.readStreams, 'kepler.streams': streams.length }, SpanKind.CLIENT) : null;
        return this.measuredRead('readStreams', span, () => readStreams(streams));
      };
    }
    if (appendsNewStreams(inner)) this.appendNewStreams = (events) => this.measuredNewStreams(() => inner.appendNewStreams(events), events.count);
  }

  private async measuredNewStreams(append: () => Promise<number[]>, count: number): Promise<number[]> {
    const started = process.hrtime.bigint();
    try {
      const refused = await append();
      this.duration.record(secondsSince(started), this.ok.appendMany);
      if (refused.length > 0) this.conflicts.add(refused.length);
      if (refused.length < count) this.appended.add(count - refused.length);
      return refused;
    } catch (error) {
      this.refused(error, 'appendMany', started);
      throw error;
    }
  }

  append(stream: string, events: readonly AppendableEvent[], expectedRevision: ExpectedRevision) {
    return this.measuredAppend(stream, events.length, null, () => this.inner.append(stream, events, expectedRevision));
  }

  /** Measured as an append (one stream, one write); a guard stream that moved counts as a conflict. */
  appendGuarded(stream: string, events: readonly AppendableEvent[], expectedRevision: ExpectedRevision, guard: StreamGuard) {
    return this.measuredAppend(stream, events.length, guard.stream, () => this.inner.appendGuarded(stream, events, expectedRevision, guard));
  }

  private async measuredAppend(stream: string, count: number, guardStream: string | null, append: () => Promise<AppendOutcome & { ok: true }>) {
    const span = tracingEnabled()
      ? startChildSpan(`append ${stream}`, { ...this.ok.append, 'kepler.stream': stream, 'kepler.events': count, ...(guardStream !== null && { 'kepler.guard': guardStream }) }, SpanKind.CLIENT)
      : null;
    const started = process.hrtime.bigint();
    try {
      const outcome = await append();
      this.duration.record(secondsSince(started), this.ok.append);
      this.appended.add(count);
      span?.setAttribute('kepler.position', outcome.position);
      return outcome;
    } catch (error) {
      this.refused(error, 'append', started);
      if (span) failed(span, error);
      throw error;
    } finally {
      span?.end();
    }
  }

  async appendMany(appends: readonly StreamAppend[], options?: { checkpoint?: Checkpoint }): Promise<AppendOutcome[]> {
    const span = tracingEnabled()
      ? startChildSpan(appends.length === 1 ? `append ${appends[0]!.stream}` : `append ${appends.length} streams`, { ...this.ok.appendMany, 'kepler.streams': appends.length }, SpanKind.CLIENT)
      : null;
    const started = process.hrtime.bigint();
    try {
      const outcomes = await this.inner.appendMany(appends, options);
      this.duration.record(secondsSince(started), this.ok.appendMany);
      let conflicts = 0;
      let events = 0;
      outcomes.forEach((outcome, i) => {
        if (outcome.ok) events += appends[i]!.events.length;
        else conflicts++;
      });
      if (conflicts > 0) this.conflicts.add(conflicts);
      if (events > 0) this.appended.add(events);
      span?.setAttributes({ 'kepler.events': events, 'kepler.conflicts': conflicts });
      return outcomes;
    } catch (error) {
      this.refused(error, 'appendMany', started);
      if (span) failed(span, error);
      throw error;
    } finally {
      span?.end();
    }
  }

  private refused(error: unknown, operation: 'append' | 'appendMany', started: bigint): void {
    const type = error instanceof WrongExpectedRevisionError ? 'conflict' : error instanceof StoreBusyError ? 'busy' : 'error';
    if (type === 'conflict') this.conflicts.add(1);
    if (type === 'busy') this.busy.add(1);
    this.duration.record(secondsSince(started), this.failedAttributes(operation, type));
  }

  /** Built once for each operation and error type, so a record finds its series by identity. */
  private failedAttributes(operation: Operation, type: string): Attributes {
    const key = `${operation}:${type}`;
    let attributes = this.failedWith.get(key);
    if (!attributes) {
      attributes = { ...this.ok[operation], 'error.type': type };
      this.failedWith.set(key, attributes);
    }
    return attributes;
  }

  readStream(stream: string, options?: { fromRevision?: number; maxCount?: number }) {
    const span = tracingEnabled() ? startChildSpan(`read ${stream}`, { ...this.ok.readStream, 'kepler.stream': stream }, SpanKind.CLIENT) : null;
    return this.measuredRead('readStream', span, () => this.inner.readStream(stream, options));
  }

  /** One observation a call, however many streams and events it reads. */
  private async measuredRead<T extends RecordedEvent[] | Map<string, RecordedEvent[]>>(operation: 'readStream' | 'readStreams', span: Span | null, read: () => Promise<T>): Promise<T> {
    const started = process.hrtime.bigint();
    try {
      const result = await read();
      this.duration.record(secondsSince(started), this.ok[operation]);
      if (span) span.setAttribute('kepler.events', Array.isArray(result) ? result.length : [...result.values()].reduce((sum, events) => sum + events.length, 0));
      return result;
    } catch (error) {
      this.duration.record(secondsSince(started), this.failedAttributes(operation, 'error'));
      if (span) failed(span, error);
      throw error;
    } finally {
      span?.end();
    }
  }

  readAll(...args: Parameters<EventStore['readAll']>) {
    return this.inner.readAll(...args);
  }

  headPosition() {
    return this.inner.headPosition();
  }

  subscribe(...args: Parameters<EventStore['subscribe']>) {
    return this.inner.subscribe(...args);
  }

  readCheckpoint(name: string) {
    return this.inner.readCheckpoint(name);
  }

  writeCheckpoint(checkpoint: Checkpoint) {
    return this.inner.writeCheckpoint(checkpoint);
  }

  close() {
    return this.inner.close();
  }
}
