// Kepler's EventFilter as an EventStoreDB server-side filter (one field only)
// plus the exact check applied client-side.
import { eventTypeFilter, streamNameFilter } from '@eventstore/db-client';
import type { Filter } from '@eventstore/db-client';
import type { EventFilter } from '../port.js';
import { CHECKPOINT_STREAM_PREFIX, toEsdbStreamPrefixes } from './mapping.js';

/** Escapes a literal for a regular expression that both .NET (server) and JS read the same way. */
export function escapeRegex(literal: string): string {
  return literal.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

export type ServerFilterSpec =
  | { on: 'streamName'; prefixes: string[] }
  | { on: 'streamName'; regex: string }
  | { on: 'eventType'; regex: string };

export interface FilterPlan {
  /** What the server filters on (one field only: EventStoreDB filters on stream name or event type). */
  server: ServerFilterSpec;
  /** The exact Kepler filter, applied client-side to the (unescaped) stream name and type. */
  matches(stream: string, type: string): boolean;
}

/** Hides `$…` and `kepler_checkpoint-…` streams server-side when nothing narrower applies. */
export const VISIBLE_STREAMS_REGEX = `^(?!\\$|${escapeRegex(CHECKPOINT_STREAM_PREFIX)})`;
/** A regex that matches nothing: the server skips every event but still sends checkpoints. */
export const MATCH_NOTHING_REGEX = '^(?!)';

export function planFilter(filter?: EventFilter): FilterPlan {
  const types = filter?.eventTypes ? new Set(filter.eventTypes) : null;
  const prefixes = filter?.streamPrefixes ? [...filter.streamPrefixes] : null;
  const matches = (stream: string, type: string): boolean =>
    (types === null || types.has(type)) && (prefixes === null || prefixes.some((p) => stream.startsWith(p)));

  let server: ServerFilterSpec;
  if ((types !== null && types.size === 0) || (prefixes !== null && prefixes.length === 0)) {
    server = { on: 'streamName', regex: MATCH_NOTHING_REGEX };
  } else if (prefixes !== null) {
    // Prefixes are cheap server-side; event types, if any, are checked client-side.
    server = { on: 'streamName', prefixes: toEsdbStreamPrefixes(prefixes) };
  } else if (types !== null) {
    // Exact type names: a prefix filter would also let `TradeBookedV2` through for `TradeBooked`.
    server = { on: 'eventType', regex: `^(?:${[...types].map(escapeRegex).join('|')})$` };
  } else {
    server = { on: 'streamName', regex: VISIBLE_STREAMS_REGEX };
  }
  return { server, matches };
}

export function toClientFilter(spec: ServerFilterSpec, checkpointReached: Filter['checkpointReached']): Filter {
  // checkpointInterval multiplies the server's search window (32 events by default):
  // a checkpoint at least every 32 events looked at, matching or not.
  const common = { checkpointInterval: 1, checkpointReached };
  if (spec.on === 'eventType') return eventTypeFilter({ regex: spec.regex, ...common });
  if ('prefixes' in spec) return streamNameFilter({ prefixes: spec.prefixes, ...common });
  return streamNameFilter({ regex: spec.regex, ...common });
}

