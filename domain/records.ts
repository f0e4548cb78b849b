// What a source system said about a trade: one CX1 detail record (or the
// equivalent API command), already validated and in canonical values.
import type { ConfirmationStatus, FeedSource, IsoDate, Price, Side, Source, TradeRef } from './values.js';

/** The economic terms a TRD or AMD carries: the whole trade as of that version. */
export interface TradeTerms {
  account: string;
  isin: string;
  side: Side;
  quantity: number;
  price: Price;
  currency: string;
  tradeDate: IsoDate;
  settleDate: IsoDate;
  counterparty: string;
}

export interface NewTradeRecord {
  type: 'TRD';
  tradeRef: TradeRef;
  version: 1;
  terms: TradeTerms;
}

export interface AmendmentRecord {
  type: 'AMD';
  tradeRef: TradeRef;
  version: number;
  terms: TradeTerms;
}

export interface CancellationRecord {
  type: 'CXL';
  tradeRef: TradeRef;
  version: number;
  reason: string;
}

export interface AllocationRecord {
  type: 'ALC';
  tradeRef: TradeRef;
  allocationId: string;
  account: string;
  /** 0 withdraws the allocation. */
  quantity: number;
}

export interface ConfirmationRecord {
  type: 'CNF';
  tradeRef: TradeRef;
  status: ConfirmationStatus;
  quantity: number;
  /** May be "0". */
  price: Price;
  reason: string;
}

export type VersionRecord = NewTradeRecord | AmendmentRecord | CancellationRecord;
export type DetailRecord = VersionRecord | AllocationRecord | ConfirmationRecord;
export type DetailRecordType = DetailRecord['type'];

/** Which record types each source may send. API may send all of them. */
export const RECORD_TYPES_BY_SOURCE: Record<Source, readonly DetailRecordType[]> = {
  CORE: ['TRD', 'AMD', 'CXL'],
  ALLOC: ['ALC'],
  CUSTODY: ['CNF'],
  API: ['TRD', 'AMD', 'CXL', 'ALC', 'CNF'],
};

export interface FileHeader {
  source: FeedSource;
  businessDate: IsoDate;
  fileNumber: string;
}

export interface FileTrailer {
  recordCount: number;
  /** Sum of quantities; may exceed 2^53 in theory, so a bigint. */
  controlTotal: bigint;
}

/** Where a record came from: enough to find the raw line again. */
export interface RecordOrigin {
  source: Source;
  sourceSequence: number;
  file?: string;
  line?: number;
  raw?: string;
}
