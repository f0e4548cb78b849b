import { FEED_SOURCES, RECEIVED_EVENT_TYPE, REJECTION_STREAM_PREFIX, type LineRejected } from '../domain/index.js';
import type { RecordedEvent } from '../eventstore/index.js';
import type { Projected, ProjectionDefinition } from './projection.js';

/**
 * How many lines the feed brought, per source and outcome (and reason, for a
 * rejected line): what `kepler_feed_records_total` reports. Counting them at
 * scrape time would read the whole history; a read model keeps the totals as
 * the events arrive, so every process reads the same few documents.
 *
 * Accepted lines are the received records of the feed's sources (a corrected line
 * resubmitted for a rejected one included: it took the feed's path); rejected lines
 * are the LineRejected events. A duplicate appends nothing, so it cannot be counted
 * here: processes count the duplicates they saw themselves.
 */
export interface FeedRecordCount extends Projected {
  source: string;
  outcome: 'accepted' | 'rejected';
  /** The reason code of a rejected line; empty for accepted ones. */
  reason: string;
  count: number;
}

const FEED_STREAM_PREFIXES = FEED_SOURCES.map((source) => `${source.toLowerCase()}-`);

export const feedProjection: ProjectionDefinition<FeedRecordCount> = {
  name: 'feed',
  indexes: [],
  // The types too, though the streams say it all: the feed's streams hold only received records (intake
  // appends nothing else there), and of a rejection stream only LineRejected is counted. Named, they let
  // the projections thread's one read of the store (fan-out.ts) ask SQLite for the union of everyone's
  // types, so an event no projection wants (TradeVersionNoted, a tenth of the store) is never decoded.
  // A received record is counted from its stream (see countedAs), so its data, the largest of the store's events, is
  // not read: the store may leave it undecoded (withoutData), no other projection following these types.
  // Nor is any event's metadata (the key is the source, the outcome and the reason): the store may leave it
  // undecoded too (withoutMetadata), for the types no other projection that follows them says the same of
  // (the fan-out judges: the received records', the feed's alone, two fifths of the events read).
  filter: {
    eventTypes: [...Object.values(RECEIVED_EVENT_TYPE), 'LineRejected'],
    streamPrefixes: [...FEED_STREAM_PREFIXES, REJECTION_STREAM_PREFIX],
    withoutData: Object.values(RECEIVED_EVENT_TYPE),
    withoutMetadata: [...Object.values(RECEIVED_EVENT_TYPE), 'LineRejected'],
  },
  keysOf: (event) => {
    if (event.type !== 'LineRejected') {
      // A received record (or a trailer mismatch: none): its source's key, the same array every time.
      const source = event.stream.startsWith(REJECTION_STREAM_PREFIX) ? -1 : sourceIndexOfStream(event.stream);
      return source < 0 ? [] : ACCEPTED_KEYS[source]!;
    }
    const counted = countedAs(event)!;
    return [feedCountKey(counted.source, counted.outcome, counted.reason)];
  },
  stampsAsOf: true,
  apply(doc, event) {
    const { source, outcome, reason } = countedAs(event)!;
    // A literal, not { ...counted, count }, with asOf last, as the runner would stamp it: once per line of the feed.
    return { source, outcome, reason, count: (doc?.count ?? 0) + 1, asOf: event.position };
  },
};

function countedAs(event: RecordedEvent): Omit<FeedRecordCount, 'count' | 'asOf'> | null {
  if (event.type === 'LineRejected') {
    const data = event.data as LineRejected;
    return { source: data.source ?? 'UNKNOWN', outcome: 'rejected', reason: data.code };
  }
  if (event.stream.startsWith(REJECTION_STREAM_PREFIX)) return null; // a trailer mismatch: a file, not a line
  // A received record's stream is named by its source (receivedStream), and the filter's prefixes let only the
  // feed's streams through; its data, which may come as null (withoutData), is not read.
  const source = sourceOfStream(event.stream);
  return source === null ? null : { source, outcome: 'accepted', reason: '' };
}

/** The feed source whose received records a stream holds, by its prefix; null for any other stream. */
function sourceOfStream(stream: string): string | null {
  const source = sourceIndexOfStream(stream);
  return source < 0 ? null : FEED_SOURCES[source]!;
}

/** Which of FEED_SOURCES a stream's received records come from, by its prefix; -1 for any other stream. */
function sourceIndexOfStream(stream: string): number {
  for (let i = 0; i < FEED_STREAM_PREFIXES.length; i++) if (stream.startsWith(FEED_STREAM_PREFIXES[i]!)) return i;
  return -1;
}

export function feedCountKey(source: string, outcome: string, reason: string): string {
  return `${source}|${outcome}|${reason}`;
}

/**
 * Each source's key of accepted lines, as keysOf gives it: made once, not a string and an array per line
 * of the feed (the runner only reads what keysOf returns).
 */
const ACCEPTED_KEYS: ReadonlyArray<readonly string[]> = FEED_SOURCES.map((source) => [feedCountKey(source, 'accepted', '')]);
