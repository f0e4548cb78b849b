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

export function evolve(state: TradeState, event: TradeEvent): TradeState {
  const handledInputs = new Set(state.handledInputs).add(event.inputId);
  const base = { ...state, tradeRef: event.tradeRef, handledInputs };
  switch (event.type) {
    case 'VersionPending':
      return {
        ...base,
        versions: remember(state.versions, event.record, event.origin),
        pendingVersions: new Set(state.pendingVersions).add(event.version),
      };
    case 'VersionApplied':
      return {
        ...base,
        versions: remember(state.versions, { type: event.recordType, tradeRef: event.tradeRef, version: event.version, terms: event.terms } as VersionRecord, event.origin),
        pendingVersions: without(state.pendingVersions, event.version),
        effectiveVersion: event.version,
        terms: event.terms,
      };
    case 'TradeCancelled':
      return {
        ...base,
        versions: remember(state.versions, { type: 'CXL', tradeRef: event.tradeRef, version: event.version, reason: event.reason }, event.origin),
        pendingVersions: without(state.pendingVersions, event.version),
        effectiveVersion: event.version,
        cancelledAtVersion: event.version,
      };
    case 'VersionConflictDetected':
      return base;
    case 'VersionRejectedAfterCancellation':
      return {
        ...base,
        versions: remember(state.versions, event.record, event.origin),
        pendingVersions: without(state.pendingVersions, event.version),
      };
  }
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
