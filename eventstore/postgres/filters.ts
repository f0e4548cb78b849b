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
