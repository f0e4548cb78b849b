import type { CancellationRecord, RecordOrigin, TradeTerms, VersionRecord } from '../records.js';
import type { TradeRef } from '../values.js';

/** Common to every trade event: which received record (input) led to it. */
interface TradeEventBase {
  tradeRef: TradeRef;
  /** Id of the received-record event this decision answered; makes redelivery a no-op. */
  inputId: string;
}

/** A version arrived beyond a gap and waits for the versions before it. */
export interface VersionPending extends TradeEventBase {
  type: 'VersionPending';
  version: number;
  record: VersionRecord;
  origin: RecordOrigin;
}

/** The trade's effective version moved to this TRD or AMD. */
export interface VersionApplied extends TradeEventBase {
  type: 'VersionApplied';
  version: number;
  recordType: 'TRD' | 'AMD';
  terms: TradeTerms;
  origin: RecordOrigin;
  /**
   * The effective version the whole decision reached. When a gap closes, several
   * versions apply at once; only the last was ever the trade's effective version,
   * so followers such as booking act on that one alone.
   */
  reachedVersion: number;
}

/** The effective version reached a cancellation. */
export interface TradeCancelled extends TradeEventBase {
  type: 'TradeCancelled';
  version: number;
  reason: string;
  origin: RecordOrigin;
}

/** The same version number arrived again with different content; the first one stands. */
export interface VersionConflictDetected extends TradeEventBase {
  type: 'VersionConflictDetected';
  version: number;
  detail: string;
  origin: RecordOrigin;
}

/** A version beyond the cancellation: it never applies. */
export interface VersionRejectedAfterCancellation extends TradeEventBase {
  type: 'VersionRejectedAfterCancellation';
  version: number;
  cancelledAtVersion: number;
  record: VersionRecord;
  origin: RecordOrigin;
}

export type TradeEvent =
  | VersionPending
  | VersionApplied
  | TradeCancelled
  | VersionConflictDetected
  | VersionRejectedAfterCancellation;

export const TRADE_EVENT_TYPES: readonly TradeEvent['type'][] = [
  'VersionPending',
  'VersionApplied',
  'TradeCancelled',
  'VersionConflictDetected',
  'VersionRejectedAfterCancellation',
];

export function tradeStream(tradeRef: TradeRef): string {
  return `trade-${tradeRef}`;
}

export type { CancellationRecord };
