// Reason codes of everything Kepler keeps aside instead of applying.
export const EXCEPTION_CODES = [
  'INVALID_RECORD',
  'SOURCE_MISMATCH',
  'SEQUENCE_CONFLICT',
  'TRAILER_MISMATCH',
  'VERSION_CONFLICT',
  'TRADE_CANCELLED',
  'UNPROCESSABLE_MESSAGE',
] as const;
export type ExceptionCode = (typeof EXCEPTION_CODES)[number];

/** A line Kepler could not take, kept with everything needed to put it right. */
export interface LineRejected {
  type: 'LineRejected';
  code: 'INVALID_RECORD' | 'SOURCE_MISMATCH' | 'SEQUENCE_CONFLICT' | 'UNPROCESSABLE_MESSAGE';
  source: string | null;
  file: string;
  line: number | null;
  tradeRef: string | null;
  detail: string;
  raw: string;
}

/** A file whose trailer is missing or does not match its detail lines. */
export interface TrailerMismatched {
  type: 'TrailerMismatched';
  code: 'TRAILER_MISMATCH';
  source: string | null;
  file: string;
  /** The trailer's line, when the file has one. */
  line: number | null;
  status: 'MISSING' | 'MISMATCH';
  tradeRef: null;
  detail: string;
  raw: string;
}

export type IntakeException = LineRejected | TrailerMismatched;

/** Recorded once per (file name, line number, reason code): the stream name is derived from them. */
export const REJECTION_STREAM_PREFIX = 'rejection-';

/** An exception put right: the original stays in the history, marked resolved. */
export interface ExceptionResolved {
  type: 'ExceptionResolved';
  exceptionId: string;
  resolution: 'RESUBMITTED';
  /** The corrected line that replaced the rejected one. */
  correctedLine: string;
  tradeRef: string | null;
}

/**
 * A resubmission holds its exception while the corrected line goes in, so that a
 * second one with another line is refused meanwhile instead of ingesting it too.
 * A retry with the same line carries on from where the first stopped.
 */
export interface ResubmissionStarted {
  type: 'ResubmissionStarted';
  exceptionId: string;
  correctedLine: string;
  tradeRef: string | null;
}

/** The corrected line was refused (its source sequence holds other content): the exception is open again. */
export interface ResubmissionRefused {
  type: 'ResubmissionRefused';
  exceptionId: string;
  correctedLine: string;
  reason: string;
}

export type ResolutionEvent = ResubmissionStarted | ResubmissionRefused | ExceptionResolved;

/** One stream per exception: what was done to put it right, in order. */
export const RESOLUTION_STREAM_PREFIX = 'resolution-';
