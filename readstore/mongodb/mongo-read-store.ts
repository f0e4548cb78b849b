// MongoDB adapter of the read-model store port (readstore/port.ts).
//
// Storage layout (database `dbName`):
//   <collection>   one MongoDB collection per read-model collection. Documents are
//                  stored nested, so no field of a read-model document can clash
//                  with the bookkeeping fields:
//                    live:       { _id: id, _pos: position, doc: { ...document } }
//                    tombstone:  { _id: id, _pos: position, _del: true }
//                  Indexes from ensureCollection are on `doc.<field>`.
//   checkpoints    { _id: name, position }
//   settings       { _id: key, value }
// So `checkpoints` and `settings` cannot be used as read-model collection names.
//
// Writes need no transactions. For each collection in a batch the adapter reads
// the stored positions of the batch's ids, inserts the ids that are absent and
// replaces the others with the guard filter { _id, _pos: { $lt: position } }
// (writes whose stored position is the same or later are dropped). A concurrent
// writer can only make an insert fail with a duplicate-key error (11000) or a
// guarded replace match nothing; either way the adapter re-reads the positions
// and retries what still applies (bounded rounds). Duplicate keys are the only
// errors tolerated, and only as a trigger for that re-check.
// Any other error is thrown.
//
// Concurrency: write() calls on one instance are serialised per collection.
// Across instances/processes the guard relies on the server applying the
// replace's filter and replacement atomically, which MongoDB does. FerretDB v1
// does not (it evaluates the filter, then writes by _id), so two processes
// racing on the same document there can leave the lower position stored.
//
// Deletes leave a tombstone carrying the delete's
// position, so an older put replayed after the delete does not resurrect the
// document; tombstones are invisible to get/getMany/find/countBy and are only
// removed by dropCollection. Collections are written one after another, in the
// order the batch first names them; checkpoints after all document writes
// succeeded, never before.

import {
  MongoBulkWriteError,
  MongoClient,
  MongoServerError,
  type AnyBulkWriteOperation,
  type Collection,
  type Db,
  type Document as MongoDocument,
  type Filter,
  type MongoClientOptions,
} from 'mongodb';

import type { Document, DocumentWrite, FindQuery, ReadStore, Where } from '../port.js';
import { latestWritePerId } from '../writes.js';

/** Shape of a stored read-model record. */
interface StoredDoc {
  _id: string;
  _pos: number;
  doc?: Document;
  _del?: true;
}

interface CheckpointDoc {
  _id: string;
  position: number;
}

interface SettingDoc {
  _id: string;
  value: string;
}

export const CHECKPOINTS_COLLECTION = 'checkpoints';
export const SETTINGS_COLLECTION = 'settings';
const RESERVED = new Set([CHECKPOINTS_COLLECTION, SETTINGS_COLLECTION]);

const DUPLICATE_KEY = 11000;
const NAMESPACE_NOT_FOUND = 26;
const NAMESPACE_EXISTS = 48;
/** Max ids per `$in` query. */
const ID_CHUNK = 1000;
/** Max rounds of "re-read positions, retry the writes that still apply" per collection. */
const MAX_WRITE_ROUNDS = 10;

/** Filter matching live (non-tombstone) records. */
const LIVE: Filter<StoredDoc> = { _del: { $ne: true } };

export interface MongoReadStoreOptions {
  /** Extra driver options (merged over the adapter's defaults). */
  client?: MongoClientOptions;
  /** Connections to the server per client (the driver's maxPoolSize). Default 10. */
  poolSize?: number;
  /**
   * Most update statements sent in one command (one bulkWrite call). Default:
   * 5 on FerretDB (detected with buildInfo), 1000 elsewhere. FerretDB v1 keeps
   * the backend connection of each update statement's query open until the whole
   * command ends, and takes one more to write each matched document; its pool is
   * 100 connections on SQLite and 50 (`pool_max_conns`) on PostgreSQL. Commands
   * whose statements together want more than the pool wait for each other
   * forever, holding every connection. On FerretDB the adapter therefore also
   * sends one update command at a time per client: a client never holds more
   * than maxUpdatesPerCommand + 1 backend connections for its writes.
   */
  maxUpdatesPerCommand?: number;
}

const FERRETDB_MAX_UPDATES_PER_COMMAND = 5;
/** Every operation gives up after this long: a wedged server is an error, not a silent hang. */
const OPERATION_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_UPDATES_PER_COMMAND = 1000;

export class MongoReadStore implements ReadStore {
  private updatesPerCommand: Promise<number> | undefined;
  /** Tail of the chain of update commands while talking to FerretDB (see maxUpdatesPerCommand). */
  private updateCommands: Promise<unknown> = Promise.resolve();
  private onFerretDb = false;
  /** Tail of the queue of guarded writes per collection (see write()). */
  private readonly collectionQueues = new Map<string, Promise<void>>();

  private constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
    private readonly ownsClient: boolean,
    maxUpdatesPerCommand: number | undefined,
  ) {
    if (maxUpdatesPerCommand !== undefined) {
      if (!(Number.isInteger(maxUpdatesPerCommand) && maxUpdatesPerCommand > 0)) {
        throw new RangeError(`maxUpdatesPerCommand must be a positive integer, got ${maxUpdatesPerCommand}`);
      }
      this.updatesPerCommand = Promise.resolve(maxUpdatesPerCommand);
    }
  }

  /** Connects to `uri` and uses database `dbName`. close() closes the connection. */
  static async connect(uri: string, dbName: string, options: MongoReadStoreOptions = {}): Promise<MongoReadStore> {
    const client = new MongoClient(uri, {
      ignoreUndefined: true, // like JSON: undefined properties are dropped, not stored as null
      serverSelectionTimeoutMS: 10_000,
      // Each process and thread has its own client: the server sees their pools added up.
      maxPoolSize: options.poolSize ?? 10,
      timeoutMS: OPERATION_TIMEOUT_MS,
      ...options.client,
    });
    await client.connect();
    return new MongoReadStore(client, client.db(dbName), true, options.maxUpdatesPerCommand);
  }

  /** Uses an already connected client; close() leaves that client open. */
  static fromClient(
    client: MongoClient,
    dbName: string,
    options: Pick<MongoReadStoreOptions, 'maxUpdatesPerCommand'> = {},
  ): MongoReadStore {
    return new MongoReadStore(client, client.db(dbName), false, options.maxUpdatesPerCommand);
  }

  /** The update-statement limit per command, detecting FerretDB once if not configured. */
  private maxUpdatesPerCommand(): Promise<number> {
    this.updatesPerCommand ??= this.db
      .admin()
      .command({ buildInfo: 1 })
      .then(
        (info) => {
          this.onFerretDb = 'ferretdbVersion' in info;
          return this.onFerretDb ? FERRETDB_MAX_UPDATES_PER_COMMAND : DEFAULT_MAX_UPDATES_PER_COMMAND;
        },
        (err: unknown) => {
          this.updatesPerCommand = undefined; // detect again next time
          throw err;
        },
      );
    return this.updatesPerCommand;
  }

  /** bulkWrite in sequential chunks of at most maxUpdatesPerCommand operations. */
  private async chunkedBulkWrite<T extends MongoDocument>(
    col: Collection<T>,
    ops: AnyBulkWriteOperation<T>[],
    ordered: boolean,
  ): Promise<{ matchedCount: number }> {
    const size = await this.maxUpdatesPerCommand();
    let matchedCount = 0;
    for (let i = 0; i < ops.length; i += size) {
      const chunk = ops.slice(i, i + size);
      const r = this.onFerretDb ? await this.oneAtATime(() => col.bulkWrite(chunk, { ordered })) : await col.bulkWrite(chunk, { ordered });
      matchedCount += r.matchedCount + r.upsertedCount;
    }
    return { matchedCount };
  }

  private oneAtATime<T>(command: () => Promise<T>): Promise<T> {
    const run = this.updateCommands.then(command, command);
    this.updateCommands = run.catch(() => undefined);
    return run;
  }

  private records(collection: string): Collection<StoredDoc> {
    if (RESERVED.has(collection)) {
      throw new Error(`"${collection}" is reserved by the MongoDB read store and cannot be a read-model collection`);
    }
    return this.db.collection<StoredDoc>(collection);
  }

  private checkpoints(): Collection<CheckpointDoc> {
    return this.db.collection<CheckpointDoc>(CHECKPOINTS_COLLECTION);
  }

  private settings(): Collection<SettingDoc> {
    return this.db.collection<SettingDoc>(SETTINGS_COLLECTION);
  }

  async ensureCollection(collection: string, indexedFields: readonly string[]): Promise<void> {
    const col = this.records(collection);
    try {
      await this.db.createCollection(collection);
    } catch (err) {
      if (!(err instanceof MongoServerError && err.code === NAMESPACE_EXISTS)) throw err;
    }
    for (const field of new Set(indexedFields)) {
      // Same key and default name every time, so this is a no-op when it exists.
      await col.createIndex({ [docPath(field)]: 1 });
    }
  }

  async dropCollection(collection: string): Promise<void> {
    const col = this.records(collection);
    try {
      await col.drop();
    } catch (err) {
      if (!(err instanceof MongoServerError && err.code === NAMESPACE_NOT_FOUND)) throw err;
    }
  }

  async get(collection: string, id: string): Promise<Document | null> {
    // Filter on _id alone (tombstones are skipped here): FerretDB only pushes
    // a bare { _id } filter down to its backend; MongoDB doesn't mind.
    const found = await this.records(collection).findOne({ _id: id });
    return found && found._del !== true && found.doc ? found.doc : null;
  }

  async getMany(collection: string, ids: readonly string[]): Promise<Map<string, Document>> {
    const result = new Map<string, Document>();
    const unique = [...new Set(ids)];
    const col = this.records(collection);
    for (let i = 0; i < unique.length; i += ID_CHUNK) {
      const chunk = unique.slice(i, i + ID_CHUNK);
      // One batch: no server cursor is left open between batches (FerretDB holds a backend connection for one).
      for await (const rec of col.find({ _id: { $in: chunk }, ...LIVE }, { batchSize: chunk.length })) {
        if (rec.doc) result.set(rec._id, rec.doc);
      }
    }
    return result;
  }

  async find(collection: string, query: FindQuery): Promise<Array<{ id: string; doc: Document }>> {
    if (query.limit !== undefined && query.limit <= 0) return [];
    const filter = whereFilter(query.where);
    if (query.afterId !== undefined) filter._id = { $gt: query.afterId };
    let cursor = this.records(collection).find(filter).sort({ _id: 1 });
    if (query.limit !== undefined) cursor = cursor.limit(Math.floor(query.limit));
    const out: Array<{ id: string; doc: Document }> = [];
    for await (const rec of cursor) {
      if (rec.doc) out.push({ id: rec._id, doc: rec.doc });
    }
    return out;
  }

  async countBy(collection: string, field: string, where?: Where): Promise<Record<string, number>> {
    const groups = this.records(collection).aggregate<{ _id: unknown; n: number }>([
      { $match: whereFilter(where) },
      { $group: { _id: `$${docPath(field)}`, n: { $sum: 1 } } },
    ]);
    const out: Record<string, number> = {};
    for await (const g of groups) {
      const key = g._id === undefined ? 'null' : String(g._id);
      out[key] = (out[key] ?? 0) + g.n;
    }
    return out;
  }

  async write(
    writes: readonly DocumentWrite[],
    checkpoints: ReadonlyArray<{ name: string; position: number }> = [],
  ): Promise<void> {
    // Collection after collection, in the order the batch names them (the port's promise to a
    // writer that keeps a summary of its documents in another collection: the summary first).
    for (const [collection, ids] of latestWritePerId(writes)) {
      await this.serialised(collection, () => this.applyGuarded(collection, [...ids.values()]));
    }

    if (checkpoints.length > 0) {
      await this.chunkedBulkWrite(
        this.checkpoints(),
        checkpoints.map((c) => ({
          updateOne: { filter: { _id: c.name }, update: { $set: { position: c.position } }, upsert: true },
        })),
        true,
      );
    }
  }

  /**
   * Runs `task` after the previous task queued for `collection` has settled.
   * Concurrent write() calls on this instance thus touch a collection one at a
   * time: the guard then holds even on FerretDB v1, whose conditional updates
   * are not atomic (see the header). Separate instances/processes rely on the
   * server's atomic filter+replace, which MongoDB provides.
   */
  private serialised(collection: string, task: () => Promise<void>): Promise<void> {
    const previous = this.collectionQueues.get(collection) ?? Promise.resolve();
    const run = previous.then(task, task);
    const tail = run.catch(() => undefined);
    this.collectionQueues.set(collection, tail);
    void tail.then(() => {
      if (this.collectionQueues.get(collection) === tail) this.collectionQueues.delete(collection);
    });
    return run;
  }

  /**
   * Applies position-guarded writes (at most one per id) to one collection.
   *
   * Each round reads the stored positions of the pending ids, then inserts the
   * records that are absent (a duplicate key means another writer inserted the
   * id meanwhile) and replaces, with the guard { _id, _pos: { $lt: position } },
   * the ones stored at an older position. Writes whose record is at the same or
   * a later position are dropped. If anything fell short (a lost race, or a
   * batch the server stopped early) the next round re-reads and retries what
   * still applies; any error other than a duplicate key is thrown.
   *
   * This is cheaper on FerretDB v1 than replaceOne+upsert, whose upserts of new
   * ids each scan the whole collection there, and is equally safe on MongoDB.
   */
  private async applyGuarded(collection: string, writes: DocumentWrite[]): Promise<void> {
    const col = this.records(collection);
    let pending = writes;
    for (let round = 1; pending.length > 0; round++) {
      if (round > MAX_WRITE_ROUNDS) {
        throw new Error(
          `position-guarded write to "${collection}" did not settle after ${MAX_WRITE_ROUNDS} rounds ` +
            `(${pending.length} writes pending, e.g. id "${pending[0]!.id}")`,
        );
      }
      const stored = await this.storedPositions(col, pending.map((w) => w.id));
      const inserts: StoredDoc[] = [];
      const replaces: AnyBulkWriteOperation<StoredDoc>[] = [];
      const attempted: DocumentWrite[] = [];
      for (const w of pending) {
        const pos = stored.get(w.id);
        if (pos === undefined) inserts.push({ _id: w.id, ...toRecord(w) });
        else if (pos < w.position) replaces.push(toGuardedReplace(w));
        else continue; // already applied or superseded
        attempted.push(w);
      }
      if (attempted.length === 0) return;

      const [inserted, replaced] = await Promise.all([
        inserts.length === 0
          ? true
          : col.insertMany(inserts, { ordered: false }).then(
              (r) => r.insertedCount === inserts.length,
              (err: unknown) => {
                if (isOnlyDuplicateKeys(err)) return false;
                throw err;
              },
            ),
        replaces.length === 0
          ? true
          : this.chunkedBulkWrite(col, replaces, false).then((r) => r.matchedCount === replaces.length),
      ]);
      if (inserted && replaced) return;
      pending = attempted;
    }
  }

  private async storedPositions(col: Collection<StoredDoc>, ids: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (let i = 0; i < ids.length; i += ID_CHUNK) {
      const chunk = ids.slice(i, i + ID_CHUNK);
      for await (const rec of col.find({ _id: { $in: chunk } }, { projection: { _pos: 1 }, batchSize: chunk.length })) {
        out.set(rec._id, rec._pos);
      }
    }
    return out;
  }

  async readCheckpoint(name: string): Promise<number | null> {
    const found = await this.checkpoints().findOne({ _id: name });
    return found ? found.position : null;
  }

  async deleteCheckpoint(name: string): Promise<void> {
    await this.checkpoints().deleteOne({ _id: name });
  }

  async getSetting(key: string): Promise<string | null> {
    const found = await this.settings().findOne({ _id: key });
    return found ? found.value : null;
  }

  async setSetting(key: string, value: string): Promise<void> {
    await this.settings().updateOne({ _id: key }, { $set: { value } }, { upsert: true });
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.client.close();
  }
}

function docPath(field: string): string {
  return `doc.${field}`;
}

function whereFilter(where: Where | undefined): Filter<StoredDoc> {
  const filter: Record<string, unknown> = { ...LIVE };
  for (const [field, value] of Object.entries(where ?? {})) {
    filter[docPath(field)] = Array.isArray(value) ? { $in: [...value] } : value;
  }
  return filter as Filter<StoredDoc>;
}

function toRecord(w: DocumentWrite): Omit<StoredDoc, '_id'> {
  return w.kind === 'put' ? { _pos: w.position, doc: w.doc } : { _pos: w.position, _del: true };
}

/** Replaces the record only while it is stored at an older position. */
function toGuardedReplace(w: DocumentWrite): AnyBulkWriteOperation<StoredDoc> {
  return {
    replaceOne: {
      filter: { _id: w.id, _pos: { $lt: w.position } },
      replacement: toRecord(w),
    },
  };
}

/** True when a bulk write failed only because inserts hit existing ids. */
function isOnlyDuplicateKeys(err: unknown): boolean {
  if (!(err instanceof MongoBulkWriteError)) return false;
  const writeErrors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
  if (writeErrors.length === 0) return false;
  if (err.err !== undefined || err.result?.getWriteConcernError() !== undefined) return false;
  return writeErrors.every((e) => e.code === DUPLICATE_KEY);
}
