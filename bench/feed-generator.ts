// Deterministic generator of CX1 feeds, for end-to-end tests and the benchmark.
//
// generateFeed() builds, for N trades, the files of the three sources (CORE,
// ALLOC, CUSTODY) in memory, injecting scenarios with given probabilities and
// bad lines / broken trailers with given counts, and returns what the platform
// must make of them (per-trade state, rejections, exceptions, positions).
// writeLargeFeed() streams a huge file to disk for the benchmark.
//
// Everything is driven by a seeded PRNG (never Math.random): the same options
// give byte-identical files on every machine. Prices are built as scaled
// integers, never floats.
//
// The expectations do not depend on the order in which files are ingested:
// every scenario whose outcome depends on arrival order (a conflicting version,
// a sequence conflict) puts both lines in the same file, the original first.
// Allocations and confirmations are decided by source sequence, not arrival.
// Only which copy of an exact duplicate counts as "the duplicate" (and so the
// per-file accepted/duplicate split) depends on file order, hence totals only.
//
// Typical end-to-end use:
//   const feed = generateFeed({ seed: 1, trades: 500, rates: MIXED_RATES,
//     badLines: { badIsin: 2, sourceMismatch: 1 }, brokenTrailers: { missing: 1 } });
//   await writeFeed(feed, dir);             // CORE_20261127_0000000001.cx1, ...
//   ... ingest the files in any order ...
//   for (const t of feed.trades) expect(statusOf(t.tradeRef)).toBe(t.status);
//   expect(rejectionsFromApi).toEqual(feed.rejections.map(...));
import { writeFileSync } from 'node:fs';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DetailRecord, FileHeader, TradeTerms, VersionRecord } from '../domain/records.js';
import { isValidIsin, priceFromScaled, priceToScaled, type FeedSource, type IsoDate, type Price } from '../domain/values.js';
import {
  CNF_FIELDS,
  CXL_FIELDS,
  TRADE_FIELDS,
  controlQuantityOfRecord,
  formatDetail,
  formatHeader,
  formatTrailer,
  overwriteColumns,
  type Field,
} from '../ingestion/cx1/index.js';

// ---------------------------------------------------------------------------
// Public types

/** Scenarios a trade can be given; the probabilities in ScenarioRates. */
export type TradeScenario =
  /** Versions 2..k are AMDs, each carrying the whole trade. */
  | 'amended'
  /** The last version is a CXL. */
  | 'cancelled'
  /** Cancelled, and an AMD beyond the cancellation follows (TRADE_CANCELLED). */
  | 'amendedAfterCancel'
  /** Versions split across files so that a later version comes in an earlier file. */
  | 'versionGap'
  /** A middle version is never sent: the trade stays at the version before it. */
  | 'missingVersion'
  /** A version sent again with the same content from another source sequence. */
  | 'repeatedVersion'
  /** A version sent again with different content, same file after the original (VERSION_CONFLICT). */
  | 'conflictingVersion'
  /** A line repeated verbatim (same source sequence, same content), in another file when there is one. */
  | 'exactDuplicate'
  /** A line's source sequence reused with different content, same file after it (SEQUENCE_CONFLICT). */
  | 'sequenceConflict'
  /** 1..3 allocations summing to the trade's final quantity. */
  | 'allocated'
  /** One allocation later withdrawn (quantity 0, higher sequence): the trade cannot book. */
  | 'allocationWithdrawn'
  /** One allocation first stated wrong, then re-stated with a higher sequence in an earlier position. */
  | 'allocationRestated'
  /** A CNF affirming the final quantity and price. */
  | 'confirmed'
  /** The confirmation is RJ instead. */
  | 'confirmationRejected'
  /** The confirmation is AF but with a different quantity or price. */
  | 'confirmationMismatch'
  /** A stale RJ with a lower sequence arrives after the standing confirmation. */
  | 'confirmationStale'
  /** Only ALC/CNF records, never a TRD: AWAITING_TRADE. */
  | 'orphan';

/** Probability (0..1) of each scenario, per trade (sub-scenarios: per trade that has the parent). */
export type ScenarioRates = Record<TradeScenario, number>;

/** Every trade allocated and affirmed, nothing else: every trade books. */
export const CLEAN_RATES: ScenarioRates = {
  amended: 0,
  cancelled: 0,
  amendedAfterCancel: 0,
  versionGap: 0,
  missingVersion: 0,
  repeatedVersion: 0,
  conflictingVersion: 0,
  exactDuplicate: 0,
  sequenceConflict: 0,
  allocated: 1,
  allocationWithdrawn: 0,
  allocationRestated: 0,
  confirmed: 1,
  confirmationRejected: 0,
  confirmationMismatch: 0,
  confirmationStale: 0,
  orphan: 0,
};

/** A realistic mix of everything. */
export const MIXED_RATES: ScenarioRates = {
  amended: 0.3,
  cancelled: 0.1,
  amendedAfterCancel: 0.3,
  versionGap: 0.15,
  missingVersion: 0.1,
  repeatedVersion: 0.05,
  conflictingVersion: 0.05,
  exactDuplicate: 0.05,
  sequenceConflict: 0.03,
  allocated: 0.9,
  allocationWithdrawn: 0.05,
  allocationRestated: 0.1,
  confirmed: 0.9,
  confirmationRejected: 0.05,
  confirmationMismatch: 0.05,
  confirmationStale: 0.05,
  orphan: 0.02,
};

/** Deliberately invalid lines, each in a CORE file on its own trade reference ("<prefix>BAD000001"...). */
export type BadLineKind =
  /** A TRD line one character short or long (INVALID_RECORD). */
  | 'wrongLength'
  /** A TRD whose ISIN check digit is wrong (INVALID_RECORD). */
  | 'badIsin'
  /** A TRD dated 2023-02-29 (INVALID_RECORD). */
  | 'badDate'
  /** A line of record type "XYZ" (INVALID_RECORD). */
  | 'unknownType'
  /** A valid ALC line in a CORE file (SOURCE_MISMATCH). */
  | 'sourceMismatch';

export type TrailerBreak = 'wrongCount' | 'wrongTotal' | 'missing';

export interface FeedOptions {
  seed: number;
  trades: number;
  /** Files per source (default 3). */
  filesPerSource?: number;
  /** Header business date (default 2026-11-27); trade dates are this date. */
  businessDate?: IsoDate;
  /** Trade references are prefix + 8 digits (default "T"; at most 7 characters). */
  refPrefix?: string;
  /** First source sequence per source (default 1): set it to follow an earlier feed. */
  firstSequence?: Partial<Record<FeedSource, number>>;
  /** File number of each source's first file (default 1). */
  firstFileNumber?: number;
  /** Scenario probabilities, over CLEAN_RATES. */
  rates?: Partial<ScenarioRates>;
  /** How many bad lines of each kind (default none). */
  badLines?: Partial<Record<BadLineKind, number>>;
  /** How many files get each kind of broken trailer (distinct files; default none). */
  brokenTrailers?: Partial<Record<TrailerBreak, number>>;
}

export interface GeneratedFile {
  /** e.g. CORE_20261127_0000000001.cx1 */
  name: string;
  source: FeedSource;
  header: FileHeader;
  /** Every line of the file, header and trailer included, without terminators. */
  lines: string[];
  /** Lines between the header and the trailer. */
  detailLines: number;
  /** The trailer status the platform must report. */
  trailer: 'OK' | 'MISSING' | 'MISMATCH';
}

export interface ExpectedAllocation {
  allocationId: string;
  account: string;
  quantity: number;
}

export interface ExpectedTrade {
  tradeRef: string;
  scenarios: TradeScenario[];
  status: 'AWAITING_TRADE' | 'PENDING' | 'BOOKED' | 'CANCELLED';
  /** Highest k such that versions 1..k arrived (stopping at a cancellation); 0 without version 1. */
  effectiveVersion: number;
  /** Terms of the last TRD/AMD at or below the effective version. */
  terms: TradeTerms | null;
  bookedVersion: number | null;
  /** Active allocations (quantity > 0), by allocation id. */
  allocations: ExpectedAllocation[];
  /** The standing confirmation. */
  confirmation: { status: 'AFFIRMED' | 'REJECTED'; quantity: number; price: Price } | null;
}

export interface ExpectedRejection {
  file: string;
  line: number;
  code: 'INVALID_RECORD' | 'SOURCE_MISMATCH' | 'SEQUENCE_CONFLICT';
  tradeRef: string;
  kind: BadLineKind | 'sequenceConflict';
}

/**
 * A domain exception the trade's lines must raise. `file`/`line` locate the
 * line when each source's files are ingested in order; only a late version
 * that is also exactly duplicated in another file can be reported from the
 * other copy under another order.
 */
export interface ExpectedException {
  code: 'VERSION_CONFLICT' | 'TRADE_CANCELLED';
  tradeRef: string;
  version: number;
  sourceSequence: number;
  file: string;
  line: number;
}

export interface ExpectedPosition {
  account: string;
  isin: string;
  quantity: number;
}

export interface GeneratedFeed {
  files: GeneratedFile[];
  /** Every generated trade reference except the bad lines' own ones. */
  trades: ExpectedTrade[];
  rejections: ExpectedRejection[];
  exceptions: ExpectedException[];
  /** Over all files, whatever their ingestion order. */
  totals: { detailLines: number; accepted: number; duplicates: number; rejected: number };
  /** Non-zero positions per (account, ISIN), sorted. */
  positions: ExpectedPosition[];
  /** First unused source sequence per source: pass as firstSequence to a follow-up feed. */
  nextSequence: Record<FeedSource, number>;
}

// ---------------------------------------------------------------------------
// Seeded PRNG

/** sfc32 seeded through splitmix32: fast, good enough, identical everywhere. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    const s = seed >>> 0;
    this.a = splitmix32(s, 1);
    this.b = splitmix32(s, 2);
    this.c = splitmix32(s, 3);
    this.d = splitmix32(s, 4);
    // splitmix32 already spreads the seed; a few rounds decorrelate nearby seeds further.
    for (let i = 0; i < 4; i++) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  /** A copy of the items in a uniformly random order (Fisher–Yates). */
  shuffled<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
}

/** The k-th output of splitmix32 from state s: a well-mixed 32-bit value. */
function splitmix32(s: number, k: number): number {
  let z = (s + Math.imul(k, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Completes an 11-character ISIN body with its check digit. */
export function withIsinCheckDigit(body: string): string {
  for (let digit = 0; digit <= 9; digit++) {
    if (isValidIsin(body + digit)) return body + digit;
  }
  throw new Error(`not an ISIN body: ${JSON.stringify(body)}`);
}

// ---------------------------------------------------------------------------
// generateFeed

const SOURCES: readonly FeedSource[] = ['CORE', 'ALLOC', 'CUSTODY'];
const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'JP', 'CH', 'NL'];
const REAL_ISINS = ['US0378331005', 'GB0002634946', 'DE0007164600'];
const CURRENCIES = ['USD', 'EUR', 'GBP', 'JPY', 'CHF'];
const CANCEL_REASONS = ['BOOKED IN ERROR', 'CLIENT REQUEST', '', 'DUPLICATE TICKET'];
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

type Outcome =
  | { kind: 'valid'; record: DetailRecord }
  | { kind: 'rejected'; code: ExpectedRejection['code']; why: ExpectedRejection['kind'] };

/** One detail line to place in a file. */
interface Entry {
  source: FeedSource;
  file: number;
  /** Sort key within the file. */
  key: number;
  text: string;
  tradeRef: string;
  seq: number;
  outcome: Outcome;
  /** This line's contribution to the control total, computed here independently of the parser. */
  controlQuantity: bigint;
  /** 1-based line number, known once the files are laid out. */
  line: number;
}

interface TradePlan {
  tradeRef: string;
  scenarios: Set<TradeScenario>;
  /** In intended arrival order (meaningful within one file). */
  entries: Entry[];
}

export function generateFeed(options: FeedOptions): GeneratedFeed {
  return new FeedBuilder(options).build();
}

class FeedBuilder {
  private readonly rng: Rng;
  private readonly rates: ScenarioRates;
  private readonly files: number;
  private readonly businessDate: IsoDate;
  private readonly prefix: string;
  private readonly seq: Record<FeedSource, number>;
  private readonly isins: string[];
  private readonly accounts: string[];
  private readonly counterparties: string[];
  private readonly plans: TradePlan[] = [];
  private readonly badEntries: Entry[] = [];

  constructor(private readonly options: FeedOptions) {
    this.rng = new Rng(options.seed);
    this.rates = { ...CLEAN_RATES, ...options.rates };
    this.files = options.filesPerSource ?? 3;
    this.businessDate = options.businessDate ?? '2026-11-27';
    this.prefix = options.refPrefix ?? 'T';
    if (this.files < 1) throw new RangeError('filesPerSource must be at least 1');
    if (this.prefix.length > 7 || !/^[A-Za-z0-9/-]*$/.test(this.prefix)) throw new RangeError(`bad refPrefix ${this.prefix}`);
    this.seq = { CORE: 1, ALLOC: 1, CUSTODY: 1, ...options.firstSequence };
    this.isins = [...REAL_ISINS, ...Array.from({ length: 30 }, () => this.randomIsin())];
    this.accounts = Array.from({ length: 20 }, (_, i) => `ACC-${String(i + 1).padStart(3, '0')}`);
    this.counterparties = Array.from({ length: 10 }, (_, i) => `CPTY-${String(i + 1).padStart(2, '0')}`);
  }

  build(): GeneratedFeed {
    for (let i = 0; i < this.options.trades; i++) this.plans.push(this.planTrade(`${this.prefix}${String(i + 1).padStart(8, '0')}`));
    this.addBadLines();
    for (const plan of this.plans) this.assignKeys(plan.entries);
    for (const entry of this.badEntries) entry.key = this.rng.next();
    const files = this.layOutFiles();
    const fileName = (entry: Entry): string => files.byEntry.get(entry)!;
    const trades = this.plans.map((plan) => expectTrade(plan));
    return {
      files: files.list,
      trades,
      rejections: this.expectedRejections(fileName),
      exceptions: this.plans.flatMap((plan) => expectExceptions(plan, fileName)),
      totals: this.totals(),
      positions: expectPositions(trades),
      nextSequence: { ...this.seq },
    };
  }

  // --- trades --------------------------------------------------------------

  private planTrade(tradeRef: string): TradePlan {
    const plan: TradePlan = { tradeRef, scenarios: new Set(), entries: [] };
    const terms = this.randomTerms();
    if (this.roll(plan, 'orphan')) {
      this.planAllocations(plan, terms.quantity);
      this.planConfirmation(plan, terms);
      return plan;
    }
    const versions = this.planVersions(plan, terms);
    const finalTerms = lastTerms(versions);
    this.planAllocations(plan, finalTerms.quantity);
    this.planConfirmation(plan, finalTerms);
    this.planCopies(plan);
    return plan;
  }

  private planVersions(plan: TradePlan, terms: TradeTerms): VersionRecord[] {
    const ref = plan.tradeRef;
    const versions: VersionRecord[] = [{ type: 'TRD', tradeRef: ref, version: 1, terms }];
    if (this.roll(plan, 'amended')) {
      const amendments = this.rng.int(1, 3);
      for (let i = 0; i < amendments; i++) {
        versions.push({ type: 'AMD', tradeRef: ref, version: versions.length + 1, terms: this.amend(lastTerms(versions)) });
      }
    }
    if (this.roll(plan, 'cancelled')) {
      versions.push({ type: 'CXL', tradeRef: ref, version: versions.length + 1, reason: this.rng.pick(CANCEL_REASONS) });
    }
    const missing = versions.length >= 3 && this.roll(plan, 'missingVersion') ? this.rng.int(2, versions.length - 1) : null;
    const entries = versions.map((record) => this.validEntry('CORE', record, 0));
    this.placeVersions(plan, entries);
    for (const entry of entries) {
      if (entry.outcome.kind === 'valid' && versionOf(entry.outcome.record) !== missing) plan.entries.push(entry);
    }
    if (plan.scenarios.has('cancelled') && this.roll(plan, 'amendedAfterCancel')) {
      const late: VersionRecord = { type: 'AMD', tradeRef: ref, version: versions.length + 1, terms: this.amend(lastTerms(versions)) };
      plan.entries.push(this.validEntry('CORE', late, Math.min(this.files - 1, entries.at(-1)!.file + this.rng.int(0, 1))));
    }
    return versions;
  }

  /** Files for the versions: in order, drifting to later files; or split by a gap. */
  private placeVersions(plan: TradePlan, entries: Entry[]): void {
    let file = this.rng.int(0, this.files - 1);
    for (const entry of entries) {
      entry.file = file;
      if (this.rng.chance(0.3)) file = Math.min(this.files - 1, file + 1);
    }
    if (entries.length < 2 || !this.roll(plan, 'versionGap')) return;
    const split = this.rng.int(1, entries.length - 1); // entries[split..] come first
    if (this.files >= 2) {
      const early = this.rng.int(0, this.files - 2);
      const late = this.rng.int(early + 1, this.files - 1);
      entries.forEach((entry, i) => (entry.file = i < split ? late : early));
    } else {
      // One file: the later versions simply come first in it.
      entries.push(...entries.splice(0, split));
    }
  }

  private planAllocations(plan: TradePlan, quantity: number): void {
    if (!this.roll(plan, 'allocated')) return;
    const parts = this.split(quantity, this.rng.int(1, Math.min(3, quantity)));
    const allocations = parts.map((part, i) => ({ allocationId: `A${i + 1}`, account: this.rng.pick(this.accounts), quantity: part }));
    const restated = this.roll(plan, 'allocationRestated') ? this.rng.int(0, allocations.length - 1) : null;
    allocations.forEach((allocation, i) => {
      const record: DetailRecord = { type: 'ALC', tradeRef: plan.tradeRef, ...allocation };
      if (i !== restated) {
        plan.entries.push(this.validEntry('ALLOC', record, this.randomFile()));
        return;
      }
      // The wrong statement gets the lower sequence but comes later.
      const stale = this.validEntry('ALLOC', { ...record, quantity: allocation.quantity + this.rng.int(1, 50) }, 0);
      const right = this.validEntry('ALLOC', record, 0);
      this.placeLaterInOrder(right, stale);
      plan.entries.push(right, stale);
    });
    if (this.roll(plan, 'allocationWithdrawn')) {
      const withdrawn = this.rng.pick(allocations);
      plan.entries.push(this.validEntry('ALLOC', { type: 'ALC', tradeRef: plan.tradeRef, ...withdrawn, quantity: 0 }, this.randomFile()));
    }
  }

  private planConfirmation(plan: TradePlan, terms: TradeTerms): void {
    if (!this.roll(plan, 'confirmed')) return;
    let record: DetailRecord = { type: 'CNF', tradeRef: plan.tradeRef, status: 'AFFIRMED', quantity: terms.quantity, price: terms.price, reason: '' };
    if (this.roll(plan, 'confirmationRejected')) {
      record = { ...record, status: 'REJECTED', reason: 'SSI MISMATCH' };
    } else if (this.roll(plan, 'confirmationMismatch')) {
      record = this.rng.chance(0.5)
        ? { ...record, quantity: terms.quantity + 1 }
        : { ...record, price: priceFromScaled(priceToScaled(terms.price)! + 1_000_000n) };
    }
    if (this.roll(plan, 'confirmationStale')) {
      const stale = this.validEntry('CUSTODY', { ...record, status: 'REJECTED', reason: 'STALE' }, 0);
      const standing = this.validEntry('CUSTODY', record, 0);
      this.placeLaterInOrder(standing, stale);
      plan.entries.push(standing, stale);
    } else {
      plan.entries.push(this.validEntry('CUSTODY', record, this.randomFile()));
    }
  }

  /** Repeated versions, conflicting versions, duplicates and sequence conflicts of lines planned so far. */
  private planCopies(plan: TradePlan): void {
    const effective = effectiveVersionOf(plan.entries);
    const originals = plan.entries.filter((e) => e.outcome.kind === 'valid');
    const versions = originals.filter((e) => e.outcome.kind === 'valid' && isVersion(e.outcome.record) && versionOf(e.outcome.record) <= effective);
    if (versions.length > 0 && this.roll(plan, 'repeatedVersion')) {
      const original = this.rng.pick(versions);
      plan.entries.push(this.validEntry('CORE', recordOf(original), this.randomFile()));
    }
    if (versions.length > 0 && this.roll(plan, 'conflictingVersion')) {
      const original = this.rng.pick(versions);
      plan.entries.push(this.validEntry('CORE', variant(recordOf(original)), original.file));
    }
    if (originals.length > 0 && this.roll(plan, 'exactDuplicate')) {
      const original = this.rng.pick(originals);
      plan.entries.push({ ...original, file: this.otherFile(original.file) });
    }
    if (originals.length > 0 && this.roll(plan, 'sequenceConflict')) {
      const original = this.rng.pick(originals);
      const changed = variant(recordOf(original));
      plan.entries.push({
        ...original,
        text: formatDetail(original.seq, changed),
        outcome: { kind: 'rejected', code: 'SEQUENCE_CONFLICT', why: 'sequenceConflict' },
        controlQuantity: BigInt(controlQuantityOfRecord(changed)),
      });
    }
  }

  // --- bad lines -----------------------------------------------------------

  private addBadLines(): void {
    let n = 0;
    for (const [kind, count] of Object.entries(this.options.badLines ?? {}) as [BadLineKind, number][]) {
      for (let i = 0; i < count; i++) this.badEntries.push(this.badLine(kind, `${this.prefix}BAD${String(++n).padStart(6, '0')}`));
    }
  }

  /** A bad line in a CORE file, with its own trade reference and a fresh source sequence. */
  private badLine(kind: BadLineKind, tradeRef: string): Entry {
    const terms = this.randomTerms();
    const seq = this.nextSeq('CORE');
    const trade: DetailRecord = { type: 'TRD', tradeRef, version: 1, terms };
    const valid = formatDetail(seq, trade);
    const quantity = BigInt(terms.quantity);
    const bad = (text: string, controlQuantity: bigint, code: ExpectedRejection['code'] = 'INVALID_RECORD'): Entry =>
      this.entry('CORE', text, tradeRef, seq, { kind: 'rejected', code, why: kind }, controlQuantity);
    switch (kind) {
      case 'wrongLength':
        return bad(this.rng.chance(0.5) ? valid.slice(0, -1) : `${valid} `, 0n);
      case 'badIsin': {
        const isin = terms.isin.slice(0, 11) + String((Number(terms.isin.charAt(11)) + 1) % 10);
        return bad(formatDetail(seq, { ...trade, terms: { ...terms, isin } }), quantity);
      }
      case 'badDate':
        return bad(formatDetail(seq, { ...trade, terms: { ...terms, tradeDate: '2023-02-29', settleDate: '2023-03-02' } }), quantity);
      case 'unknownType':
        return bad(overwriteColumns(valid, 1, 'XYZ'), 0n);
      case 'sourceMismatch': {
        const allocation: DetailRecord = { type: 'ALC', tradeRef, allocationId: 'A1', account: terms.account, quantity: terms.quantity };
        return bad(formatDetail(seq, allocation), quantity, 'SOURCE_MISMATCH');
      }
    }
  }

  // --- layout --------------------------------------------------------------

  /** Within each file, the trade's lines keep their intended order, interleaved at random with other trades. */
  private assignKeys(entries: Entry[]): void {
    const groups = new Map<string, Entry[]>();
    for (const entry of entries) {
      const group = `${entry.source}/${entry.file}`;
      const members = groups.get(group);
      if (members) members.push(entry);
      else groups.set(group, [entry]);
    }
    for (const group of groups.values()) {
      const keys = group.map(() => this.rng.next()).sort((a, b) => a - b);
      group.forEach((entry, i) => (entry.key = keys[i]!));
    }
  }

  private layOutFiles(): { list: GeneratedFile[]; byEntry: Map<Entry, string> } {
    const all = [...this.plans.flatMap((plan) => plan.entries), ...this.badEntries];
    const breaks = this.chooseTrailerBreaks();
    const list: GeneratedFile[] = [];
    const byEntry = new Map<Entry, string>();
    const firstNumber = this.options.firstFileNumber ?? 1;
    for (const source of SOURCES) {
      for (let file = 0; file < this.files; file++) {
        const header: FileHeader = { source, businessDate: this.businessDate, fileNumber: String(firstNumber + file).padStart(10, '0') };
        const name = `${source}_${this.businessDate.replaceAll('-', '')}_${header.fileNumber}.cx1`;
        const details = all.filter((e) => e.source === source && e.file === file).sort((a, b) => a.key - b.key);
        details.forEach((entry, i) => {
          entry.line = i + 2;
          byEntry.set(entry, name);
        });
        const controlTotal = details.reduce((sum, e) => sum + e.controlQuantity, 0n);
        const broken = breaks.get(list.length);
        const lines = [formatHeader(header), ...details.map((e) => e.text)];
        if (broken !== 'missing') {
          lines.push(
            formatTrailer({
              recordCount: details.length + (broken === 'wrongCount' ? 1 : 0),
              controlTotal: controlTotal + (broken === 'wrongTotal' ? 1n : 0n),
            }),
          );
        }
        const trailer = broken === undefined ? 'OK' : broken === 'missing' ? 'MISSING' : 'MISMATCH';
        list.push({ name, source, header, lines, detailLines: details.length, trailer });
      }
    }
    return { list, byEntry };
  }

  /** File index (in output order) to the break it gets. */
  private chooseTrailerBreaks(): Map<number, TrailerBreak> {
    const indices = Array.from({ length: SOURCES.length * this.files }, (_, i) => i);
    for (let i = indices.length - 1; i > 0; i--) {
      const j = this.rng.int(0, i);
      [indices[i], indices[j]] = [indices[j]!, indices[i]!];
    }
    const breaks = new Map<number, TrailerBreak>();
    for (const [kind, count] of Object.entries(this.options.brokenTrailers ?? {}) as [TrailerBreak, number][]) {
      for (let i = 0; i < count; i++) {
        const index = indices.pop();
        if (index === undefined) throw new RangeError('more broken trailers than files');
        breaks.set(index, kind);
      }
    }
    return breaks;
  }

  private expectedRejections(fileName: (entry: Entry) => string): ExpectedRejection[] {
    const all = [...this.plans.flatMap((plan) => plan.entries), ...this.badEntries];
    return all
      .flatMap((e): ExpectedRejection[] =>
        e.outcome.kind === 'rejected' ? [{ file: fileName(e), line: e.line, code: e.outcome.code, tradeRef: e.tradeRef, kind: e.outcome.why }] : [],
      )
      .sort(byFileAndLine);
  }

  private totals(): GeneratedFeed['totals'] {
    const all = [...this.plans.flatMap((plan) => plan.entries), ...this.badEntries];
    const valid = all.filter((e) => e.outcome.kind === 'valid');
    const accepted = new Set(valid.map((e) => `${e.source}/${e.seq}`)).size;
    return { detailLines: all.length, accepted, duplicates: valid.length - accepted, rejected: all.length - valid.length };
  }

  // --- helpers -------------------------------------------------------------

  private roll(plan: TradePlan, scenario: TradeScenario): boolean {
    const hit = this.rng.chance(this.rates[scenario]);
    if (hit) plan.scenarios.add(scenario);
    return hit;
  }

  private nextSeq(source: FeedSource): number {
    return this.seq[source]++;
  }

  private validEntry(source: FeedSource, record: DetailRecord, file: number): Entry {
    const seq = this.nextSeq(source);
    const entry = this.entry(source, formatDetail(seq, record), record.tradeRef, seq, { kind: 'valid', record }, BigInt(controlQuantityOfRecord(record)));
    entry.file = file;
    return entry;
  }

  private entry(source: FeedSource, text: string, tradeRef: string, seq: number, outcome: Outcome, controlQuantity: bigint): Entry {
    return { source, file: this.randomFile(), key: 0, text, tradeRef, seq, outcome, controlQuantity, line: 0 };
  }

  /** Puts `first` in a file no later than `second`'s; assignKeys keeps list order within a file. */
  private placeLaterInOrder(first: Entry, second: Entry): void {
    const a = this.randomFile();
    const b = this.randomFile();
    first.file = Math.min(a, b);
    second.file = Math.max(a, b);
  }

  private randomFile(): number {
    return this.rng.int(0, this.files - 1);
  }

  private otherFile(file: number): number {
    return this.files === 1 ? file : (file + this.rng.int(1, this.files - 1)) % this.files;
  }

  private randomIsin(): string {
    let body = this.rng.pick(COUNTRIES);
    for (let i = 0; i < 9; i++) body += ALPHANUMERIC[this.rng.int(0, ALPHANUMERIC.length - 1)];
    return withIsinCheckDigit(body);
  }

  private randomTerms(): TradeTerms {
    return {
      account: this.rng.pick(this.accounts),
      isin: this.rng.pick(this.isins),
      side: this.rng.chance(0.5) ? 'BUY' : 'SELL',
      quantity: this.rng.int(1, 10_000) * 100,
      price: randomPrice(this.rng),
      currency: this.rng.pick(CURRENCIES),
      tradeDate: this.businessDate,
      settleDate: addDays(this.businessDate, this.rng.int(0, 3)),
      counterparty: this.rng.pick(this.counterparties),
    };
  }

  /** The whole trade as of the next version: some terms change. */
  private amend(terms: TradeTerms): TradeTerms {
    const next = { ...terms, counterparty: this.rng.pick(this.counterparties) };
    if (this.rng.chance(0.5)) next.quantity = this.rng.int(1, 10_000) * 100;
    if (this.rng.chance(0.5)) next.price = randomPrice(this.rng);
    if (this.rng.chance(0.2)) next.settleDate = addDays(terms.tradeDate, this.rng.int(0, 5));
    return next;
  }

  /** `parts` positive integers summing to `total`. */
  private split(total: number, parts: number): number[] {
    const cuts = new Set<number>();
    while (cuts.size < parts - 1) cuts.add(this.rng.int(1, total - 1));
    const points = [0, ...[...cuts].sort((a, b) => a - b), total];
    return points.slice(1).map((point, i) => point - points[i]!);
  }
}

// ---------------------------------------------------------------------------
// Expectations: what the spec says the platform must make of a trade's lines.

/** Lines in arrival order when each source's files are ingested in order. */
function arrivalOrder(entries: readonly Entry[]): Entry[] {
  return [...entries].sort((a, b) => a.file - b.file || a.key - b.key);
}

/** The standing record per version (first arrival, duplicates aside) and the conflicting ones. */
function versionsOf(entries: readonly Entry[]): { standing: Map<number, Entry>; conflicts: Entry[] } {
  const standing = new Map<number, Entry>();
  const conflicts: Entry[] = [];
  const seen = new Set<number>();
  for (const entry of arrivalOrder(entries.filter((e) => e.source === 'CORE' && e.outcome.kind === 'valid'))) {
    if (seen.has(entry.seq)) continue;
    seen.add(entry.seq);
    const version = versionOf(recordOf(entry));
    const first = standing.get(version);
    if (first === undefined) standing.set(version, entry);
    else if (contentOf(first.text) !== contentOf(entry.text)) conflicts.push(entry);
  }
  return { standing, conflicts };
}

/** Highest k with versions 1..k present, stopping at a cancellation. */
function effectiveOf(standing: Map<number, Entry>): { effective: number; cancelled: boolean } {
  let effective = 0;
  while (standing.has(effective + 1)) {
    effective++;
    if (recordOf(standing.get(effective)!).type === 'CXL') return { effective, cancelled: true };
  }
  return { effective, cancelled: false };
}

function effectiveVersionOf(entries: readonly Entry[]): number {
  return effectiveOf(versionsOf(entries).standing).effective;
}

function expectTrade(plan: TradePlan): ExpectedTrade {
  const { standing } = versionsOf(plan.entries);
  const { effective, cancelled } = effectiveOf(standing);
  let terms: TradeTerms | null = null;
  for (let v = 1; v <= effective; v++) {
    const record = recordOf(standing.get(v)!);
    if (record.type === 'TRD' || record.type === 'AMD') terms = record.terms;
  }
  const allocations = standingAllocations(plan.entries);
  const confirmation = standingConfirmation(plan.entries);
  const booked =
    terms !== null &&
    !cancelled &&
    allocations.reduce((sum, a) => sum + a.quantity, 0) === terms.quantity &&
    confirmation?.status === 'AFFIRMED' &&
    confirmation.quantity === terms.quantity &&
    confirmation.price === terms.price;
  return {
    tradeRef: plan.tradeRef,
    scenarios: [...plan.scenarios],
    status: effective === 0 ? 'AWAITING_TRADE' : cancelled ? 'CANCELLED' : booked ? 'BOOKED' : 'PENDING',
    effectiveVersion: effective,
    terms,
    bookedVersion: booked ? effective : null,
    allocations,
    confirmation: confirmation && { status: confirmation.status, quantity: confirmation.quantity, price: confirmation.price },
  };
}

/** Per allocation id, the highest source sequence stands; quantity 0 withdraws. */
function standingAllocations(entries: readonly Entry[]): ExpectedAllocation[] {
  const byId = new Map<string, { seq: number; allocation: ExpectedAllocation }>();
  for (const entry of entries) {
    if (entry.outcome.kind !== 'valid' || entry.outcome.record.type !== 'ALC') continue;
    const { allocationId, account, quantity } = entry.outcome.record;
    const current = byId.get(allocationId);
    if (current === undefined || entry.seq > current.seq) byId.set(allocationId, { seq: entry.seq, allocation: { allocationId, account, quantity } });
  }
  return [...byId.values()]
    .map((v) => v.allocation)
    .filter((a) => a.quantity > 0)
    .sort((a, b) => a.allocationId.localeCompare(b.allocationId));
}

function standingConfirmation(entries: readonly Entry[]): (DetailRecord & { type: 'CNF' }) | null {
  let best: { seq: number; record: DetailRecord & { type: 'CNF' } } | null = null;
  for (const entry of entries) {
    if (entry.outcome.kind !== 'valid' || entry.outcome.record.type !== 'CNF') continue;
    if (best === null || entry.seq > best.seq) best = { seq: entry.seq, record: entry.outcome.record };
  }
  return best?.record ?? null;
}

function expectExceptions(plan: TradePlan, fileName: (entry: Entry) => string): ExpectedException[] {
  const { standing, conflicts } = versionsOf(plan.entries);
  const { effective, cancelled } = effectiveOf(standing);
  const exception = (code: ExpectedException['code'], entry: Entry): ExpectedException => ({
    code,
    tradeRef: plan.tradeRef,
    version: versionOf(recordOf(entry)),
    sourceSequence: entry.seq,
    file: fileName(entry),
    line: entry.line,
  });
  const beyondCancellation = cancelled ? [...standing.values()].filter((e) => versionOf(recordOf(e)) > effective) : [];
  return [
    ...conflicts.map((e) => exception('VERSION_CONFLICT', e)),
    ...beyondCancellation.map((e) => exception('TRADE_CANCELLED', e)),
  ].sort(byFileAndLine);
}

function expectPositions(trades: readonly ExpectedTrade[]): ExpectedPosition[] {
  const positions = new Map<string, ExpectedPosition>();
  for (const trade of trades) {
    if (trade.status !== 'BOOKED' || trade.terms === null) continue;
    const sign = trade.terms.side === 'BUY' ? 1 : -1;
    for (const allocation of trade.allocations) {
      const key = `${allocation.account}|${trade.terms.isin}`;
      const position = positions.get(key) ?? { account: allocation.account, isin: trade.terms.isin, quantity: 0 };
      position.quantity += sign * allocation.quantity;
      positions.set(key, position);
    }
  }
  return [...positions.values()]
    .filter((p) => p.quantity !== 0)
    .sort((a, b) => a.account.localeCompare(b.account) || a.isin.localeCompare(b.isin));
}

// ---------------------------------------------------------------------------
// Writing files

export interface WriteOptions {
  /** Default "\r\n" (the core runs on Windows). */
  lineEnding?: '\n' | '\r\n';
  /** Whether the last line is terminated too (default true). */
  finalNewline?: boolean;
}

/** A generated file's bytes, as a latin1 string. */
export function fileText(file: GeneratedFile, options: WriteOptions = {}): string {
  const eol = options.lineEnding ?? '\r\n';
  return file.lines.join(eol) + (options.finalNewline === false ? '' : eol);
}

/** Writes every file of the feed into `dir` (created if needed); returns their paths in feed order. */
export async function writeFeed(feed: GeneratedFeed, dir: string, options: WriteOptions = {}): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  return Promise.all(
    feed.files.map(async (file) => {
      const path = join(dir, file.name);
      await writeFile(path, fileText(file, options), 'latin1');
      return path;
    }),
  );
}

export interface LargeFeedOptions {
  /** Detail lines to write (header and trailer excluded). */
  lines: number;
  seed: number;
  /**
   * CORE (default): TRD lines plus AMD version 2 for a share of trades.
   * ALLOC: 1..3 allocations per trade summing to its quantity.
   * CUSTODY: one AF confirmation per trade matching quantity and price.
   * Trade i has the same reference, quantity and price in all three, for the
   * same seed and refPrefix, so the three files together book every trade
   * whose lines all fit (the last trade of a file may be cut short).
   */
  source?: FeedSource;
  /** First source sequence (default 1); sequences are consecutive. */
  firstSequence?: number;
  /** Default "L" (at most 7 characters). */
  refPrefix?: string;
  /** Share of CORE trades that get an AMD (default 0.2). */
  amendRate?: number;
  businessDate?: IsoDate;
  lineEnding?: '\n' | '\r\n';
}

export interface LargeFeedResult {
  path: string;
  /** Detail lines written. */
  lines: number;
  /** Trades touched (the last may be incomplete). */
  trades: number;
  controlTotal: bigint;
  bytes: number;
}

/** Streams a large single-source file to `path` without holding it in memory. */
export async function writeLargeFeed(path: string, options: LargeFeedOptions): Promise<LargeFeedResult> {
  const source = options.source ?? 'CORE';
  const eol = options.lineEnding ?? '\n';
  const prefix = options.refPrefix ?? 'L';
  const context: LargeTradeContext = {
    seed: options.seed,
    source,
    amendRate: options.amendRate ?? 0.2,
    businessDate: options.businessDate ?? '2026-11-27',
    settleDate: addDays(options.businessDate ?? '2026-11-27', 2),
  };
  const handle = await open(path, 'w');
  let bytes = 0;
  // Lines are buffered and written a few thousand at a time: one await per batch, not per line.
  const flush = async (lines: string[]): Promise<void> => {
    const chunk = lines.join(eol) + eol;
    bytes += chunk.length;
    await handle.write(chunk, null, 'latin1');
  };
  try {
    let batch = [formatHeader({ source, businessDate: context.businessDate, fileNumber: '0000000001' })];
    let seq = options.firstSequence ?? 1;
    let written = 0;
    let trades = 0;
    let controlTotal = 0n;
    while (written < options.lines) {
      const records = largeTradeRecords(context, trades, `${prefix}${String(trades + 1).padStart(8, '0')}`);
      trades++;
      for (const record of records.slice(0, options.lines - written)) {
        batch.push(formatDetail(seq++, record));
        controlTotal += BigInt(controlQuantityOfRecord(record));
        written++;
      }
      if (batch.length >= 8192) {
        await flush(batch);
        batch = [];
      }
    }
    batch.push(formatTrailer({ recordCount: written, controlTotal }));
    await flush(batch);
    return { path, lines: written, trades, controlTotal, bytes };
  } finally {
    await handle.close();
  }
}

interface LargeTradeContext {
  seed: number;
  source: FeedSource;
  amendRate: number;
  businessDate: IsoDate;
  settleDate: IsoDate;
}

/** Trade i's records for one source: a pure function of (seed, i), so the three sources agree. */
function largeTradeRecords(context: LargeTradeContext, i: number, tradeRef: string): DetailRecord[] {
  const { seed, source, amendRate, businessDate, settleDate } = context;
  const rng = new Rng((seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
  const quantity = rng.int(1, 10_000) * 100;
  const price = randomPrice(rng);
  const terms: TradeTerms = {
    account: `ACC-${String(rng.int(1, 500)).padStart(3, '0')}`,
    isin: REAL_ISINS[rng.int(0, REAL_ISINS.length - 1)]!,
    side: rng.chance(0.5) ? 'BUY' : 'SELL',
    quantity,
    price,
    currency: 'USD',
    tradeDate: businessDate,
    settleDate,
    counterparty: `CPTY-${String(rng.int(1, 50)).padStart(2, '0')}`,
  };
  switch (source) {
    case 'CORE': {
      const records: DetailRecord[] = [{ type: 'TRD', tradeRef, version: 1, terms }];
      if (rng.chance(amendRate)) records.push({ type: 'AMD', tradeRef, version: 2, terms: { ...terms, counterparty: 'CPTY-AMEND' } });
      return records;
    }
    case 'ALLOC': {
      const first = Math.floor(quantity / 2);
      return [
        { type: 'ALC', tradeRef, allocationId: 'A1', account: terms.account, quantity: first },
        { type: 'ALC', tradeRef, allocationId: 'A2', account: 'ACC-POOL', quantity: quantity - first },
      ];
    }
    case 'CUSTODY':
      return [{ type: 'CNF', tradeRef, status: 'AFFIRMED', quantity, price, reason: '' }];
  }
}

// ---------------------------------------------------------------------------
// Small pure helpers

/** A price with 0, 2, 4 or 8 decimals, built as a scaled integer. */
function randomPrice(rng: Rng): Price {
  const decimals = rng.pick([0, 2, 2, 4, 8]);
  const integer = BigInt(rng.int(1, 5_000));
  const fraction = BigInt(rng.int(0, 10 ** decimals - 1)) * 10n ** BigInt(8 - decimals);
  return priceFromScaled(integer * 100_000_000n + fraction);
}

function addDays(iso: IsoDate, days: number): IsoDate {
  const date = new Date(`${iso}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

function lastTerms(versions: readonly VersionRecord[]): TradeTerms {
  for (let i = versions.length - 1; i >= 0; i--) {
    const record = versions[i]!;
    if (record.type !== 'CXL') return record.terms;
  }
  throw new Error('no TRD/AMD');
}

function isVersion(record: DetailRecord): record is VersionRecord {
  return record.type === 'TRD' || record.type === 'AMD' || record.type === 'CXL';
}

function versionOf(record: DetailRecord): number {
  return isVersion(record) ? record.version : 0;
}

function recordOf(entry: Entry): DetailRecord {
  if (entry.outcome.kind !== 'valid') throw new Error('not a valid line');
  return entry.outcome.record;
}

/** The same record with different content (still valid): for conflicts. */
function variant(record: DetailRecord): DetailRecord {
  switch (record.type) {
    case 'TRD':
    case 'AMD':
      return { ...record, terms: { ...record.terms, counterparty: otherText(record.terms.counterparty, widthOf(TRADE_FIELDS.counterparty)) } };
    case 'CXL':
      return { ...record, reason: otherText(record.reason, widthOf(CXL_FIELDS.reason)) };
    case 'CNF':
      return { ...record, reason: otherText(record.reason, widthOf(CNF_FIELDS.reason)) };
    case 'ALC':
      return { ...record, quantity: record.quantity + 1 };
  }
}

function widthOf(field: Field): number {
  return field.to - field.from + 1;
}

function otherText(text: string, width: number): string {
  if (text.length < width) return `${text}X`;
  return text.slice(0, -1) + (text.endsWith('X') ? 'Y' : 'X');
}

/** Record type and every field after the trade reference: "the same content" for versions. */
function contentOf(line: string): string {
  return line.slice(0, 3) + line.slice(31);
}

function byFileAndLine(a: { file: string; line: number }, b: { file: string; line: number }): number {
  return a.file.localeCompare(b.file) || a.line - b.line;
}

/**
 * One trade of `allocations` × 100 units allocated 100 to each account, and its confirmation: three
 * files (CORE, ALLOC, CUSTODY) that book it once the last allocation arrives.
 */
export function writeBlockTradeFeed(dir: string, tradeRef: string, allocations: number): string[] {
  const quantity = allocations * 100;
  const price = '101.25';
  const terms: TradeTerms = {
    account: 'BLOCK-ACC',
    isin: 'US0378331005',
    side: 'BUY',
    quantity,
    price,
    currency: 'USD',
    tradeDate: '2026-11-27',
    settleDate: '2026-11-30',
    counterparty: 'CPTY-BLOCK',
  };
  const write = (source: FeedSource, records: DetailRecord[]): string => {
    const lines = [formatHeader({ source, businessDate: '2026-11-27', fileNumber: '0000000001' })];
    let controlTotal = 0n;
    records.forEach((record, i) => {
      lines.push(formatDetail(i + 1, record));
      controlTotal += BigInt(controlQuantityOfRecord(record));
    });
    lines.push(formatTrailer({ recordCount: records.length, controlTotal }));
    const path = join(dir, `${source}_BLOCK.cx1`);
    writeFileSync(path, `${lines.join('\n')}\n`, 'latin1');
    return path;
  };
  return [
    write('CORE', [{ type: 'TRD', tradeRef, version: 1, terms }]),
    write(
      'ALLOC',
      Array.from({ length: allocations }, (_, i) => ({ type: 'ALC' as const, tradeRef, allocationId: `AL${String(i).padStart(6, '0')}`, account: `FUND-${i}`, quantity: 100 })),
    ),
    write('CUSTODY', [{ type: 'CNF', tradeRef, status: 'AFFIRMED', quantity, price, reason: '' }]),
  ];
}
