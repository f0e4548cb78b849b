import * as E from 'fp-ts/lib/Either.js';
import {
  Booking,
  FEED_SOURCES,
  RECORD_TYPES_BY_SOURCE,
  RESOLUTION_STREAM_PREFIX,
  Trade,
  type DetailRecord,
  type ExceptionResolved,
  type FeedSource,
  type ResolutionEvent,
  type ResubmissionRefused,
  type ResubmissionStarted,
  type RecordOrigin,
  type TradeTerms,
} from '../domain/index.js';
import { deterministicId, StreamGuardUnsupportedError, WrongExpectedRevisionError, type Actor, type EventData, type EventStore, type StreamGuard } from '../eventstore/index.js';
import { Cx1, RecordWriter } from '../ingestion/index.js';
import type { ExceptionView } from '../projections/index.js';
import type { Problem } from '../query-api/index.js';
import { otherSlot, type Slot } from '../messaging/index.js';
import { partitionedName, WHOLE, type Partition } from '../processors/index.js';
import {
  decideAffinity,
  evolveOwnership,
  isOwnershipEvent,
  liveAt,
  liveSince,
  slotCheckpointName,
  UNOWNED,
  type Ownership,
  type OwnershipEvent,
  type RegistryView,
} from '../slots/index.js';

/** What every successful command answers: the trade's version after it, and where its events are. */
export interface CommandResult {
  tradeRef: string;
  version: number;
  position: number;
}

export type CommandOutcome = E.Either<Problem, CommandResult>;

/**
 * A maker's cancellation that only a second principal may carry out: the trade as the decision
 * read it (its version is the one an approval will cancel, its account the request's).
 * `booked`: the booking stream held a booking. `unguarded`: it held none, but the event store
 * cannot append on condition that it still holds none when the cancellation commits
 * (EventStoreDB), so "not booked" cannot be promised, and four eyes is not skipped on a guess.
 */
export interface FourEyesNeeded {
  fourEyes: 'booked' | 'unguarded';
  tradeRef: string;
  version: number;
  account: string | null;
}

export interface CommandContext {
  /** Derived from the Idempotency-Key when there is one, so a retry is the same input to the aggregate. */
  inputId: string;
  /**
   * The versions the client will accept the trade at (If-Match: its strong entity
   * tags), when it sent any; "*" sends none, since it accepts whatever exists.
   */
  expectedVersions?: readonly string[];
  /** W3C trace context to stamp on the events the command appends. */
  traceparent?: string;
  /** Who asks: stamped on every event the command appends. Absent when authentication is off. */
  actor?: Actor;
  /** Where the input came from, for the events' metadata; the API itself when absent. */
  origin?: { source: FeedSource; sourceSequence: number; file: string; line: number | null };
}

interface Loaded<S> {
  state: S;
  revision: number | null;
  lastPosition: number;
  ownership: Ownership;
}

/** Slot affinity for the commands a slot's API decides (without it, every trade is decided here). */
export interface CommandAffinity {
  slot: Slot;
  registry: RegistryView;
  /** How the slots' processors are partitioned (to read the other slot's progress). */
  partition?: Partition;
}

const MAX_ATTEMPTS = 5;

/** A trade stream as it is before its first event. */
const NEW_TRADE: Loaded<Trade.TradeState> = { state: Trade.initialTradeState, revision: null, lastPosition: 0, ownership: UNOWNED };

/**
 * One decision of a trade command: answered (a refusal, nothing to append, or a second principal needed),
 * appended, or beaten by another writer (on the trade's stream, or on the stream its append was guarded by).
 */
type TradeAttempt<R = CommandResult> = { kind: 'answered' | 'appended'; outcome: E.Either<Problem, R> } | { kind: 'conflict' };

/** How a trade command is decided: a capture is first guessed new; a maker's cancellation is refused a booked trade. */
interface TradeDecisionOptions {
  expectNew?: boolean;
  unlessBooked?: boolean;
}
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
    private readonly affinity?: CommandAffinity,
  ) {
    this.writer = new RecordWriter(store);
  }

  captureTrade(tradeRef: string, terms: TradeTerms, context: CommandContext): Promise<CommandOutcome> {
    return this.onTrade(tradeRef, context, (origin) => ({ type: 'CaptureTrade', inputId: context.inputId, tradeRef, terms, origin }), { expectNew: true });
  }

  amendTrade(tradeRef: string, terms: TradeTerms, context: CommandContext): Promise<CommandOutcome> {
    return this.onTrade(tradeRef, context, (origin) => ({ type: 'AmendTrade', inputId: context.inputId, tradeRef, terms, origin }));
  }

  /** Cancels whether or not the trade is booked: with authentication off, and an approval's carrying out. */
  cancelTrade(tradeRef: string, reason: string, context: CommandContext): Promise<CommandOutcome> {
    return this.onTrade(tradeRef, context, (origin) => ({ type: 'CancelTrade', inputId: context.inputId, tradeRef, reason, origin }));
  }

  /**
   * A maker's cancellation under four eyes: carried out when the trade is not booked, else answered
   * FourEyesNeeded. "Not booked" is read from the booking stream in the same attempt as the trade, and
   * the cancellation is appended provided the booking stream is still at the revision read
   * (appendGuarded): a booking that lands in between makes the append fail as a conflict, and the
   * command is decided again, now on a booked trade, within the attempts every command has.
   * Checking in the route and cancelling after (as before) let a booking slip in between.
   */
  cancelUnlessBooked(tradeRef: string, reason: string, context: CommandContext): Promise<E.Either<Problem, CommandResult | FourEyesNeeded>> {
    return this.onTrade(tradeRef, context, (origin) => ({ type: 'CancelTrade', inputId: context.inputId, tradeRef, reason, origin }), { unlessBooked: true });
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
   * Puts a rejected line right: the corrected line goes through the path a feed
   * line takes, under the original file and line, and the exception is marked
   * resolved; the rejected line itself stays in the history.
   *
   * The resubmission first holds the exception (ResubmissionStarted), so that a
   * concurrent one with another line is refused before it ingests anything. The
   * trade (or booking) decision the processors will take on the line is taken here
   * too, with the same input id, so the answer's position already shows its effect
   * (read-your-writes); the processors then find the input handled.
   */
  async resubmit(exceptionId: string, line: string, context: Pick<CommandContext, 'traceparent' | 'actor'> = {}): Promise<CommandOutcome> {
    const checked = await this.checkResubmission(exceptionId, line);
    if (E.isLeft(checked)) return checked;
    const { exception, record, sourceSequence, source } = checked.right;
    const stream = `${RESOLUTION_STREAM_PREFIX}${exceptionId}`;
    const held = await this.holdException(stream, exceptionId, line, record.tradeRef, context.actor);
    if (E.isLeft(held)) return held;

    const item = {
      kind: 'record' as const,
      source,
      file: exception.file ?? 'api',
      line: exception.line,
      raw: line,
      sourceSequence,
      record,
      ...(context.traceparent !== undefined && { traceparent: context.traceparent }),
      ...(context.actor !== undefined && { actor: context.actor }),
    };
    const written = await this.writer.writeOne(item);
    if (written.kind === 'conflict') {
      const refused: ResubmissionRefused = { type: 'ResubmissionRefused', exceptionId, correctedLine: line, reason: written.detail };
      await this.appendResolution(stream, refused, held.right, record.tradeRef, context.actor);
      return E.left(problem(422, 'sequence-conflict', 'Source sequence already taken', written.detail));
    }

    const decisionContext: CommandContext = {
      inputId: written.id,
      origin: { source, sourceSequence, file: item.file, line: item.line },
      ...(context.traceparent !== undefined && { traceparent: context.traceparent }),
      ...(context.actor !== undefined && { actor: context.actor }),
    };
    const origin: RecordOrigin = { source, sourceSequence, file: item.file, ...(item.line !== null && { line: item.line }), raw: line };
    const provenance = { source, sourceSequence, position: written.position };
    const decided =
      record.type === 'ALC'
        ? await this.onBooking(record.tradeRef, decisionContext, () => ({ type: 'AllocationReceived', inputId: written.id, record, provenance }), { requireTrade: false })
        : record.type === 'CNF'
          ? await this.onBooking(record.tradeRef, decisionContext, () => ({ type: 'ConfirmationReceived', inputId: written.id, record, provenance }), { requireTrade: false })
          : await this.onTrade(record.tradeRef, decisionContext, () => ({ type: 'ReceiveVersion', inputId: written.id, record, origin }));
    if (E.isLeft(decided)) return decided;

    const resolved: ExceptionResolved = { type: 'ExceptionResolved', exceptionId, resolution: 'RESUBMITTED', correctedLine: line, tradeRef: record.tradeRef };
    const position = await this.appendResolution(stream, resolved, held.right, record.tradeRef, context.actor);
    return E.right({ ...decided.right, position: Math.max(position, decided.right.position) });
  }

  /**
   * Whether a line could be resubmitted for an exception now: it exists and is
   * open, and the line is a valid detail record its source may send. What a
   * four-eyes request is checked against before it is recorded.
   */
  async checkResubmission(
    exceptionId: string,
    line: string,
  ): Promise<E.Either<Problem, { exception: ExceptionView; record: DetailRecord; sourceSequence: number; source: FeedSource }>> {
    const exception = await this.findException(exceptionId);
    if (!exception) return E.left(problem(404, 'not-found', 'Not found', `exception ${exceptionId} does not exist`));
    if (exception.resolved) return E.left(alreadyResolved(exceptionId));
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
    return E.right({ exception, record, sourceSequence, source });
  }

  /** The account of a trade's effective terms, as its own stream has them; null for a trade not known or without terms. */
  async tradeAccount(tradeRef: string): Promise<string | null> {
    return (await this.loadTrade(tradeRef)).state.terms?.account ?? null;
  }

  /** Holds an open exception for a resubmission of `line`; the revision of the hold. */
  private async holdException(stream: string, exceptionId: string, line: string, tradeRef: string, actor: Actor | undefined): Promise<E.Either<Problem, number>> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const events = await this.store.readStream(stream);
      const last = events.at(-1);
      const data = last?.data as ResolutionEvent | undefined;
      if (data?.type === 'ExceptionResolved') return E.left(alreadyResolved(exceptionId));
      if (data?.type === 'ResubmissionStarted') {
        // The same line again: a retry, or one after a crash; it carries on.
        if (data.correctedLine === line) return E.right(last!.revision);
        return E.left(
          problem(409, 'resubmission-in-progress', 'Resubmission in progress', `exception ${exceptionId} is being resubmitted with another line; resubmit that line to finish it`, {
            correctedLine: data.correctedLine,
          }),
        );
      }
      const started: ResubmissionStarted = { type: 'ResubmissionStarted', exceptionId, correctedLine: line, tradeRef };
      try {
        const expected = last ? last.revision : 'no_stream';
        return E.right((await this.store.append(stream, [resolutionEvent(stream, started, events.length, tradeRef, actor)], expected)).nextRevision);
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
      }
    }
    return E.left(problem(503, 'busy', 'Too much contention', `exception ${exceptionId} kept changing; retry`));
  }

  /** Appends after the hold; a retry that raced this one may have done it already, which is as good. */
  private async appendResolution(stream: string, event: ResubmissionRefused | ExceptionResolved, heldAt: number, tradeRef: string, actor: Actor | undefined): Promise<number> {
    try {
      return (await this.store.append(stream, [resolutionEvent(stream, event, heldAt + 1, tradeRef, actor)], heldAt)).position;
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError)) throw error;
      const [standing] = await this.store.readStream(stream, { fromRevision: heldAt + 1, maxCount: 1 });
      if (standing?.type !== event.type) throw new Error(`${stream} moved on to ${standing?.type} while resubmitting`);
      return standing.position;
    }
  }

  private onTrade(tradeRef: string, context: CommandContext, command: (origin: RecordOrigin) => Trade.TradeCommand, options?: { expectNew?: boolean }): Promise<CommandOutcome>;
  private onTrade(
    tradeRef: string,
    context: CommandContext,
    command: (origin: RecordOrigin) => Trade.TradeCommand,
    options: { unlessBooked: true },
  ): Promise<E.Either<Problem, CommandResult | FourEyesNeeded>>;
  private async onTrade(
    tradeRef: string,
    context: CommandContext,
    command: (origin: RecordOrigin) => Trade.TradeCommand,
    options: TradeDecisionOptions = {},
  ): Promise<E.Either<Problem, CommandResult | FourEyesNeeded>> {
    const origin: RecordOrigin = { source: 'API', sourceSequence: API_SOURCE_SEQUENCE };
    // A capture names a trade that should not exist yet: it is decided first on the empty stream,
    // without reading the stream. Only an append expecting no stream confirms that guess, atomically;
    // any other outcome (the stream exists, a refusal, nothing to do) is decided again on the stream as read.
    if (options.expectNew) {
      const guessed = await this.decideOnTrade(tradeRef, NEW_TRADE, context, command(origin), options);
      if (guessed.kind === 'appended') return guessed.outcome;
    }
    for (let attempt = 1; ; attempt++) {
      const decided = await this.decideOnTrade(tradeRef, await this.loadTrade(tradeRef), context, command(origin), options);
      if (decided.kind !== 'conflict') return decided.outcome;
      if (attempt >= MAX_ATTEMPTS) return E.left(problem(503, 'busy', 'Too much contention', `trade ${tradeRef} kept changing; retry`));
    }
  }

  /**
   * One decision of a trade command on the trade as loaded (or as guessed), and its append. Unless booked
   * (a maker's cancellation), the decision to append is also one on the booking stream: read after the
   * trade's, and held by the append's guard, so what is appended was decided on both as they stood at its commit.
   */
  private async decideOnTrade(
    tradeRef: string,
    trade: Loaded<Trade.TradeState>,
    context: CommandContext,
    command: Trade.TradeCommand,
    { unlessBooked = false }: TradeDecisionOptions,
  ): Promise<TradeAttempt<CommandResult | FourEyesNeeded>> {
    const stale = checkExpectedVersion(tradeRef, trade.state.effectiveVersion, context);
    if (stale && !trade.state.handledInputs.has(context.inputId)) return { kind: 'answered', outcome: E.left(stale) };
    // Refusals and retries (an input already handled appends nothing) are answered whatever the booking.
    const decision = Trade.decide(command, trade.state);
    if (E.isLeft(decision)) return { kind: 'answered', outcome: E.left(tradeProblem(decision.left)) };
    const events = decision.right;
    if (events.length === 0) return { kind: 'answered', outcome: E.right({ tradeRef, version: trade.state.effectiveVersion, position: trade.lastPosition }) };
    let guard: StreamGuard | undefined;
    if (unlessBooked) {
      const booking = await this.load(Booking.bookingStream(tradeRef), Booking.evolve, Booking.initialBookingState);
      if (booking.state.booking !== null) return { kind: 'answered', outcome: E.right(fourEyes('booked', tradeRef, trade.state)) };
      guard = { stream: Booking.bookingStream(tradeRef), revision: booking.revision ?? 'no_stream' };
    }
    const owned = await this.ownershipFor(tradeRef, trade.ownership, 'trade-processor');
    if (E.isLeft(owned)) return { kind: 'answered', outcome: owned };
    let appended: number | null;
    try {
      appended = await this.tryAppend(Trade.tradeStream(tradeRef), trade.revision, [...owned.right, ...events], context, guard);
    } catch (error) {
      // Nothing was written: the store said so before appending. Four eyes is asked for rather than skipped.
      if (error instanceof StreamGuardUnsupportedError) return { kind: 'answered', outcome: E.right(fourEyes('unguarded', tradeRef, trade.state)) };
      throw error;
    }
    if (appended === null) return { kind: 'conflict' };
    return { kind: 'appended', outcome: E.right({ tradeRef, version: Trade.effectiveVersionAfter(trade.state, events), position: appended }) };
  }

  private async onBooking(
    tradeRef: string,
    context: CommandContext,
    input: (position: number) => Booking.BookingInput,
    { requireTrade = true }: { requireTrade?: boolean } = {},
  ): Promise<CommandOutcome> {
    for (let attempt = 1; ; attempt++) {
      const trade = await this.loadTrade(tradeRef);
      // The feed may send allocations before their trade; a command names a trade it knows of.
      if (requireTrade && trade.revision === null) return E.left(problem(404, 'not-found', 'Not found', `trade ${tradeRef} does not exist`));
      const booking = await this.load(Booking.bookingStream(tradeRef), Booking.evolve, Booking.initialBookingState);
      const stale = checkExpectedVersion(tradeRef, trade.state.effectiveVersion, context);
      if (stale && !booking.state.handledInputs.has(context.inputId)) return E.left(stale);
      const decision = Booking.react(input((await this.store.headPosition()) + 1), booking.state);
      if (E.isLeft(decision)) return E.left(bookingProblem(decision.left));
      const events = decision.right;
      const version = trade.state.effectiveVersion;
      if (events.length === 0) return E.right({ tradeRef, version, position: Math.max(booking.lastPosition, trade.lastPosition) });
      const owned = await this.ownershipFor(tradeRef, booking.ownership, 'booking-manager');
      if (E.isLeft(owned)) return owned;
      const appended = await this.tryAppend(Booking.bookingStream(tradeRef), booking.revision, [...owned.right, ...events], context);
      if (appended !== null) return E.right({ tradeRef, version, position: appended });
      if (attempt >= MAX_ATTEMPTS) return E.left(problem(503, 'busy', 'Too much contention', `trade ${tradeRef} kept changing; retry`));
    }
  }

  /**
   * Whether this slot may decide for the stream: a 421 naming the owner when the
   * other slot does (the gateway sends commands there), else the ownership event to
   * append first when this, the live slot, starts a trade. A command never takes a
   * stream over from the other slot: only the processors do, at a quiescent point.
   */
  private async ownershipFor(tradeRef: string, ownership: Ownership, follower: string): Promise<E.Either<Problem, OwnershipEvent[]>> {
    if (!this.affinity) return E.right([]);
    const { slot, registry, partition = WHOLE } = this.affinity;
    if (ownership.owner === slot) return E.right([]);
    const state = await registry.current();
    // Until a slot is first made live, an unowned stream is decided wherever it is (decideAffinity's first
    // rule), whatever the head and the other slot's progress: neither is read then, at every capture.
    if (ownership.owner === null && state.liveHistory.length === 0) return E.right([]);
    const position = (await this.store.headPosition()) + 1;
    const live = liveAt(state, position);
    const since = liveSince(state, slot, position);
    // The other slot's progress only tells a claim whether to look for what it left; any other answer here is a 421 anyway.
    const mayClaim = ownership.owner === null && live === slot && since !== null;
    const peer = mayClaim ? await this.store.readCheckpoint(partitionedName(slotCheckpointName(follower, otherSlot(slot)), partition)) : null;
    const affinity = decideAffinity(tradeRef, ownership, { slot, position, live, liveSince: since, peerProgress: peer });
    if (affinity.kind === 'decide') return E.right([]);
    if (affinity.kind === 'claim') {
      if (affinity.recoverAfter !== null) return E.left({ ...problem(503, 'busy', 'Slot still handing over', `the ${otherSlot(slot)} slot has not yet finished what it took before ${slot} became live; retry`), retryAfter: 1 });
      return E.right([affinity.event]);
    }
    const owner = ownership.owner ?? state.routing.live;
    return E.left(problem(421, 'wrong-slot', 'Decided by another slot', `trade ${tradeRef} is decided by the ${owner ?? 'live'} slot, not ${slot}`, { owner }));
  }

  /**
   * The position of the last event appended, or null when another writer got there first (to the stream,
   * or, for a guarded append, to its guard stream).
   */
  private async tryAppend(stream: string, revision: number | null, events: Array<{ type: string; tradeRef: string }>, context: CommandContext, guard?: StreamGuard): Promise<number | null> {
    const { inputId, traceparent, origin, actor } = context;
    const source = origin ? { source: origin.source, sourceSequence: origin.sourceSequence, file: origin.file, ...(origin.line !== null && { line: origin.line }) } : { source: 'API' as const };
    const data: EventData[] = events.map((event, index) => ({
      id: deterministicId(inputId, stream, event.type, index),
      type: event.type,
      data: event,
      metadata: {
        correlationId: event.tradeRef,
        causationId: inputId,
        ...source,
        ...(traceparent !== undefined && { traceparent }),
        ...(actor !== undefined && { actor }),
        ...(this.affinity && { slot: this.affinity.slot }),
      },
    }));
    try {
      const expected = revision ?? 'no_stream';
      return (await (guard === undefined ? this.store.append(stream, data, expected) : this.store.appendGuarded(stream, data, expected, guard))).position;
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
    let state = initial;
    let ownership = UNOWNED;
    for (const event of events) {
      if (isOwnershipEvent(event.type)) ownership = evolveOwnership(ownership, event.data as OwnershipEvent, event.position);
      else state = evolve(state, event.data as Ev);
    }
    return { state, ownership, revision: events.at(-1)?.revision ?? null, lastPosition: events.at(-1)?.position ?? 0 };
  }
}

function fourEyes(why: FourEyesNeeded['fourEyes'], tradeRef: string, trade: Trade.TradeState): FourEyesNeeded {
  return { fourEyes: why, tradeRef, version: trade.effectiveVersion, account: trade.terms?.account ?? null };
}

function checkExpectedVersion(tradeRef: string, current: number, context: CommandContext): Problem | null {
  if (context.expectedVersions === undefined || context.expectedVersions.includes(String(current))) return null;
  const expected = context.expectedVersions.length > 0 ? context.expectedVersions.join(', ') : 'any version the request named';
  return problem(409, 'version-conflict', 'Version conflict', `trade ${tradeRef} is at version ${current}, not ${expected}`, { currentVersion: current });
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

function alreadyResolved(exceptionId: string): Problem {
  return problem(409, 'exception-resolved', 'Already resolved', `exception ${exceptionId} was already resolved`);
}

function resolutionEvent(stream: string, data: ResolutionEvent, revision: number, tradeRef: string, actor: Actor | undefined): EventData {
  return { id: deterministicId(stream, revision), type: data.type, data, metadata: { correlationId: tradeRef, ...(actor !== undefined && { actor }) } };
}

function defaultSourceOf(type: string): 'CORE' | 'ALLOC' | 'CUSTODY' {
  return type === 'ALC' ? 'ALLOC' : type === 'CNF' ? 'CUSTODY' : 'CORE';
}
