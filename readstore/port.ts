// The read-model store port: a small document store with position-guarded writes.
// Adapters: SQLite (embedded default) and MongoDB. Both pass contract.ts.

export type Document = Record<string, unknown>;

/** Equality on top-level fields; a list means "any of". */
export type Where = Record<string, string | number | boolean | null | readonly (string | number)[]>;

export interface FindQuery {
  where?: Where;
  /** Results are ordered by id ascending; only ids greater than this are returned. */
  afterId?: string;
  limit?: number;
}

/**
 * Writes carry the global position of the event they reflect. A write whose
 * position is not greater than the position already stored for that document is
 * ignored, so replaying a batch is harmless even without transactions.
 */
export type DocumentWrite =
  | {
      kind: 'put';
      collection: string;
      id: string;
      doc: Document;
      position: number;
      /**
       * What the writer read of this document from the store before changing it, its indexed fields at
       * least (null: none stored), when it knows: an adapter may use it to write less (SQLite leaves the
       * indexes of unchanged fields alone), never in place of what the store holds.
       */
      before?: Document | null;
    }
  | { kind: 'delete'; collection: string; id: string; position: number };

export interface ReadStore {
  /** Creates the collection and the single-field indexes queries need; idempotent. */
  ensureCollection(collection: string, indexedFields: readonly string[]): Promise<void>;
  dropCollection(collection: string): Promise<void>;

  get(collection: string, id: string): Promise<Document | null>;
  /**
   * The document as JSON text, for a reader that passes it on rather than looks
   * inside (a query answering it): an adapter that keeps documents as JSON text
   * offers it, and spares that reader a parse and a serialisation.
   */
  getJson?(collection: string, id: string): Promise<string | null>;
  /**
   * `getJson` answered at once, for an adapter whose reads do not wait (SQLite, in-process): a
   * query can then answer in the turn its request arrived in, without a promise per step.
   */
  getJsonNow?(collection: string, id: string): string | null;
  getMany(collection: string, ids: readonly string[]): Promise<Map<string, Document>>;
  /**
   * The next read sees every commit made before this call. An adapter whose reads
   * share a snapshot for a while (SQLite: the reads of one event-loop turn) ends it
   * here; a reader that learned of a commit otherwise than by reading it through
   * this store (read-your-writes, once the read model reached a position) calls it
   * before reading what that commit wrote.
   */
  renewSnapshot?(): void;
  find(collection: string, query: FindQuery): Promise<Array<{ id: string; doc: Document }>>;
  /** Number of documents per distinct value of a field. */
  countBy(collection: string, field: string, where?: Where): Promise<Record<string, number>>;

  /**
   * Applies the writes, then stores the named checkpoints. On an adapter with
   * transactions this is atomic; elsewhere the position guard makes a retry safe,
   * and the collections are written one after another in the order `writes`
   * first names them, so a crash never leaves a later collection's writes
   * without an earlier one's (the projections' counts rely on it: projections/counts.ts).
   */
  write(writes: readonly DocumentWrite[], checkpoints?: ReadonlyArray<{ name: string; position: number }>): Promise<void>;

  readCheckpoint(name: string): Promise<number | null>;
  deleteCheckpoint(name: string): Promise<void>;

  /** Small key/value settings: which generation of a read model is live, for instance. */
  getSetting(key: string): Promise<string | null>;
  setSetting(key: string, value: string): Promise<void>;

  close(): Promise<void>;
}
