// Durable run state, in SQLite files under the run directory:
//
//   run.db        what the run is (environments, partitions, shards), the
//                 reconciler versions in force, invocations, learned noise
//   shard-N.db    one per shard, written by exactly one worker: pairs and their
//                 timing, the outputs of both sides, verdicts, differences, the
//                 verdict log, per-partition checksums, and each side's checkpoint
//
// A shard's outputs, pair timing and checkpoint commit in one transaction, and
// so do a judgement and its verdict-log row: a restarted run resumes from the
// checkpoint and never judges a pair's revision twice.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Difference } from './diff.js';
import { addToChecksum, type SetChecksum } from './hash.js';
import type { Json } from './json.js';
import type { OutputEvent } from './reconciler.js';
import { signatureOf } from './signature.js';
import { dueAt, newPair, onOutput, type PairTiming, type SideName, type Timing, type Verdict } from './verdict.js';

// ---------------------------------------------------------------------------
// run.db

export interface RunMeta {
  id: string;
  createdAt: string;
  partitions: number;
  shards: number;
  prodLabel: string;
  uatLabel: string;
  /** Descriptions of the environments (config file paths or store locations), for the report. */
  prodSource: string;
  uatSource: string;
}

export interface Invocation {
  id: number;
  startedAt: string;
  endedAt: string | null;
  mode: 'batch' | 'follow' | 'rejudge';
  prodFrom: number;
  prodTo: number | null;
  uatFrom: number;
  uatTo: number | null;
  judged: number;
  status: 'running' | 'completed' | 'stopped' | 'failed';
}

export interface NoiseSignature {
  signature: string;
  pairs: number;
  examples: string[];
  learnedAt: string;
}

export class RunStore {
  private constructor(
    private readonly db: Database.Database,
    readonly dir: string,
  ) {}

  static exists(dir: string): boolean {
    return existsSync(join(dir, 'run.db'));
  }

  static open(dir: string, options: { readonly?: boolean } = {}): RunStore {
    if (!options.readonly) mkdirSync(dir, { recursive: true });
    const db = new Database(join(dir, 'run.db'), options.readonly ? { readonly: true, fileMustExist: true } : {});
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('busy_timeout = 30000');
    if (!options.readonly)
      db.exec(`
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS reconcilers (name TEXT PRIMARY KEY, version TEXT NOT NULL, module TEXT, updated_at TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS invocations (
          id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, ended_at TEXT, mode TEXT NOT NULL,
          prod_from INTEGER NOT NULL, prod_to INTEGER, uat_from INTEGER NOT NULL, uat_to INTEGER,
          judged INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS noise (signature TEXT PRIMARY KEY, pairs INTEGER NOT NULL, examples TEXT NOT NULL, learned_at TEXT NOT NULL) WITHOUT ROWID;
      `);
    return new RunStore(db, dir);
  }

  meta(): RunMeta | null {
    const rows = this.db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>;
    if (rows.length === 0) return null;
    const m = Object.fromEntries(rows.map((r) => [r.key, r.value]));
    return {
      id: m.id ?? '',
      createdAt: m.createdAt ?? '',
      partitions: Number(m.partitions),
      shards: Number(m.shards),
      prodLabel: m.prodLabel ?? 'PROD',
      uatLabel: m.uatLabel ?? 'UAT',
      prodSource: m.prodSource ?? '',
      uatSource: m.uatSource ?? '',
    };
  }

  initialise(meta: RunMeta): RunMeta {
    const existing = this.meta();
    if (existing) return existing;
    const put = this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
    this.db.transaction(() => {
      for (const [key, value] of Object.entries(meta)) put.run(key, String(value));
    })();
    return meta;
  }

  /** The versions last used per reconciler. */
  reconcilerVersions(): Map<string, { version: string; module: string | null }> {
    const rows = this.db.prepare('SELECT name, version, module FROM reconcilers').all() as Array<{ name: string; version: string; module: string | null }>;
    return new Map(rows.map((r) => [r.name, { version: r.version, module: r.module }]));
  }

  setReconcilerVersion(name: string, version: string, module: string | null): void {
    this.db
      .prepare('INSERT INTO reconcilers (name, version, module, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET version = excluded.version, module = excluded.module, updated_at = excluded.updated_at')
      .run(name, version, module, new Date().toISOString());
  }

  startInvocation(mode: Invocation['mode'], range: { prodFrom: number; prodTo: number | null; uatFrom: number; uatTo: number | null }): number {
    const info = this.db
      .prepare('INSERT INTO invocations (started_at, mode, prod_from, prod_to, uat_from, uat_to, status) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(new Date().toISOString(), mode, range.prodFrom, range.prodTo, range.uatFrom, range.uatTo, 'running');
    return Number(info.lastInsertRowid);
  }

  endInvocation(id: number, status: Invocation['status'], judged: number): void {
    this.db.prepare('UPDATE invocations SET ended_at = ?, status = ?, judged = ? WHERE id = ?').run(new Date().toISOString(), status, judged, id);
  }

  invocations(): Invocation[] {
    const rows = this.db.prepare('SELECT * FROM invocations ORDER BY id').all() as Array<Record<string, unknown>>;
    return rows.map((r) => ({
      id: r.id as number,
      startedAt: r.started_at as string,
      endedAt: (r.ended_at as string | null) ?? null,
      mode: r.mode as Invocation['mode'],
      prodFrom: r.prod_from as number,
      prodTo: (r.prod_to as number | null) ?? null,
      uatFrom: r.uat_from as number,
      uatTo: (r.uat_to as number | null) ?? null,
      judged: r.judged as number,
      status: r.status as Invocation['status'],
    }));
  }

  replaceNoise(signatures: ReadonlyArray<{ signature: string; pairs: number; examples: string[] }>): void {
    const put = this.db.prepare('INSERT INTO noise (signature, pairs, examples, learned_at) VALUES (?, ?, ?, ?)');
    const now = new Date().toISOString();
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM noise').run();
      for (const s of signatures) put.run(s.signature, s.pairs, JSON.stringify(s.examples), now);
    })();
  }

  noise(): NoiseSignature[] {
    const rows = this.db.prepare('SELECT * FROM noise ORDER BY pairs DESC, signature').all() as Array<{ signature: string; pairs: number; examples: string; learned_at: string }>;
    return rows.map((r) => ({ signature: r.signature, pairs: r.pairs, examples: JSON.parse(r.examples) as string[], learnedAt: r.learned_at }));
  }

  shardPath(shard: number): string {
    return join(this.dir, `shard-${shard}.db`);
  }

  close(): void {
    this.db.close();
  }
}

// ---------------------------------------------------------------------------
// shard-N.db

/** One output (or correlation-only touch, `event: null`) of one side for one pair. */
export interface IngestItem {
  reconciler: string;
  cid: string;
  partition: number;
  position: number;
  event: OutputEvent | null;
}

export interface PairRow extends PairTiming {
  reconciler: string;
  cid: string;
  partition: number;
  /** The last event-store position seen on each side (0: none). */
  prodPosition: number;
  uatPosition: number;
  dueAt: number | null;
  reconcilerVersion: string | null;
  decidedAt: number | null;
  diffCount: number;
}

export type JudgementCause = 'settled' | 'timeout' | 'final' | 'rejudge';

export interface JudgementRecord {
  pair: PairRow;
  verdict: Verdict;
  reconcilerVersion: string;
  decidedAt: number;
  cause: JudgementCause;
  differences: Difference[];
  /** Normalised sides, kept for non-matching pairs (the drill-down shows them). */
  normalised: { prod?: Json; uat?: Json } | null;
  /** Read-model documents as fetched for this judgement, as JSON text (kept so a re-judge needs no environment). */
  docs: { prod?: string; uat?: string } | null;
}

export interface StoredDifference extends Difference {
  signature: string;
}

/** One pair as the drill-down shows it (the HTTP API and the report). */
export interface PairDetail {
  reconciler: string;
  correlationId: string;
  verdict: Verdict;
  reconcilerVersion: string | null;
  decidedAt: number | null;
  late: boolean;
  differences: StoredDifference[];
  prod?: Json;
  uat?: Json;
  history: Array<{ verdict: Verdict; reconcilerVersion: string; revision: number; decidedAt: number; cause: JudgementCause }>;
}

export interface VerdictRow {
  reconciler: string;
  correlationId: string;
  verdict: Verdict;
  reconcilerVersion: string | null;
  decidedAt: number | null;
  differences: number;
  late: boolean;
}

interface PairDbRow {
  reconciler: string;
  cid: string;
  partition: number;
  prod_first_at: number | null;
  prod_last_at: number | null;
  uat_first_at: number | null;
  uat_last_at: number | null;
  prod_pos: number;
  uat_pos: number;
  opened_at: number;
  state: string;
  late: number;
  revision: number;
  judged_revision: number;
  due_at: number | null;
  reconciler_version: string | null;
  decided_at: number | null;
  diff_count: number;
}

const SHARD_SCHEMA = `
  CREATE TABLE IF NOT EXISTS pairs (
    reconciler TEXT NOT NULL, cid TEXT NOT NULL, partition INTEGER NOT NULL,
    prod_first_at INTEGER, prod_last_at INTEGER, uat_first_at INTEGER, uat_last_at INTEGER,
    prod_pos INTEGER NOT NULL DEFAULT 0, uat_pos INTEGER NOT NULL DEFAULT 0,
    opened_at INTEGER NOT NULL, state TEXT NOT NULL, late INTEGER NOT NULL,
    revision INTEGER NOT NULL, judged_revision INTEGER NOT NULL, due_at INTEGER,
    reconciler_version TEXT, decided_at INTEGER, diff_count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (reconciler, cid)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS pairs_due ON pairs (due_at) WHERE due_at IS NOT NULL;
  CREATE TABLE IF NOT EXISTS outputs (
    reconciler TEXT NOT NULL, cid TEXT NOT NULL, side TEXT NOT NULL, position INTEGER NOT NULL, event TEXT NOT NULL,
    PRIMARY KEY (reconciler, cid, side, position)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS docs (
    reconciler TEXT NOT NULL, cid TEXT NOT NULL, side TEXT NOT NULL, docs TEXT NOT NULL,
    PRIMARY KEY (reconciler, cid, side)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS differences (
    reconciler TEXT NOT NULL, cid TEXT NOT NULL, seq INTEGER NOT NULL,
    signature TEXT NOT NULL, path TEXT NOT NULL, path_pattern TEXT NOT NULL, kind TEXT NOT NULL, rule TEXT NOT NULL,
    prod TEXT, uat TEXT, prod_at TEXT, uat_at TEXT,
    PRIMARY KEY (reconciler, cid, seq)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS differences_signature ON differences (signature, reconciler, cid);
  CREATE TABLE IF NOT EXISTS judged (
    reconciler TEXT NOT NULL, cid TEXT NOT NULL, prod TEXT, uat TEXT,
    PRIMARY KEY (reconciler, cid)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS verdict_log (
    seq INTEGER PRIMARY KEY, reconciler TEXT NOT NULL, cid TEXT NOT NULL, verdict TEXT NOT NULL,
    reconciler_version TEXT NOT NULL, revision INTEGER NOT NULL, decided_at INTEGER NOT NULL, cause TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS checkpoints (side TEXT PRIMARY KEY, position INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS checksums (
    reconciler TEXT NOT NULL, partition INTEGER NOT NULL, side TEXT NOT NULL,
    count INTEGER NOT NULL, sum_a INTEGER NOT NULL, sum_b INTEGER NOT NULL,
    PRIMARY KEY (reconciler, partition, side)
  ) WITHOUT ROWID;
`;

function rawStatement<P extends unknown[]>(db: Database.Database, sql: string): Database.Statement<P, unknown[]> {
  return db.prepare<P, unknown[]>(sql).raw(true) as unknown as Database.Statement<P, unknown[]>;
}

const PAIR_COLUMNS = [
  'reconciler', 'cid', 'partition', 'prod_first_at', 'prod_last_at', 'uat_first_at', 'uat_last_at', 'prod_pos', 'uat_pos',
  'opened_at', 'state', 'late', 'revision', 'judged_revision', 'due_at', 'reconciler_version', 'decided_at', 'diff_count',
] as const;

/** A pair read in raw (array) mode, in PAIR_COLUMNS order: no intermediate row object. */
function pairFromArray(r: unknown[]): PairRow {
  return {
    reconciler: r[0] as string,
    cid: r[1] as string,
    partition: r[2] as number,
    prodFirstAt: r[3] as number | null,
    prodLastAt: r[4] as number | null,
    uatFirstAt: r[5] as number | null,
    uatLastAt: r[6] as number | null,
    prodPosition: r[7] as number,
    uatPosition: r[8] as number,
    openedAt: r[9] as number,
    state: r[10] as Verdict,
    late: r[11] === 1,
    revision: r[12] as number,
    judgedRevision: r[13] as number,
    dueAt: r[14] as number | null,
    reconcilerVersion: r[15] as string | null,
    decidedAt: r[16] as number | null,
    diffCount: r[17] as number,
  };
}

function toPair(row: PairDbRow): PairRow {
  return {
    reconciler: row.reconciler,
    cid: row.cid,
    partition: row.partition,
    prodFirstAt: row.prod_first_at,
    prodLastAt: row.prod_last_at,
    uatFirstAt: row.uat_first_at,
    uatLastAt: row.uat_last_at,
    prodPosition: row.prod_pos,
    uatPosition: row.uat_pos,
    openedAt: row.opened_at,
    state: row.state as Verdict,
    late: row.late === 1,
    revision: row.revision,
    judgedRevision: row.judged_revision,
    dueAt: row.due_at,
    reconcilerVersion: row.reconciler_version,
    decidedAt: row.decided_at,
    diffCount: row.diff_count,
  };
}

const json = (value: Json | undefined): string | null => (value === undefined ? null : JSON.stringify(value));

export class ShardStore {
  private readonly db: Database.Database;
  private readonly s: {
    getPair: Database.Statement<[string, string], unknown[]>;
    putPair: Database.Statement<unknown[]>;
    putOutput: Database.Statement<[string, string, string, number, string]>;
    outputs: Database.Statement<[string, string], unknown[]>;
    outputsBetween: Database.Statement<[string, string, string], unknown[]>;
    docs: Database.Statement<[string, string], { side: string; docs: string }>;
    putDocs: Database.Statement<[string, string, string, string]>;
    getCheckpoint: Database.Statement<[string], { position: number }>;
    putCheckpoint: Database.Statement<[string, number]>;
    getChecksum: Database.Statement<[string, number, string], { count: number; sum_a: number; sum_b: number }>;
    putChecksum: Database.Statement<[string, number, string, number, number, number]>;
    due: Database.Statement<[number, number], PairDbRow>;
    pendingAfter: Database.Statement<[string, string, number], unknown[]>;
    judgedAfter: Database.Statement<[string, string, string, number], PairDbRow>;
    setVerdict: Database.Statement<unknown[]>;
    deleteDifferences: Database.Statement<[string, string]>;
    putDifference: Database.Statement<unknown[]>;
    putJudged: Database.Statement<[string, string, string | null, string | null]>;
    deleteJudged: Database.Statement<[string, string]>;
    log: Database.Statement<[string, string, string, string, number, number, string]>;
    postpone: Database.Statement<[number, string, string, number]>;
  };

  private constructor(db: Database.Database, readonly path: string) {
    this.db = db;
    this.s = {
      getPair: rawStatement<[string, string]>(db, `SELECT ${PAIR_COLUMNS.join(', ')} FROM pairs WHERE reconciler = ? AND cid = ?`),
      putPair: db.prepare(`INSERT INTO pairs (reconciler, cid, partition, prod_first_at, prod_last_at, uat_first_at, uat_last_at, prod_pos, uat_pos, opened_at, state, late, revision, judged_revision, due_at, reconciler_version, decided_at, diff_count)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (reconciler, cid) DO UPDATE SET prod_first_at = excluded.prod_first_at, prod_last_at = excluded.prod_last_at,
          uat_first_at = excluded.uat_first_at, uat_last_at = excluded.uat_last_at, prod_pos = excluded.prod_pos, uat_pos = excluded.uat_pos, opened_at = excluded.opened_at, state = excluded.state,
          late = excluded.late, revision = excluded.revision, due_at = excluded.due_at`),
      putOutput: db.prepare('INSERT OR IGNORE INTO outputs (reconciler, cid, side, position, event) VALUES (?, ?, ?, ?, ?)'),
      // Raw (array) rows: better-sqlite3 builds no row objects, which costs more than the parsing.
      outputs: rawStatement<[string, string]>(db, 'SELECT cid, side, event FROM outputs WHERE reconciler = ? AND cid = ? ORDER BY side, position'),
      outputsBetween: rawStatement<[string, string, string]>(db, 'SELECT cid, side, event FROM outputs WHERE reconciler = ? AND cid >= ? AND cid <= ? ORDER BY cid, side, position'),
      docs: db.prepare('SELECT side, docs FROM docs WHERE reconciler = ? AND cid = ?'),
      putDocs: db.prepare('INSERT INTO docs (reconciler, cid, side, docs) VALUES (?, ?, ?, ?) ON CONFLICT (reconciler, cid, side) DO UPDATE SET docs = excluded.docs'),
      getCheckpoint: db.prepare('SELECT position FROM checkpoints WHERE side = ?'),
      putCheckpoint: db.prepare('INSERT INTO checkpoints (side, position) VALUES (?, ?) ON CONFLICT (side) DO UPDATE SET position = max(position, excluded.position)'),
      getChecksum: db.prepare('SELECT count, sum_a, sum_b FROM checksums WHERE reconciler = ? AND partition = ? AND side = ?'),
      putChecksum: db.prepare('INSERT INTO checksums (reconciler, partition, side, count, sum_a, sum_b) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (reconciler, partition, side) DO UPDATE SET count = excluded.count, sum_a = excluded.sum_a, sum_b = excluded.sum_b'),
      due: db.prepare('SELECT * FROM pairs WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at LIMIT ?'),
      pendingAfter: rawStatement<[string, string, number]>(
        db,
        `SELECT ${PAIR_COLUMNS.join(', ')} FROM pairs WHERE (reconciler, cid) > (?, ?) AND state = 'PENDING' ORDER BY reconciler, cid LIMIT ?`,
      ),
      judgedAfter: db.prepare(`SELECT * FROM pairs WHERE reconciler = ? AND state <> 'PENDING' AND cid > ? AND reconciler_version IS NOT ? ORDER BY reconciler, cid LIMIT ?`),
      setVerdict: db.prepare(`UPDATE pairs SET state = ?, judged_revision = ?, due_at = NULL, reconciler_version = ?, decided_at = ?, diff_count = ?
        WHERE reconciler = ? AND cid = ? AND revision = ?`),
      deleteDifferences: db.prepare('DELETE FROM differences WHERE reconciler = ? AND cid = ?'),
      putDifference: db.prepare('INSERT INTO differences (reconciler, cid, seq, signature, path, path_pattern, kind, rule, prod, uat, prod_at, uat_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      putJudged: db.prepare('INSERT INTO judged (reconciler, cid, prod, uat) VALUES (?, ?, ?, ?) ON CONFLICT (reconciler, cid) DO UPDATE SET prod = excluded.prod, uat = excluded.uat'),
      deleteJudged: db.prepare('DELETE FROM judged WHERE reconciler = ? AND cid = ?'),
      log: db.prepare('INSERT INTO verdict_log (reconciler, cid, verdict, reconciler_version, revision, decided_at, cause) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      postpone: db.prepare('UPDATE pairs SET due_at = ? WHERE reconciler = ? AND cid = ? AND revision = ?'),
    };
  }

  static open(path: string, options: { readonly?: boolean } = {}): ShardStore {
    const db = new Database(path, options.readonly ? { readonly: true, fileMustExist: true } : {});
    db.pragma('busy_timeout = 30000');
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      // A power cut may cost the last commits; the checkpoint commits with them, so they are re-read, never lost.
      db.pragma('synchronous = NORMAL');
      db.pragma('cache_size = -65536');
      // Judging reads outputs in key order: memory-mapped pages spare a copy per read.
      db.pragma('mmap_size = 1073741824');
      db.exec(SHARD_SCHEMA);
    }
    return new ShardStore(db, path);
  }

  checkpoint(side: SideName): number {
    return this.s.getCheckpoint.get(side)?.position ?? 0;
  }

  /**
   * Records one batch of a side's outputs up to `upTo`, atomically with the
   * checkpoint. Items at or below the stored checkpoint were recorded before
   * and are skipped. Returns the number of pairs touched.
   */
  ingest(side: SideName, items: readonly IngestItem[], upTo: number, now: number, timing: Timing): number {
    const run = this.db.transaction(() => {
      const from = this.checkpoint(side);
      const byPair = new Map<string, { first: IngestItem; items: IngestItem[] }>();
      const newIds = new Map<string, { reconciler: string; partition: number; cids: string[] }>();
      for (const item of items) {
        if (item.position <= from) continue;
        const key = `${item.reconciler}\u0000${item.cid}`;
        const entry = byPair.get(key);
        if (entry) entry.items.push(item);
        else byPair.set(key, { first: item, items: [item] });
      }
      for (const { first, items: pairItems } of byPair.values()) {
        const stored = this.s.getPair.get(first.reconciler, first.cid);
        const before = stored ? pairFromArray(stored) : null;
        let timingNow: PairTiming = before ?? newPair(now);
        for (const item of pairItems) {
          if (item.event !== null) this.s.putOutput.run(item.reconciler, item.cid, side, item.position, JSON.stringify(item.event));
        }
        const lastPosition = pairItems.reduce((max, item) => Math.max(max, item.position), 0);
        const prodPos = side === 'prod' ? Math.max(before?.prodPosition ?? 0, lastPosition) : (before?.prodPosition ?? 0);
        const uatPos = side === 'uat' ? Math.max(before?.uatPosition ?? 0, lastPosition) : (before?.uatPosition ?? 0);
        const wasPresent = before !== null && (side === 'prod' ? before.prodFirstAt !== null : before.uatFirstAt !== null);
        timingNow = onOutput(timingNow, side, now);
        if (!wasPresent) {
          const key = `${first.reconciler}\u0000${first.partition}`;
          const entry = newIds.get(key);
          if (entry) entry.cids.push(first.cid);
          else newIds.set(key, { reconciler: first.reconciler, partition: first.partition, cids: [first.cid] });
        }
        this.s.putPair.run(
          first.reconciler,
          first.cid,
          first.partition,
          timingNow.prodFirstAt,
          timingNow.prodLastAt,
          timingNow.uatFirstAt,
          timingNow.uatLastAt,
          prodPos,
          uatPos,
          timingNow.openedAt,
          timingNow.state,
          timingNow.late ? 1 : 0,
          timingNow.revision,
          timingNow.judgedRevision,
          dueAt(timingNow, timing),
          before?.reconcilerVersion ?? null,
          before?.decidedAt ?? null,
          before?.diffCount ?? 0,
        );
      }
      for (const { reconciler, partition, cids } of newIds.values()) this.addToChecksum(reconciler, partition, side, cids);
      this.s.putCheckpoint.run(side, upTo);
      return byPair.size;
    });
    return run.immediate();
  }

  private addToChecksum(reconciler: string, partition: number, side: SideName, cids: readonly string[]): void {
    const row = this.s.getChecksum.get(reconciler, partition, side);
    let next: SetChecksum = row ? { count: row.count, sumA: row.sum_a, sumB: row.sum_b } : { count: 0, sumA: 0, sumB: 0 };
    for (const cid of cids) next = addToChecksum(next, cid);
    this.s.putChecksum.run(reconciler, partition, side, next.count, next.sumA, next.sumB);
  }

  pair(reconciler: string, cid: string): PairRow | null {
    const row = this.s.getPair.get(reconciler, cid);
    return row ? pairFromArray(row) : null;
  }

  /** Pending pairs due at `now`, earliest first. */
  due(now: number, limit: number): PairRow[] {
    return this.s.due.all(now, limit).map(toPair);
  }

  /** Every pending pair after (reconciler, cid), in key order: a bounded run's final judgement. */
  pendingAfter(after: { reconciler: string; cid: string } | null, limit: number): PairRow[] {
    return this.s.pendingAfter.all(after?.reconciler ?? '', after?.cid ?? '', limit).map(pairFromArray);
  }

  /** Judged pairs of a reconciler not decided by `version`, after `afterCid`. */
  judgedNotBy(reconciler: string, version: string, afterCid: string, limit: number): PairRow[] {
    return this.s.judgedAfter.all(reconciler, afterCid, version, limit).map(toPair);
  }

  /** Stored events of both sides, in each side's order. */
  outputs(reconciler: string, cid: string): { prod: OutputEvent[]; uat: OutputEvent[] } {
    const prod: OutputEvent[] = [];
    const uat: OutputEvent[] = [];
    for (const row of this.s.outputs.all(reconciler, cid)) (row[1] === 'prod' ? prod : uat).push(JSON.parse(row[2] as string) as OutputEvent);
    return { prod, uat };
  }

  /** Stored events of every pair of a reconciler with from <= cid <= to: one query for a page of pairs. */
  outputsBetween(reconciler: string, from: string, to: string): Map<string, { prod: OutputEvent[]; uat: OutputEvent[] }> {
    const out = new Map<string, { prod: OutputEvent[]; uat: OutputEvent[] }>();
    for (const row of this.s.outputsBetween.all(reconciler, from, to)) {
      const cid = row[0] as string;
      let entry = out.get(cid);
      if (!entry) out.set(cid, (entry = { prod: [], uat: [] }));
      (row[1] === 'prod' ? entry.prod : entry.uat).push(JSON.parse(row[2] as string) as OutputEvent);
    }
    return out;
  }

  /** Read-model documents stored at the last judgement. */
  storedDocs(reconciler: string, cid: string): { prod?: Record<string, Json>; uat?: Record<string, Json> } {
    const out: { prod?: Record<string, Json>; uat?: Record<string, Json> } = {};
    for (const row of this.s.docs.all(reconciler, cid)) out[row.side as SideName] = JSON.parse(row.docs) as Record<string, Json>;
    return out;
  }

  /** Records judgements atomically with their verdict-log rows; a pair whose revision moved meanwhile is left pending. */
  record(judgements: readonly JudgementRecord[]): number {
    const run = this.db.transaction(() => {
      let recorded = 0;
      for (const j of judgements) {
        const { pair } = j;
        const changed = this.s.setVerdict.run(j.verdict, pair.revision, j.reconcilerVersion, j.decidedAt, j.differences.length, pair.reconciler, pair.cid, pair.revision);
        if (changed.changes === 0) continue;
        recorded++;
        // A pair that had no differences has no difference or judged rows to clear.
        if (pair.diffCount > 0) this.s.deleteDifferences.run(pair.reconciler, pair.cid);
        j.differences.forEach((d, seq) => {
          this.s.putDifference.run(pair.reconciler, pair.cid, seq, signatureOf(pair.reconciler, d), d.path, d.pathPattern, d.kind, d.rule, json(d.prod), json(d.uat), d.prodAt ?? null, d.uatAt ?? null);
        });
        if (j.normalised) this.s.putJudged.run(pair.reconciler, pair.cid, json(j.normalised.prod), json(j.normalised.uat));
        else if (pair.diffCount > 0) this.s.deleteJudged.run(pair.reconciler, pair.cid);
        if (j.docs) {
          if (j.docs.prod !== undefined) this.s.putDocs.run(pair.reconciler, pair.cid, 'prod', j.docs.prod);
          if (j.docs.uat !== undefined) this.s.putDocs.run(pair.reconciler, pair.cid, 'uat', j.docs.uat);
        }
        this.s.log.run(pair.reconciler, pair.cid, j.verdict, j.reconcilerVersion, pair.revision, j.decidedAt, j.cause);
      }
      return recorded;
    });
    return run.immediate();
  }

  /** Looks again later (read models not caught up yet). */
  postpone(pair: PairRow, until: number): void {
    this.s.postpone.run(until, pair.reconciler, pair.cid, pair.revision);
  }

  // -------------------------------------------------------------------------
  // Queries for reports and the API

  verdictCounts(): Array<{ reconciler: string; verdict: Verdict; count: number }> {
    return (this.db.prepare('SELECT reconciler, state AS verdict, count(*) AS count FROM pairs GROUP BY reconciler, state').all() as Array<{ reconciler: string; verdict: Verdict; count: number }>);
  }

  /** Signatures of current (non-pending) verdicts: pairs, occurrences and up to `examples` correlation IDs each. */
  signatures(examples: number): Array<{ signature: string; reconciler: string; path: string; kind: string; rule: string; pairs: number; occurrences: number; examples: string[] }> {
    const rows = this.db
      .prepare(`SELECT d.signature, d.reconciler, d.path_pattern AS path, d.kind, d.rule, count(DISTINCT d.cid) AS pairs, count(*) AS occurrences
        FROM differences d JOIN pairs p ON p.reconciler = d.reconciler AND p.cid = d.cid
        WHERE p.state <> 'PENDING' GROUP BY d.signature`)
      .all() as Array<{ signature: string; reconciler: string; path: string; kind: string; rule: string; pairs: number; occurrences: number }>;
    const exampleQuery = this.db.prepare(`SELECT DISTINCT d.cid FROM differences d JOIN pairs p ON p.reconciler = d.reconciler AND p.cid = d.cid
      WHERE d.signature = ? AND p.state <> 'PENDING' ORDER BY d.cid LIMIT ?`);
    return rows.map((r) => ({ ...r, examples: (exampleQuery.all(r.signature, examples) as Array<{ cid: string }>).map((e) => e.cid) }));
  }

  checksums(): Array<{ reconciler: string; partition: number; side: SideName } & SetChecksum> {
    return (this.db.prepare('SELECT reconciler, partition, side, count, sum_a AS sumA, sum_b AS sumB FROM checksums').all() as Array<{ reconciler: string; partition: number; side: SideName } & SetChecksum>);
  }

  /** Verdicts over time: counts per time bucket (ms since epoch / bucketMs) and verdict. */
  timeline(bucketMs: number): Array<{ bucket: number; verdict: Verdict; count: number }> {
    return this.db
      .prepare('SELECT decided_at / ? AS bucket, verdict, count(*) AS count FROM verdict_log GROUP BY bucket, verdict ORDER BY bucket')
      .all(bucketMs) as Array<{ bucket: number; verdict: Verdict; count: number }>;
  }

  timelineBounds(): { from: number | null; to: number | null; total: number } {
    const row = this.db.prepare('SELECT min(decided_at) AS "from", max(decided_at) AS "to", count(*) AS total FROM verdict_log').get() as { from: number | null; to: number | null; total: number };
    return row;
  }

  verdictLog(reconciler: string, cid: string): Array<{ verdict: Verdict; reconcilerVersion: string; revision: number; decidedAt: number; cause: JudgementCause }> {
    return this.db
      .prepare('SELECT verdict, reconciler_version AS reconcilerVersion, revision, decided_at AS decidedAt, cause FROM verdict_log WHERE reconciler = ? AND cid = ? ORDER BY seq')
      .all(reconciler, cid) as Array<{ verdict: Verdict; reconcilerVersion: string; revision: number; decidedAt: number; cause: JudgementCause }>;
  }

  logCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM verdict_log').get() as { n: number }).n;
  }

  /** Pairs in key order after a cursor, optionally of some verdicts / one reconciler. */
  verdicts(query: { verdicts?: readonly Verdict[]; reconciler?: string; after?: { reconciler: string; cid: string }; limit: number }): VerdictRow[] {
    const where: string[] = [];
    const params: Array<string | number> = [];
    if (query.verdicts && query.verdicts.length > 0) {
      where.push(`state IN (${query.verdicts.map(() => '?').join(',')})`);
      params.push(...query.verdicts);
    }
    if (query.reconciler) {
      where.push('reconciler = ?');
      params.push(query.reconciler);
    }
    if (query.after) {
      where.push('(reconciler, cid) > (?, ?)');
      params.push(query.after.reconciler, query.after.cid);
    }
    params.push(query.limit);
    const rows = this.db
      .prepare(`SELECT * FROM pairs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY reconciler, cid LIMIT ?`)
      .all(...params) as PairDbRow[];
    return rows.map((r) => ({
      reconciler: r.reconciler,
      correlationId: r.cid,
      verdict: r.state as Verdict,
      reconcilerVersion: r.reconciler_version,
      decidedAt: r.decided_at,
      differences: r.diff_count,
      late: r.late === 1,
    }));
  }

  differences(reconciler: string, cid: string): StoredDifference[] {
    const rows = this.db
      .prepare('SELECT signature, path, path_pattern, kind, rule, prod, uat, prod_at, uat_at FROM differences WHERE reconciler = ? AND cid = ? ORDER BY seq')
      .all(reconciler, cid) as Array<{ signature: string; path: string; path_pattern: string; kind: Difference['kind']; rule: string; prod: string | null; uat: string | null; prod_at: string | null; uat_at: string | null }>;
    return rows.map((r) => {
      const d: StoredDifference = { signature: r.signature, path: r.path, pathPattern: r.path_pattern, kind: r.kind, rule: r.rule };
      if (r.prod !== null) d.prod = JSON.parse(r.prod) as Json;
      if (r.uat !== null) d.uat = JSON.parse(r.uat) as Json;
      if (r.prod_at !== null) d.prodAt = r.prod_at;
      if (r.uat_at !== null) d.uatAt = r.uat_at;
      return d;
    });
  }

  normalised(reconciler: string, cid: string): { prod?: Json; uat?: Json } | null {
    const row = this.db.prepare('SELECT prod, uat FROM judged WHERE reconciler = ? AND cid = ?').get(reconciler, cid) as { prod: string | null; uat: string | null } | undefined;
    if (!row) return null;
    const out: { prod?: Json; uat?: Json } = {};
    if (row.prod !== null) out.prod = JSON.parse(row.prod) as Json;
    if (row.uat !== null) out.uat = JSON.parse(row.uat) as Json;
    return out;
  }

  /** Everything known about one pair: its verdict, differences, normalised sides and verdict history; null if this shard lacks it. */
  pairDetail(reconciler: string, cid: string): PairDetail | null {
    const pair = this.pair(reconciler, cid);
    if (!pair) return null;
    const normalised = this.normalised(reconciler, cid);
    return {
      reconciler,
      correlationId: cid,
      verdict: pair.state,
      reconcilerVersion: pair.reconcilerVersion,
      decidedAt: pair.decidedAt,
      late: pair.late,
      differences: this.differences(reconciler, cid),
      ...(normalised?.prod !== undefined && { prod: normalised.prod }),
      ...(normalised?.uat !== undefined && { uat: normalised.uat }),
      history: this.verdictLog(reconciler, cid),
    };
  }

  /** Correlation IDs with a given signature among current verdicts. */
  pairsWithSignature(signature: string, limit: number): Array<{ reconciler: string; cid: string }> {
    return this.db
      .prepare(`SELECT DISTINCT d.reconciler, d.cid FROM differences d JOIN pairs p ON p.reconciler = d.reconciler AND p.cid = d.cid
        WHERE d.signature = ? AND p.state <> 'PENDING' ORDER BY d.reconciler, d.cid LIMIT ?`)
      .all(signature, limit) as Array<{ reconciler: string; cid: string }>;
  }

  close(): void {
    this.db.close();
  }
}
