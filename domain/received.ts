// Events that record what a source system said, exactly once per
// (source, source sequence). They are facts about the outside world: Kepler
// never refuses them, it only decides what they mean for the trade.
import type { AllocationRecord, ConfirmationRecord, DetailRecord, RecordOrigin, VersionRecord } from './records.js';
import type { Source } from './values.js';

export const RECEIVED_EVENT_TYPE = {
  TRD: 'NewTradeReceived',
  AMD: 'AmendmentReceived',
  CXL: 'CancellationReceived',
  ALC: 'AllocationReceived',
  CNF: 'ConfirmationReceived',
} as const satisfies Record<DetailRecord['type'], string>;

export type ReceivedEventType = (typeof RECEIVED_EVENT_TYPE)[keyof typeof RECEIVED_EVENT_TYPE];
export const VERSION_RECEIVED_TYPES: readonly ReceivedEventType[] = ['NewTradeReceived', 'AmendmentReceived', 'CancellationReceived'];

export interface RecordReceived<R extends DetailRecord = DetailRecord> {
  record: R;
  origin: RecordOrigin;
}
export type VersionReceived = RecordReceived<VersionRecord>;
export type AllocationReceived = RecordReceived<AllocationRecord>;
export type ConfirmationReceived = RecordReceived<ConfirmationRecord>;

/** One stream per (source, source sequence): the store itself then guarantees a sequence is taken once. */
export function receivedStream(source: Source, sourceSequence: number): string {
  return `${STREAM_PREFIX[source] ?? `${source.toLowerCase()}-`}${sourceSequence}`;
}

/** Each source's stream prefix, looked up rather than lower-cased at every record of a feed. */
const STREAM_PREFIX: Readonly<Record<string, string>> = { CORE: 'core-', ALLOC: 'alloc-', CUSTODY: 'custody-', API: 'api-' };

export const RECEIVED_STREAM_PREFIXES = ['core-', 'alloc-', 'custody-', 'api-'] as const;
