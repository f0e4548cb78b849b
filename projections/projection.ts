import type { EventFilter, RecordedEvent } from '../eventstore/index.js';

/** Every read-model document records the global position it reflects. */
export interface Projected {
  asOf: number;
}

/**
 * A read model defined as pure functions: which documents an event touches, and
 * what each becomes. The runner handles loading, batching, idempotency and checkpoints.
 */
export interface ProjectionDefinition<Doc extends Projected> {
  /** Logical name; the physical collection adds a generation suffix so a rebuild can run beside the live one. */
  name: string;
  /**
   * Raise it when the read model must be rebuilt although its functions did not
   * change (a helper they call did). 1 when absent. Release candidates record it.
   */
  version?: number;
  indexes: readonly string[];
  filter: EventFilter;
  keysOf(event: RecordedEvent): readonly string[];
  /**
   * Counts of the documents by a field's value that the runner keeps as the
   * documents change (projections/counts.ts), for readers that would otherwise
   * count the whole collection each time (the metrics gauges). A generation
   * that keeps none is counted once when its runner starts; adding a count to
   * one that keeps others needs a rebuild (raise `version`): the runner refuses
   * to start otherwise.
   */
  counted?: readonly CountedField[];
  /** The document after the event; null when the event leaves nothing to show. */
  apply(doc: Doc | null, event: RecordedEvent, key: string): Omit<Doc, 'asOf'> | null;
  /**
   * True when `apply` returns an object of its own, made for this event and shared with nothing, that
   * holds `asOf` already: the event's position, in its place (kept from the document it copied, else
   * last). The runner keeps such a document as it is; otherwise it copies what `apply` returned to add
   * `asOf`, a second copy of every document at every event (runner.ts, stamped).
   */
  stampsAsOf?: boolean;
}

export type AnyProjection = ProjectionDefinition<Projected & Record<string, unknown>>;

/** Documents counted per value of `field`, among those whose fields equal `where`'s; `name` names the count. */
export interface CountedField {
  name: string;
  field: string;
  /** Equality only (no lists), so the runner can judge a document as countBy does. */
  where?: Readonly<Record<string, string | number | boolean | null>>;
}
