import * as E from 'fp-ts/lib/Either.js';
import {
  Booking,
  FEED_SOURCES,
  RECORD_TYPES_BY_SOURCE,
  RESOLUTION_STREAM_PREFIX,
  Trade,
  type ExceptionResolved,
  type FeedSource,
  type RecordOrigin,
  type TradeTerms,
} from '../domain/index.js';
import { deterministicId, WrongExpectedRevisionError, type EventData, type EventStore } from '../eventstore/index.js';
import { Cx1, RecordWriter, type IntakeItem } from '../ingestion/index.js';
import type { ExceptionView } from '../projections/index.js';
import type { Problem } from '../query-api/index.js';

/** What every successful command answers: the trade's version after it, and where its events are. */
export interface CommandResult {
  tradeRef: string;
  version: number;
  position: number;
}

export type CommandOutcome = E.Either<Problem, CommandResult>;

export interface CommandContext {
  /** Derived from the Idempotency-Key when there is one, so a retry is the same input to the aggregate. */
  inputId: string;
  /** The trade version the client saw (If-Match), when it sent one. */
  expectedVersion?: number;
  /** W3C trace context to stamp on the events the command appends. */
  traceparent?: string;
}

interface Loaded<S> {
  state: S;
  revision: number | null;
  lastPosition: number;
}

const MAX_ATTEMPTS = 5;
const API_SOURCE_SEQUENCE = 0;

/**
 * Carries out commands through the same aggregates and process manager as the
 * feed: load the stream, decide with the pure domain function, append with the
 * revision that was read. A concurrent writer makes the append fail and the
 * command is decided again on fresh state.
 */
export class CommandService {
  private readonly writer: RecordWriter;

  constructor(
    private readonly store: EventStore,
    private readonly findException: (id: string) => Promise<ExceptionView | null>,
  ) {
    this.writer = new RecordWriter(store);
  }

  captureTrade(tradeRef: string, terms: TradeTerms, context: CommandContext): Promise<CommandOutcome> {
    return this.onTrade(tradeRef, context, (origin) => ({ type: 'CaptureTrade', inputId: context.inputId, tradeRef, terms, origin }));
  }

  amendTrade(tradeRef: string, terms: TradeTerms, context: CommandContext): Promise<CommandOutcome> {
    return this.onTrade(tradeRef, context, (origin) => ({ type: 'AmendTrade', inputId: context.inputId, tradeRef, terms, origin }));
  }

  cancelTrade(tradeRef: string, reason: string, context: CommandContext): Promise<CommandOutcome> {
    return this.onTrade(tradeRef, context, (origin) => ({ type: 'CancelTrade', inputId: context.inputId, tradeRef, reason, origin }));
  }

  allocate(tradeRef: string, allocationId: string, account: string, quantity: number, context: CommandContext): Promise<CommandOutcome> {
    return this.onBooking(tradeRef, context, (position) => ({
      type: 'AllocationReceived',
      inputId: context.inputId,
      record: { type: 'ALC', tradeRef, allocationId, account, quantity },
      provenance: { source: 'API', sourceSequence: API_SOURCE_SEQUENCE, position },
    }));
  }

  confirm(
    tradeRef: string,
    confirmation: { status: 'AFFIRMED' | 'REJECTED'; quantity: number; price: string; reason: string },
    context: CommandContext,
  ): Promise<CommandOutcome> {
    return this.onBooking(tradeRef, context, (position) => ({
      type: 'ConfirmationReceived',
      inputId: context.inputId,
      record: { type: 'CNF', tradeRef, ...confirmation },
      provenance: { source: 'API', sourceSequence: API_SOURCE_SEQUENCE, position },
    }));
  }

  placeHold(tradeRef: string, reason: string, context: CommandContext): Promise<CommandOutcome> {
    return this.onBooking(tradeRef, context, () => ({ type: 'PlaceHold', inputId: context.inputId, tradeRef, reason }));
  }

  releaseHold(tradeRef: string, context: CommandContext): Promise<CommandOutcome> {
    return this.onBooking(tradeRef, context, () => ({ type: 'ReleaseHold', inputId: context.inputId, tradeRef }));
  }

  /**
   * Puts a rejected line right: the corrected line goes through exactly the path
   * a feed line takes, under the original file and line, and the exception is
   * marked resolved. The rejected line itself stays in the history.
   */
  async resubmit(exceptionId: string, line: string, context: Pick<CommandContext, 'traceparent'> = {}): Promise<CommandOutcome> {
    const exception = await this.findException(exceptionId);
    if (!exception) return E.left(problem(404, 'not-found', 'Not found', `exception ${exceptionId} does not exist`));
    if (exception.resolved) return E.left(problem(409, 'exception-resolved', 'Already resolved', `exception ${exceptionId} was already resolved`));
    if (exception.code === 'TRAILER_MISMATCH') {
      return E.left(problem(409, 'not-resubmittable', 'Not a line', 'a trailer mismatch concerns a whole file; resubmit its lines instead'));
    }
    const parsed = Cx1.parseDetail(line);
    if (E.isLeft(parsed)) return E.left(problem(422, 'invalid-line', 'The corrected line is not a valid CX1 detail record', parsed.left, { errors: [{ field: 'line', message: parsed.left }] }));
    const { record, sourceSequence } = parsed.right;
    const source = (FEED_SOURCES as readonly string[]).includes(exception.source ?? '') ? (exception.source as FeedSource) : defaultSourceOf(record.type);
    if (!RECORD_TYPES_BY_SOURCE[source].includes(record.type)) {
      return E.left(problem(422, 'source-mismatch', 'Record type not allowed for the source', `${record.type} cannot come from ${source}`));
    }
    const item: IntakeItem = {
      kind: 'record',
      source,
      file: exception.file ?? 'api',
      line: exception.line,
      raw: line,
      sourceSequence,
      record,
      ...(context.traceparent !== undefined && { traceparent: context.traceparent }),
    };
    const [outcome] = await this.writer.write([item]);
    if (outcome === 'rejected') {
      return E.left(problem(422, 'sequence-conflict', 'Source sequence already taken', `source sequence ${sourceSequence} of ${source} was already ingested with different content`));
    }
    const stream = `${RESOLUTION_STREAM_PREFIX}${exceptionId}`;
    const resolved: ExceptionResolved = { type: 'ExceptionResolved', exceptionId, resolution: 'RESUBMITTED', correctedLine: line, tradeRef: record.tradeRef };
    try {
      const appended = await this.store.append(stream, [{ id: deterministicId(stream), type: resolved.type, data: resolved, metadata: { correlationId: record.tradeRef } }], 'no_stream');
      const version = 'version' in record ? record.version : (await this.loadTrade(record.tradeRef)).state.effectiveVersion;
      return E.right({ tradeRef: record.tradeRef, version, position: appended.position });
    } catch (error) {
      if (error instanceof WrongExpectedRevisionError) return E.left(problem(409, 'exception-resolved', 'Already resolved', `exception ${exceptionId} was already resolved`));
      throw error;
    }
  }

  async tradeVersion(tradeRef: string): Promise<number> {
    return (await this.loadTrade(tradeRef)).state.effectiveVersion;
  }

  private async onTrade(tradeRef: string, context: CommandContext, command: (origin: RecordOrigin) => Trade.TradeCommand): Promise<CommandOutcome> {
    const origin: RecordOrigin = { source: 'API', sourceSequence: API_SOURCE_SEQUENCE };
    for (let attempt = 1; ; attempt++) {
      const trade = await this.loadTrade(tradeRef);
      const stale = checkExpectedVersion(tradeRef, trade.state.effectiveVersion, context);
      if (stale && !trade.state.handledInputs.has(context.inputId)) return E.left(stale);
      const decision = Trade.decide(command(origin), trade.state);
      if (E.isLeft(decision)) return E.left(tradeProblem(decision.left));
      const events = decision.right;
      if (events.length === 0) return E.right({ tradeRef, version: trade.state.effectiveVersion, position: trade.lastPosition });
      const appended = await this.tryAppend(Trade.tradeStream(tradeRef), trade.revision, events, context);
      if (appended !== null) {
        const state = events.reduce(Trade.evolve, trade.state);
        return E.right({ tradeRef, version: state.effectiveVersion, position: appended });
      }
      if (attempt >= MAX_ATTEMPTS) return E.left(problem(503, 'busy', 'Too much contention', `trade ${tradeRef} kept changing; retry`));
    }
  }

  private async onBooking(tradeRef: string, context: CommandContext, input: (position: number) => Booking.BookingInput): Promise<CommandOutcome> {
    for (let attempt = 1; ; attempt++) {
      const trade = await this.loadTrade(tradeRef);
      // The feed may send allocations before their trade; a command names a trade it knows of.
      if (trade.revision === null) return E.left(problem(404, 'not-found', 'Not found', `trade ${tradeRef} does not exist`));
      const booking = await this.load(Booking.bookingStream(tradeRef), Booking.evolve, Booking.initialBookingState);
      const stale = checkExpectedVersion(tradeRef, trade.state.effectiveVersion, context);
      if (stale && !booking.state.handledInputs.has(context.inputId)) return E.left(stale);
      const decision = Booking.react(input((await this.store.headPosition()) + 1), booking.state);
      if (E.isLeft(decision)) return E.left(bookingProblem(decision.left));
      const events = decision.right;
      const version = trade.state.effectiveVersion;
      if (events.length === 0) return E.right({ tradeRef, version, position: Math.max(booking.lastPosition, trade.lastPosition) });
      const appended = await this.tryAppend(Booking.bookingStream(tradeRef), booking.revision, events, context);
      if (appended !== null) return E.right({ tradeRef, version, position: appended });
      if (attempt >= MAX_ATTEMPTS) return E.left(problem(503, 'busy', 'Too much contention', `trade ${tradeRef} kept changing; retry`));
    }
  }

  /** The position of the last event appended, or null when another writer got there first. */
  private async tryAppend(stream: string, revision: number | null, events: Array<{ type: string; tradeRef: string }>, context: CommandContext): Promise<number | null> {
    const { inputId, traceparent } = context;
    const data: EventData[] = events.map((event, index) => ({
      id: deterministicId(inputId, stream, event.type, index),
      type: event.type,
      data: event,
      metadata: { correlationId: event.tradeRef, causationId: inputId, source: 'API', ...(traceparent !== undefined && { traceparent }) },
    }));
    try {
      return (await this.store.append(stream, data, revision ?? 'no_stream')).position;
    } catch (error) {
      if (error instanceof WrongExpectedRevisionError) return null;
      throw error;
    }
  }

  private loadTrade(tradeRef: string): Promise<Loaded<Trade.TradeState>> {
    return this.load(Trade.tradeStream(tradeRef), Trade.evolve, Trade.initialTradeState);
  }

  private async load<S, Ev>(stream: string, evolve: (state: S, event: Ev) => S, initial: S): Promise<Loaded<S>> {
    const events = await this.store.readStream(stream);
    return {
      state: events.reduce((state, event) => evolve(state, event.data as Ev), initial),
      revision: events.at(-1)?.revision ?? null,
      lastPosition: events.at(-1)?.position ?? 0,
    };
  }
}

function checkExpectedVersion(tradeRef: string, current: number, context: CommandContext): Problem | null {
  if (context.expectedVersion === undefined || context.expectedVersion === current) return null;
  return problem(409, 'version-conflict', 'Version conflict', `trade ${tradeRef} is at version ${current}, not ${context.expectedVersion}`, { currentVersion: current });
}

function tradeProblem(error: Trade.TradeDecisionError): Problem {
  switch (error.code) {
    case 'TRADE_NOT_FOUND':
      return problem(404, 'not-found', 'Not found', error.message);
    case 'TRADE_EXISTS':
      return problem(409, 'trade-exists', 'Trade already exists', error.message);
    case 'TRADE_CANCELLED':
      return problem(409, 'trade-cancelled', 'Trade cancelled', error.message);
    case 'WRONG_TRADE':
      return problem(500, 'internal', 'Internal error', error.message);
  }
}

function bookingProblem(error: Booking.BookingDecisionError): Problem {
  switch (error.code) {
    case 'ALREADY_ON_HOLD':
      return problem(409, 'already-on-hold', 'Already on hold', error.message);
    case 'NOT_ON_HOLD':
      return problem(409, 'not-on-hold', 'Not on hold', error.message);
    case 'WRONG_TRADE':
      return problem(500, 'internal', 'Internal error', error.message);
  }
}

export function problem(status: number, type: string, title: string, detail: string, extensions: Record<string, unknown> = {}): Problem {
  return { type: `/problems/${type}`, title, status, detail, ...extensions };
}

function defaultSourceOf(type: string): 'CORE' | 'ALLOC' | 'CUSTODY' {
  return type === 'ALC' ? 'ALLOC' : type === 'CNF' ? 'CUSTODY' : 'CORE';
}
