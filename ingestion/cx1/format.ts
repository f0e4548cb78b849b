// Building CX1 lines: the inverse of parse.ts, sharing its column layout.
//
// The builders check only that values *fit* the layout (width, digits, ASCII,
// known enumerations) and throw a RangeError when they do not. They do not
// enforce the business rules (ISIN check digit, real dates, version numbers...):
// tests and the feed generator use them to build deliberately invalid lines.
// For every valid record, parseDetail(formatDetail(seq, r)) gives back (seq, r).
import { priceToScaled, type DetailRecord, type FileHeader, type FileTrailer, type TradeTerms } from '../../domain/feed.js';
import {
  ALC_FIELDS,
  CNF_FIELDS,
  CXL_FIELDS,
  DETAIL_FIELDS,
  HDR_FIELDS,
  RECORD_LENGTH,
  TRADE_FIELDS,
  TRL_FIELDS,
  columnsLabel,
  type Field,
} from './parse.js';

export function formatHeader(header: FileHeader): string {
  return new LineBuilder('HDR')
    .text(HDR_FIELDS.source, header.source)
    .date(HDR_FIELDS.businessDate, header.businessDate)
    .digits(HDR_FIELDS.fileNumber, header.fileNumber)
    .build();
}

export function formatTrailer(trailer: FileTrailer): string {
  return new LineBuilder('TRL')
    .integer(TRL_FIELDS.recordCount, trailer.recordCount)
    .integer(TRL_FIELDS.controlTotal, trailer.controlTotal)
    .build();
}

/** What a record adds to its file's trailer control total (the spec's quantity fields; a CXL adds nothing). */
export function controlQuantityOfRecord(record: DetailRecord): number {
  switch (record.type) {
    case 'TRD':
    case 'AMD':
      return record.terms.quantity;
    case 'CXL':
      return 0;
    case 'ALC':
    case 'CNF':
      return record.quantity;
  }
}

export function formatDetail(sourceSequence: number, record: DetailRecord): string {
  const line = new LineBuilder(record.type)
    .integer(DETAIL_FIELDS.sourceSequence, sourceSequence)
    .text(DETAIL_FIELDS.tradeRef, record.tradeRef);
  switch (record.type) {
    case 'TRD':
    case 'AMD':
      return withTerms(line.integer(TRADE_FIELDS.version, record.version), record.terms).build();
    case 'CXL':
      return line.integer(CXL_FIELDS.version, record.version).text(CXL_FIELDS.reason, record.reason).build();
    case 'ALC':
      return line
        .text(ALC_FIELDS.allocationId, record.allocationId)
        .text(ALC_FIELDS.account, record.account)
        .integer(ALC_FIELDS.quantity, record.quantity)
        .build();
    case 'CNF':
      return line
        .code(CNF_FIELDS.status, record.status, STATUS_CODES)
        .integer(CNF_FIELDS.quantity, record.quantity)
        .price(CNF_FIELDS.price, record.price)
        .text(CNF_FIELDS.reason, record.reason)
        .build();
  }
}

/**
 * Overwrites the columns starting at `fromCol` (1-based) with `value`, keeping
 * the line's length where possible: for deliberately corrupting a valid line.
 */
export function overwriteColumns(line: string, fromCol: number, value: string): string {
  const start = fromCol - 1;
  return line.padEnd(start).slice(0, start) + value + line.slice(start + value.length);
}

const SIDE_CODES: Readonly<Record<string, string>> = { BUY: 'B', SELL: 'S' };
const STATUS_CODES: Readonly<Record<string, string>> = { AFFIRMED: 'AF', REJECTED: 'RJ' };

function withTerms(line: LineBuilder, terms: TradeTerms): LineBuilder {
  const f = TRADE_FIELDS;
  return line
    .text(f.account, terms.account)
    .text(f.isin, terms.isin)
    .code(f.side, terms.side, SIDE_CODES)
    .integer(f.quantity, terms.quantity)
    .price(f.price, terms.price)
    .text(f.currency, terms.currency)
    .date(f.tradeDate, terms.tradeDate)
    .date(f.settleDate, terms.settleDate)
    .text(f.counterparty, terms.counterparty);
}

const SPACES = ' '.repeat(RECORD_LENGTH);
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const DIGITS = /^[0-9]+$/;
const ISO_DATE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;

/**
 * Lays fields out in column order; gaps and the tail are filler (spaces).
 * Pieces are joined once at the end so the line is one flat string rather
 * than a rope: ropes cost memory and GC time when millions of lines are held.
 */
class LineBuilder {
  private readonly parts: string[];
  /** Columns written so far. */
  private column: number;

  constructor(type: string) {
    if (type.length !== 3) throw new RangeError(`record type ${JSON.stringify(type)} is not 3 characters`);
    this.parts = [type];
    this.column = 3;
  }

  /** Left-aligned, space-padded, printable ASCII. */
  text(f: Field, value: string): this {
    if (value.length > widthOf(f)) throw doesNotFit(f, value, `is longer than ${widthOf(f)} characters`);
    if (!PRINTABLE_ASCII.test(value)) throw doesNotFit(f, value, 'holds characters that are not printable ASCII');
    return this.put(f, value.length === widthOf(f) ? value : value + SPACES.slice(0, widthOf(f) - value.length));
  }

  /** A non-negative integer, right-aligned and zero-padded. */
  integer(f: Field, value: number | bigint): this {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) throw doesNotFit(f, value, 'is not a safe integer');
    if (value < 0) throw doesNotFit(f, value, 'is negative');
    return this.zeroPadded(f, value.toString());
  }

  /** A string of digits, zero-padded to the field's width. */
  digits(f: Field, value: string): this {
    if (!DIGITS.test(value)) throw doesNotFit(f, value, 'is not a digit string');
    return this.zeroPadded(f, value);
  }

  /** A decimal string as 10 integer + 8 decimal digits, through the scaled integer (never a float). */
  price(f: Field, value: string): this {
    const scaled = priceToScaled(value);
    if (scaled === null) throw doesNotFit(f, value, 'is not a decimal with at most 8 decimal places');
    if (scaled < 0n) throw doesNotFit(f, value, 'is negative');
    return this.zeroPadded(f, scaled.toString());
  }

  /** ISO YYYY-MM-DD as YYYYMMDD (shape only: an impossible date still formats). */
  date(f: Field, iso: string): this {
    if (!ISO_DATE.test(iso)) throw doesNotFit(f, iso, 'is not an ISO date YYYY-MM-DD');
    return this.put(f, iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10));
  }

  /** An enumerated value by its code in the feed. */
  code(f: Field, value: string, codes: Readonly<Record<string, string>>): this {
    const code = Object.hasOwn(codes, value) ? codes[value] : undefined;
    if (code === undefined) throw doesNotFit(f, value, `is not one of ${Object.keys(codes).join(', ')}`);
    return this.put(f, code);
  }

  build(): string {
    this.parts.push(SPACES.slice(0, RECORD_LENGTH - this.column));
    return this.parts.join('');
  }

  private zeroPadded(f: Field, digits: string): this {
    if (digits.length > widthOf(f)) throw doesNotFit(f, digits, `has more than ${widthOf(f)} digits`);
    return this.put(f, digits.padStart(widthOf(f), '0'));
  }

  /** Content of exactly the field's width, after filler up to the field. */
  private put(f: Field, content: string): this {
    if (f.from <= this.column) throw new Error(`internal: ${f.name} laid out out of column order`);
    if (this.column < f.from - 1) this.parts.push(SPACES.slice(0, f.from - 1 - this.column));
    this.parts.push(content);
    this.column = f.to;
    return this;
  }
}

function widthOf(f: Field): number {
  return f.to - f.from + 1;
}

function doesNotFit(f: Field, value: unknown, why: string): RangeError {
  return new RangeError(`${f.name} (${columnsLabel(f)}): ${JSON.stringify(String(value))} ${why}`);
}
