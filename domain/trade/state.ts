import type { RecordOrigin, TradeTerms, VersionRecord } from '../records.js';
import type { TradeRef } from '../values.js';
import type { TradeEvent } from './events.js';

/**
 * The first content received for a version number; later ones are compared against it (fingerprintOf
 * both, when one comes: not when it is remembered, which every version and every capture is, and a
 * repeat seldom follows).
 */
export interface ReceivedVersion {
  record: VersionRecord;
  origin: RecordOrigin;
}

export interface TradeState {
  tradeRef: TradeRef | null;
  /** Every version number received so far, with the content that stands. */
  versions: ReadonlyMap<number, ReceivedVersion>;
  /** Highest k such that versions 1..k have all applied; 0 before version 1. */
  effectiveVersion: number;
  /** Versions waiting beyond a gap. */
  pendingVersions: ReadonlySet<number>;
  /** The version of the cancellation, once the effective version reaches it. */
  cancelledAtVersion: number | null;
  /** Terms of the effective version, or of the last version before the cancellation. */
  terms: TradeTerms | null;
  handledInputs: ReadonlySet<string>;
}

export const initialTradeState: TradeState = {
  tradeRef: null,
  versions: new Map(),
  effectiveVersion: 0,
  pendingVersions: new Set(),
  cancelledAtVersion: null,
  terms: null,
  handledInputs: new Set(),
};

/** What "the same content" means for a repeated version: record type and every field after the trade reference. */
export function fingerprintOf(record: VersionRecord): string {
  return record.type === 'CXL'
    ? JSON.stringify([record.type, record.version, record.reason])
    : JSON.stringify([record.type, record.version, termsInFixedOrder(record.terms)]);
}

function termsInFixedOrder(terms: TradeTerms): unknown[] {
  return [terms.account, terms.isin, terms.side, terms.quantity, terms.price, terms.currency, terms.tradeDate, terms.settleDate, terms.counterparty];
}

/**
 * The state after the event: each case says what the event changes, and the new state is one
 * literal naming every field (a spread copy, `{ ...state, terms }`, keeps four fields in the object
 * and the rest in an array beside it, and costs a copy of each).
 */
export function evolve(state: TradeState, event: TradeEvent): TradeState {
  let { versions, effectiveVersion, pendingVersions, cancelledAtVersion, terms } = state;
  switch (event.type) {
    case 'VersionPending':
      versions = remember(versions, event.record, event.origin);
      pendingVersions = new Set(pendingVersions).add(event.version);
      break;
    case 'VersionApplied':
      versions = remember(versions, { type: event.recordType, tradeRef: event.tradeRef, version: event.version, terms: event.terms } as VersionRecord, event.origin);
      pendingVersions = without(pendingVersions, event.version);
      effectiveVersion = event.version;
      terms = event.terms;
      break;
    case 'TradeCancelled':
      versions = remember(versions, { type: 'CXL', tradeRef: event.tradeRef, version: event.version, reason: event.reason }, event.origin);
      pendingVersions = without(pendingVersions, event.version);
      effectiveVersion = event.version;
      cancelledAtVersion = event.version;
      break;
    case 'VersionConflictDetected':
      break;
    case 'VersionRejectedAfterCancellation':
      versions = remember(versions, event.record, event.origin);
      pendingVersions = without(pendingVersions, event.version);
      break;
  }
  const handledInputs = new Set(state.handledInputs).add(event.inputId);
  return { tradeRef: event.tradeRef, versions, effectiveVersion, pendingVersions, cancelledAtVersion, terms, handledInputs };
}

/**
 * The effective version once `events` have applied, as evolve would reach it, without building the
 * state: a command answers with the version alone, and evolving again costs a fingerprint per version.
 */
export function effectiveVersionAfter(state: TradeState, events: readonly TradeEvent[]): number {
  let version = state.effectiveVersion;
  for (const event of events) if (event.type === 'VersionApplied' || event.type === 'TradeCancelled') version = event.version;
  return version;
}

function remember(
  versions: ReadonlyMap<number, ReceivedVersion>,
  record: VersionRecord,
  origin: RecordOrigin,
): ReadonlyMap<number, ReceivedVersion> {
  if (versions.has(record.version)) return versions;
  return new Map(versions).set(record.version, { record, origin });
}

function without(set: ReadonlySet<number>, value: number): ReadonlySet<number> {
  if (!set.has(value)) return set;
  const next = new Set(set);
  next.delete(value);
  return next;
}
