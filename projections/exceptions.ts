import type { ExceptionCode, ExceptionResolved, IntakeException, Trade } from '../domain/index.js';
import { REJECTION_STREAM_PREFIX } from '../domain/index.js';
import type { RecordedEvent } from '../eventstore/index.js';
import type { Projected, ProjectionDefinition } from './projection.js';

export interface ExceptionView extends Projected {
  id: string;
  code: ExceptionCode;
  file: string | null;
  line: number | null;
  tradeRef: string | null;
  detail: string;
  raw: string;
  source: string | null;
  resolved: boolean;
  correctedLine: string | null;
}

type DomainException = Trade.VersionConflictDetected | Trade.VersionRejectedAfterCancellation;

export const exceptionsProjection: ProjectionDefinition<ExceptionView> = {
  name: 'exceptions',
  indexes: ['code', 'file', 'tradeRef', 'resolved'],
  // The kepler_exceptions_open gauge, read at every scrape.
  counted: [{ name: 'openByCode', field: 'code', where: { resolved: false } }],
  filter: { eventTypes: ['LineRejected', 'TrailerMismatched', 'VersionConflictDetected', 'VersionRejectedAfterCancellation', 'ExceptionResolved'] },
  keysOf: (event) => [event.type === 'ExceptionResolved' ? (event.data as ExceptionResolved).exceptionId : exceptionIdOf(event)],
  apply(doc, event, id) {
    if (event.type === 'ExceptionResolved') {
      return doc ? { ...doc, resolved: true, correctedLine: (event.data as ExceptionResolved).correctedLine } : null;
    }
    if (doc) return doc;
    if (event.stream.startsWith(REJECTION_STREAM_PREFIX)) {
      const data = event.data as IntakeException;
      return { id, code: data.code, file: data.file, line: data.line, tradeRef: data.tradeRef, detail: data.detail, raw: data.raw, source: data.source, resolved: false, correctedLine: null };
    }
    const data = event.data as DomainException;
    const { origin } = data;
    return {
      id,
      code: data.type === 'VersionConflictDetected' ? 'VERSION_CONFLICT' : 'TRADE_CANCELLED',
      file: origin.file ?? null,
      line: origin.line ?? null,
      tradeRef: data.tradeRef,
      detail:
        data.type === 'VersionConflictDetected'
          ? data.detail
          : `version ${data.version} arrived for a trade cancelled at version ${data.cancelledAtVersion}`,
      raw: origin.raw ?? '',
      source: origin.source,
      resolved: false,
      correctedLine: null,
    };
  },
};

/** Intake exceptions are named by their stream (file, line, code); trade exceptions by their event. */
export function exceptionIdOf(event: RecordedEvent): string {
  return event.stream.startsWith(REJECTION_STREAM_PREFIX) ? event.stream.slice(REJECTION_STREAM_PREFIX.length) : event.id;
}
