import * as E from 'fp-ts/lib/Either.js';
import type { RecordOrigin, TradeTerms, VersionRecord } from '../records.js';
import type { TradeRef } from '../values.js';
import type { TradeEvent, VersionApplied } from './events.js';
import { evolve, fingerprintOf, type TradeState } from './state.js';

/** A source said: here is version N of trade R. Sources are facts, so this command is never refused. */
export interface ReceiveVersion {
  type: 'ReceiveVersion';
  inputId: string;
  record: VersionRecord;
  origin: RecordOrigin;
}

/**
 * Commands from a person or a modern system (the API). Unlike a feed record they
 * do not name a version: the trade's next version is theirs, and they can be refused.
 */
export interface CaptureTrade {
  type: 'CaptureTrade';
  inputId: string;
  tradeRef: TradeRef;
  terms: TradeTerms;
  origin: RecordOrigin;
}

export interface AmendTrade {
  type: 'AmendTrade';
  inputId: string;
  tradeRef: TradeRef;
  terms: TradeTerms;
  origin: RecordOrigin;
}

export interface CancelTrade {
  type: 'CancelTrade';
  inputId: string;
  tradeRef: TradeRef;
  reason: string;
  origin: RecordOrigin;
}

export type TradeCommand = ReceiveVersion | CaptureTrade | AmendTrade | CancelTrade;

export interface TradeDecisionError {
  code: 'WRONG_TRADE' | 'TRADE_EXISTS' | 'TRADE_NOT_FOUND' | 'TRADE_CANCELLED';
  message: string;
}

export function decide(command: TradeCommand, state: TradeState): E.Either<TradeDecisionError, TradeEvent[]> {
  if (command.type === 'ReceiveVersion') return receive(command, state);
  // A command already handled is answered again, not refused: that is what makes a retry safe.
  if (state.handledInputs.has(command.inputId)) return E.right([]);
  const { tradeRef, inputId, origin } = command;
  switch (command.type) {
    case 'CaptureTrade':
      if (state.versions.has(1)) return E.left({ code: 'TRADE_EXISTS', message: `trade ${tradeRef} already exists` });
      return receive({ type: 'ReceiveVersion', inputId, origin, record: { type: 'TRD', tradeRef, version: 1, terms: command.terms } }, state);
    case 'AmendTrade':
    case 'CancelTrade': {
      if (state.effectiveVersion === 0) return E.left({ code: 'TRADE_NOT_FOUND', message: `trade ${tradeRef} has no version 1` });
      if (state.cancelledAtVersion !== null) {
        return E.left({ code: 'TRADE_CANCELLED', message: `trade ${tradeRef} was cancelled at version ${state.cancelledAtVersion}` });
      }
      const version = state.effectiveVersion + 1;
      const record: VersionRecord =
        command.type === 'AmendTrade'
          ? { type: 'AMD', tradeRef, version, terms: command.terms }
          : { type: 'CXL', tradeRef, version, reason: command.reason };
      return receive({ type: 'ReceiveVersion', inputId, origin, record }, state);
    }
  }
}

function receive(command: ReceiveVersion, state: TradeState): E.Either<TradeDecisionError, TradeEvent[]> {
  const { record, origin, inputId } = command;
  if (state.tradeRef !== null && state.tradeRef !== record.tradeRef) {
    return E.left({ code: 'WRONG_TRADE', message: `record for ${record.tradeRef} sent to trade ${state.tradeRef}` });
  }
  if (state.handledInputs.has(inputId)) return E.right([]);
  const { tradeRef } = record;

  const standing = state.versions.get(record.version);
  if (standing) {
    if (fingerprintOf(standing.record) === fingerprintOf(record)) return E.right([]);
    return E.right([
      {
        tradeRef,
        inputId,
        type: 'VersionConflictDetected',
        version: record.version,
        detail: `version ${record.version} already received with different content (${describe(standing.record)}); the first one stands`,
        origin,
      },
    ]);
  }

  if (state.cancelledAtVersion !== null) {
    return E.right([
      { tradeRef, inputId, type: 'VersionRejectedAfterCancellation', version: record.version, cancelledAtVersion: state.cancelledAtVersion, record, origin },
    ]);
  }

  if (record.version > state.effectiveVersion + 1) {
    return E.right([{ tradeRef, inputId, type: 'VersionPending', version: record.version, record, origin }]);
  }

  return E.right(applyInOrder(state, record, origin, inputId));
}

/** True for a version applied on the way to a later one within the same decision. */
export function isIntermediate(event: VersionApplied): boolean {
  return event.version < event.reachedVersion;
}

/** Applies the arriving version, then every waiting version the gap closure releases. */
function applyInOrder(state: TradeState, record: VersionRecord, origin: RecordOrigin, inputId: string): TradeEvent[] {
  // Nothing waits beyond a gap (every capture, and almost every version a feed sends in order): the
  // version alone applies and reaches itself, as applicationOf says. Evolving the state to look for
  // what it releases copied the versions, the handled inputs and the event, for nothing.
  if (state.pendingVersions.size === 0) return [applicationOf(record, origin, inputId)];
  const events: TradeEvent[] = [];
  const emit = (event: TradeEvent) => {
    events.push(event);
    state = evolve(state, event);
  };
  emit(applicationOf(record, origin, inputId));
  while (state.cancelledAtVersion === null && state.pendingVersions.has(state.effectiveVersion + 1)) {
    const next = state.versions.get(state.effectiveVersion + 1)!;
    emit(applicationOf(next.record, next.origin, inputId));
  }
  if (state.cancelledAtVersion !== null) {
    for (const version of [...state.pendingVersions].sort((a, b) => a - b)) {
      const waiting = state.versions.get(version)!;
      emit({
        type: 'VersionRejectedAfterCancellation',
        tradeRef: record.tradeRef,
        inputId,
        version,
        cancelledAtVersion: state.cancelledAtVersion,
        record: waiting.record,
        origin: waiting.origin,
      });
    }
  }
  const reachedVersion = state.effectiveVersion;
  return events.map((event) => (event.type === 'VersionApplied' ? { ...event, reachedVersion } : event));
}

// Literals, not { ...base, type, … }: on Node 20's V8 a literal that opens with a spread and then adds
// properties the spread lacked builds a new hidden class each time (measured: 4 µs an event against
// 0.06 µs; a capture's decision went from 19 µs to 3 µs). The fields keep their order, so the stored
// JSON is the same.
function applicationOf(record: VersionRecord, origin: RecordOrigin, inputId: string): TradeEvent {
  const { tradeRef, version } = record;
  return record.type === 'CXL'
    ? { tradeRef, inputId, version, origin, type: 'TradeCancelled', reason: record.reason }
    : { tradeRef, inputId, version, origin, type: 'VersionApplied', recordType: record.type, terms: record.terms, reachedVersion: version };
}

function describe(record: VersionRecord): string {
  return record.type === 'CXL'
    ? `CXL reason "${record.reason}"`
    : `${record.type} ${record.terms.side} ${record.terms.quantity} ${record.terms.isin} @ ${record.terms.price} ${record.terms.currency}`;
}
