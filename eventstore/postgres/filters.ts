// The port's EventFilter as a WHERE clause over kepler_events, evaluated by the server.
import type { EventFilter } from '../port.js';

export interface SqlFilter {
  /** ' AND ...' conditions, with placeholders numbered from the first free one. */
  clause: string;
  params: unknown[];
}

/**
 * Types match exactly; stream prefixes with starts_with, so that `_` and `%`
 * in a prefix are plain characters. An empty list matches nothing, as in the
 * other adapters.
 */
export function sqlFilter(filter: EventFilter | undefined, firstParameter: number): SqlFilter {
  let clause = '';
  const params: unknown[] = [];
  const next = () => `$${firstParameter + params.length}`;
  if (filter?.eventTypes) {
    clause += ` AND type = ANY (${next()}::text[])`;
    params.push([...filter.eventTypes]);
  }
  if (filter?.streamPrefixes) {
    clause += ` AND EXISTS (SELECT 1 FROM unnest(${next()}::text[]) AS prefix WHERE starts_with(stream, prefix))`;
    params.push([...filter.streamPrefixes]);
  }
  return { clause, params };
}

/**
 * The columns readAll selects: EVENT_COLUMNS, with the data and the metadata of the types the filter reads
 * withoutData and withoutMetadata left on the server (NULL in their place, which toRecordedEvent hands as
 * null and UNREAD_METADATA): the driver parses json columns as they arrive, on the follower's thread.
 * Their parameters numbered from `firstParameter`.
 */
export function sqlColumns(filter: EventFilter | undefined, firstParameter: number): SqlFilter {
  const params: unknown[] = [];
  const column = (name: 'data' | 'metadata', types: readonly string[] | undefined) => {
    if (types === undefined || types.length === 0) return name;
    params.push([...types]);
    return `CASE WHEN type = ANY ($${firstParameter + params.length - 1}::text[]) THEN NULL ELSE ${name} END AS ${name}`;
  };
  const data = column('data', filter?.withoutData);
  const metadata = column('metadata', filter?.withoutMetadata);
  return { clause: `position, stream, revision, id, type, ${data}, ${metadata}, recorded_at`, params };
}
