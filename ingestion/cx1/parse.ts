// Pure parsing and validation of single CX1 lines (see shared/specs/legacy-feed.md).
//
// Every function here looks at one line of text and nothing else: no I/O, no
// knowledge of the file the line came from. In particular parseDetail does not
// check whether the file's source may send the record type: that is file.ts's
// job, so that INVALID_RECORD is always decided before SOURCE_MISMATCH.
//
// Error strings are the `detail` operators read on the exceptions list, so each
// one names the field, its columns and the offending value.
//
// Decisions where the spec is silent:
// - Text fields must be left-aligned: a value with leading spaces breaks the
//   layout and is rejected (otherwise " ACC1" and "ACC1" would silently be two
//   accounts). Free-text reasons are the exception: they keep leading spaces.
// - Text field values may hold printable ASCII only (0x20-0x7E): the file is
//   "ASCII text", and control characters (NUL, TAB, a stray CR) in an account
//   or a reason would only cause trouble downstream.
// - Filler columns are ignored whatever they hold, non-ASCII bytes included.
// - Letters in a trade reference may be upper or lower case.
import * as E from './either.js';
import {
  FEED_SOURCES,
  isCalendarDate,
  isValidIsin,
  PRICE_SCALE,
  type ConfirmationStatus,
  type FeedSource,
  type IsoDate,
  type Price,
  type Side,
  type AllocationRecord,
  type AmendmentRecord,
  type CancellationRecord,
  type ConfirmationRecord,
  type DetailRecord,
  type DetailRecordType,
  type FileHeader,
  type FileTrailer,
  type NewTradeRecord,
  type TradeTerms,
} from '../../domain/feed.js';

export type Result<T> = E.Either<string, T>;

/** A fixed-width field: 1-based, inclusive columns, as in the spec's tables. */
export interface Field {
  readonly name: string;
  readonly from: number;
  readonly to: number;
}

const field = (name: string, from: number, to: number): Field => ({ name, from, to });

export const RECORD_LENGTH = 128;

export const RECORD_TYPE = field('record type', 1, 3);

export const HDR_FIELDS = {
  source: field('source', 4, 11),
  businessDate: field('business date', 12, 19),
  fileNumber: field('file number', 20, 29),
} as const;

export const TRL_FIELDS = {
  recordCount: field('record count', 4, 13),
  controlTotal: field('control total', 14, 31),
} as const;

/** The prefix every detail record shares. */
export const DETAIL_FIELDS = {
  sourceSequence: field('source sequence', 4, 15),
  tradeRef: field('trade reference', 16, 31),
} as const;

/** TRD and AMD share this layout. */
export const TRADE_FIELDS = {
  version: field('version', 32, 35),
  account: field('account', 36, 47),
  isin: field('ISIN', 48, 59),
  side: field('side', 60, 60),
  quantity: field('quantity', 61, 75),
  price: field('price', 76, 93),
  currency: field('currency', 94, 96),
  tradeDate: field('trade date', 97, 104),
  settleDate: field('settlement date', 105, 112),
  counterparty: field('counterparty', 113, 124),
} as const;

export const CXL_FIELDS = {
  version: field('version', 32, 35),
  reason: field('reason', 36, 75),
} as const;

export const ALC_FIELDS = {
  allocationId: field('allocation id', 32, 43),
  account: field('account', 44, 55),
  quantity: field('quantity', 56, 70),
} as const;

export const CNF_FIELDS = {
  status: field('status', 32, 33),
  quantity: field('quantity', 34, 48),
  price: field('price', 49, 66),
  reason: field('reason', 67, 106),
} as const;

export const DETAIL_RECORD_TYPES: readonly DetailRecordType[] = ['TRD', 'AMD', 'CXL', 'ALC', 'CNF'];

export interface ParsedDetail {
  sourceSequence: number;
  record: DetailRecord;
}

// ---------------------------------------------------------------------------
// Public parsers

export function parseHeader(text: string): Result<FileHeader> {
  const type = recordOfType(text, 'HDR');
  if (E.isLeft(type)) return type;
  const source = feedSource(text);
  if (E.isLeft(source)) return source;
  const businessDate = date(text, HDR_FIELDS.businessDate);
  if (E.isLeft(businessDate)) return businessDate;
  const fileNumber = digits(text, HDR_FIELDS.fileNumber);
  if (E.isLeft(fileNumber)) return fileNumber;
  return E.right({ source: source.right, businessDate: businessDate.right, fileNumber: fileNumber.right });
}

export function parseTrailer(text: string): Result<FileTrailer> {
  const type = recordOfType(text, 'TRL');
  if (E.isLeft(type)) return type;
  const recordCount = digits(text, TRL_FIELDS.recordCount);
  if (E.isLeft(recordCount)) return recordCount;
  const controlTotal = digits(text, TRL_FIELDS.controlTotal);
  if (E.isLeft(controlTotal)) return controlTotal;
  return E.right({ recordCount: Number(recordCount.right), controlTotal: BigInt(controlTotal.right) });
}

/**
 * Parses and validates one detail line. Does not know the file's source, so it
 * never rejects a record type for being sent by the wrong source.
 */
export function parseDetail(text: string): Result<ParsedDetail> {
  if (text.length !== RECORD_LENGTH) return E.left(lengthProblem(text));
  const type = detailTypeOf(text);
  if (type === null) {
    const raw = text.slice(0, 3);
    return E.left(
      raw === 'HDR' || raw === 'TRL'
        ? `record type "${raw}" where a detail record was expected`
        : `unknown record type ${JSON.stringify(raw)}`,
    );
  }
  const sourceSequence = count(text, DETAIL_FIELDS.sourceSequence, 1);
  if (E.isLeft(sourceSequence)) return sourceSequence;
  const ref = tradeRef(text);
  if (E.isLeft(ref)) return ref;
  const record = BODY_PARSERS[type](text, ref.right);
  return E.isLeft(record) ? record : E.right({ sourceSequence: sourceSequence.right, record: record.right });
}

/**
 * Best-effort trade reference of any line, valid or not, so that a rejected
 * line can still be attached to its trade: columns 16-31 right-trimmed, when
 * they hold a well-formed reference. Null for headers and trailers, whose
 * columns 16-31 mean something else.
 */
export function tradeRefOf(text: string): string | null {
  if (text.length < DETAIL_FIELDS.tradeRef.to) return null;
  if (text.startsWith('HDR') || text.startsWith('TRL')) return null;
  const f = DETAIL_FIELDS.tradeRef;
  const end = valueEnd(text, f);
  return end >= f.from && isTradeRefAt(text, f, end) ? text.slice(f.from - 1, end) : null;
}

/**
 * The quantity a line contributes to its file's control total, per the spec:
 * the quantity field of a TRD, AMD, ALC or CNF line of exactly 128 characters
 * whose quantity field is all digits, even when the line is otherwise invalid.
 * Null for every other line.
 */
export function controlQuantityOf(text: string): bigint | null {
  const quantity = controlQuantityValue(text);
  return quantity === null ? null : BigInt(quantity);
}

/**
 * controlQuantityOf as a number, exact: a quantity field has 15 digits, below
 * 2^53. The file's running total uses this (a bigint per line costs).
 */
export function controlQuantityValue(text: string): number | null {
  if (text.length !== RECORD_LENGTH) return null;
  const quantity = quantityFieldOf(detailTypeOf(text));
  if (quantity === null) return null;
  const value = digitsValue(text, quantity);
  return value < 0 ? null : value;
}

export function isDetailRecordType(type: string): type is DetailRecordType {
  return type === 'TRD' || type === 'AMD' || type === 'CXL' || type === 'ALC' || type === 'CNF';
}

/**
 * The detail record type in a line's first three columns, as the constant it is, or null. Read
 * from the characters in place: a slice of them was a new string at every line, and each use of
 * it as a key (the body's parser, the event type, the source's allowed types) hashed it and looked
 * it up again; the constant is one the engine already knows.
 */
export function detailTypeOf(text: string): DetailRecordType | null {
  const second = text.charCodeAt(1);
  const third = text.charCodeAt(2);
  switch (text.charCodeAt(0)) {
    case 0x54: // T
      return second === 0x52 && third === 0x44 ? 'TRD' : null;
    case 0x41: // A
      if (second === 0x4d && third === 0x44) return 'AMD';
      return second === 0x4c && third === 0x43 ? 'ALC' : null;
    case 0x43: // C
      if (second === 0x58 && third === 0x4c) return 'CXL';
      return second === 0x4e && third === 0x46 ? 'CNF' : null;
    default:
      return null;
  }
}

/** The field of a record type that counts towards the control total, if any. */
export function quantityFieldOf(type: string | null): Field | null {
  switch (type) {
    case 'TRD':
    case 'AMD':
      return TRADE_FIELDS.quantity;
    case 'ALC':
      return ALC_FIELDS.quantity;
    case 'CNF':
      return CNF_FIELDS.quantity;
    default:
      return null;
  }
}

/** "cols 48-59", or "col 60" for a one-column field. */
export function columnsLabel(f: Field): string {
  return f.from === f.to ? `col ${f.from}` : `cols ${f.from}-${f.to}`;
}

// ---------------------------------------------------------------------------
// Record bodies (everything after the trade reference)
//
// Written as plain early returns, field by field in column order, so the
// first broken field is the one reported. (fp-ts 2.16's pipeable E.chain and
// sequenceS go through generic currying, `dual` and Array.from(arguments),
// which cost ~15 µs per line here: several times the whole parsing budget.)

type BodyParser = (text: string, tradeRef: string) => Result<DetailRecord>;

const BODY_PARSERS: Readonly<Record<DetailRecordType, BodyParser>> = {
  TRD: (text, tradeRef): Result<NewTradeRecord> => {
    const v = version(text, TRADE_FIELDS.version, 'TRD');
    if (E.isLeft(v)) return v;
    const terms = tradeTerms(text);
    if (E.isLeft(terms)) return terms;
    return E.right({ type: 'TRD', tradeRef, version: 1, terms: terms.right });
  },
  AMD: (text, tradeRef): Result<AmendmentRecord> => {
    const v = version(text, TRADE_FIELDS.version, 'AMD');
    if (E.isLeft(v)) return v;
    const terms = tradeTerms(text);
    if (E.isLeft(terms)) return terms;
    return E.right({ type: 'AMD', tradeRef, version: v.right, terms: terms.right });
  },
  CXL: (text, tradeRef): Result<CancellationRecord> => {
    const v = version(text, CXL_FIELDS.version, 'CXL');
    if (E.isLeft(v)) return v;
    const reason = freeText(text, CXL_FIELDS.reason);
    if (E.isLeft(reason)) return reason;
    return E.right({ type: 'CXL', tradeRef, version: v.right, reason: reason.right });
  },
  ALC: (text, tradeRef): Result<AllocationRecord> => {
    const allocationId = requiredText(text, ALC_FIELDS.allocationId);
    if (E.isLeft(allocationId)) return allocationId;
    const account = requiredText(text, ALC_FIELDS.account);
    if (E.isLeft(account)) return account;
    const quantity = count(text, ALC_FIELDS.quantity, 0);
    if (E.isLeft(quantity)) return quantity;
    return E.right({ type: 'ALC', tradeRef, allocationId: allocationId.right, account: account.right, quantity: quantity.right });
  },
  CNF: (text, tradeRef): Result<ConfirmationRecord> => {
    const status = confirmationStatus(text);
    if (E.isLeft(status)) return status;
    const quantity = count(text, CNF_FIELDS.quantity, 0);
    if (E.isLeft(quantity)) return quantity;
    const p = price(text, CNF_FIELDS.price, 0);
    if (E.isLeft(p)) return p;
    const reason = freeText(text, CNF_FIELDS.reason);
    if (E.isLeft(reason)) return reason;
    return E.right({ type: 'CNF', tradeRef, status: status.right, quantity: quantity.right, price: p.right, reason: reason.right });
  },
};

function tradeTerms(text: string): Result<TradeTerms> {
  const f = TRADE_FIELDS;
  const account = requiredText(text, f.account);
  if (E.isLeft(account)) return account;
  const isinValue = isin(text);
  if (E.isLeft(isinValue)) return isinValue;
  const sideValue = side(text);
  if (E.isLeft(sideValue)) return sideValue;
  const quantity = count(text, f.quantity, 1);
  if (E.isLeft(quantity)) return quantity;
  const priceValue = price(text, f.price, 1);
  if (E.isLeft(priceValue)) return priceValue;
  const currencyValue = currency(text);
  if (E.isLeft(currencyValue)) return currencyValue;
  const tradeDate = date(text, f.tradeDate);
  if (E.isLeft(tradeDate)) return tradeDate;
  const settleDate = date(text, f.settleDate);
  if (E.isLeft(settleDate)) return settleDate;
  // ISO dates compare correctly as strings.
  if (settleDate.right < tradeDate.right) {
    return E.left(
      `${describe(f.settleDate, columns(text, f.settleDate))} is before the trade date ` +
        `(${columnsLabel(f.tradeDate)}) ${JSON.stringify(columns(text, f.tradeDate))}`,
    );
  }
  const counterparty = requiredText(text, f.counterparty);
  if (E.isLeft(counterparty)) return counterparty;
  return E.right({
    account: account.right,
    isin: isinValue.right,
    side: sideValue.right,
    quantity: quantity.right,
    price: priceValue.right,
    currency: currencyValue.right,
    tradeDate: tradeDate.right,
    settleDate: settleDate.right,
    counterparty: counterparty.right,
  });
}

// ---------------------------------------------------------------------------
// Field validators

const DIGITS = /^[0-9]+$/;
const ISIN_PATTERN = /^[A-Z]{2}[A-Z0-9]{9}[0-9]$/;

const VERSION_RULES = {
  TRD: { min: 1, max: 1, rule: 'must be 1 for a TRD record' },
  AMD: { min: 2, max: Infinity, rule: 'must be 2 or more for an AMD record' },
  CXL: { min: 2, max: Infinity, rule: 'must be 2 or more for a CXL record' },
} as const;

/**
 * Memoised verdicts for values that repeat across millions of lines (a feed
 * has few distinct dates and instruments). Pure functions of the raw value, so
 * caching keeps parsing pure; emptied when full to keep memory bounded.
 */
class VerdictCache<K, V> {
  private readonly entries = new Map<K, V>();
  constructor(private readonly capacity: number) {}
  get(key: K): V | undefined {
    return this.entries.get(key);
  }
  set(key: K, value: V): void {
    if (this.entries.size >= this.capacity) this.entries.clear();
    this.entries.set(key, value);
  }
}

/**
 * Dates by the number their eight columns read as (digitsValue): the same for the same
 * columns, and a number key is neither a slice of the line nor a string to hash at each line.
 * Only all-digit columns are looked up. The verdict is kept as the Either it is returned as.
 */
const knownDates = new VerdictCache<number, Result<IsoDate> | null>(4096);
/**
 * ISIN verdicts (shape and check digit) by the field's columns: a known value is looked up
 * before any pattern is run.
 */
const knownIsins = new VerdictCache<string, IsinVerdict>(65536);
type IsinVerdict = 'valid' | 'shape' | 'checkDigit';

// The few values a field may take, each one Either, shared: nothing holds an Either but to read it.
const BUY: Result<Side> = E.right('BUY');
const SELL: Result<Side> = E.right('SELL');
const AFFIRMED: Result<ConfirmationStatus> = E.right('AFFIRMED');
const REJECTED: Result<ConfirmationStatus> = E.right('REJECTED');

function recordOfType(text: string, expected: 'HDR' | 'TRL'): Result<void> {
  if (text.length !== RECORD_LENGTH) return E.left(lengthProblem(text));
  const type = text.slice(0, 3);
  return type === expected
    ? E.right(undefined)
    : E.left(`${describe(RECORD_TYPE, type)} must be "${expected}"`);
}

function lengthProblem(text: string): string {
  const problem = `record length ${text.length}, expected ${RECORD_LENGTH}`;
  return isBlank(text) ? `blank line (${problem})` : problem;
}

function isBlank(text: string): boolean {
  return text.trim() === '';
}

/** The raw columns of a field. */
function columns(text: string, f: Field): string {
  return text.slice(f.from - 1, f.to);
}

/** `source sequence (cols 4-15) "00000000000X"` */
function describe(f: Field, raw: string): string {
  return `${f.name} (${columnsLabel(f)}) ${JSON.stringify(raw)}`;
}

function invalid(f: Field, raw: string, problem: string): Result<never> {
  return E.left(`${describe(f, raw)} ${problem}`);
}

/**
 * Where a field's value ends (0-based, exclusive) once its trailing spaces are dropped, read in
 * place: `f.from - 1` when the field is blank. Only trailing spaces: the spec pads text with
 * spaces, nothing else. Text fields are checked on the line's own characters and sliced once, not
 * sliced, trimmed (sliced again) and checked on a string of whichever kind the slices made.
 */
function valueEnd(text: string, f: Field): number {
  let end = f.to;
  while (end >= f.from && text.charCodeAt(end - 1) === 0x20) end--;
  return end;
}

/** Removes trailing spaces only: the spec pads text with spaces, nothing else. */
function trimEnd(raw: string): string {
  let end = raw.length;
  while (end > 0 && raw.charCodeAt(end - 1) === 0x20) end--;
  return end === raw.length ? raw : raw.slice(0, end);
}

const DIGITS_ONLY = 'must be digits only (zero-padded, no sign or spaces)';

function digits(text: string, f: Field): Result<string> {
  const raw = columns(text, f);
  return DIGITS.test(raw) ? E.right(raw) : invalid(f, raw, DIGITS_ONLY);
}

/**
 * The value of a field of at most 15 digits (exact as a JS number), read in
 * place: no substring, regular expression or string conversion, which cost a
 * few hundred instructions each at several fields a line. -1 when the field
 * holds anything but digits. The line must be at least as long as the field.
 */
function digitsValue(text: string, f: Field): number {
  let value = 0;
  for (let i = f.from - 1; i < f.to; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (!(digit >= 0 && digit <= 9)) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** A numeric field of at most 15 digits (safe as a JS number) that must be >= min. */
function count(text: string, f: Field, min: number): Result<number> {
  const value = digitsValue(text, f);
  if (value >= min) return E.right(value);
  const raw = columns(text, f);
  if (value < 0) return invalid(f, raw, DIGITS_ONLY);
  return invalid(f, raw, min === 1 ? 'must be greater than 0' : `must be at least ${min}`);
}

function version(text: string, f: Field, type: keyof typeof VERSION_RULES): Result<number> {
  const { min, max, rule } = VERSION_RULES[type];
  const value = digitsValue(text, f);
  if (value >= min && value <= max) return E.right(value);
  return invalid(f, columns(text, f), value < 0 ? DIGITS_ONLY : rule);
}

/**
 * A price field: 10 integer digits and 8 decimals, implied point; scaled
 * integer >= min (0 or 1). Written as the canonical decimal straight from the
 * digits (leading zeros of the integer part and trailing zeros of the
 * fraction dropped), which is what priceFromScaled makes of the scaled
 * integer (parse.test.ts holds the two together) without a bigint per line.
 */
function price(text: string, f: Field, min: 0 | 1): Result<Price> {
  const start = f.from - 1;
  const point = f.to - PRICE_SCALE;
  let integerFrom = -1;
  let fractionTo = point;
  for (let i = start; i < f.to; i++) {
    const code = text.charCodeAt(i);
    if (!(code >= 0x30 && code <= 0x39)) return invalid(f, columns(text, f), DIGITS_ONLY);
    if (code !== 0x30) {
      if (i < point && integerFrom < 0) integerFrom = i;
      if (i >= point) fractionTo = i + 1;
    }
  }
  if (integerFrom < 0 && fractionTo === point && min > 0) return invalid(f, columns(text, f), 'must be greater than 0');
  const integer = integerFrom < 0 ? '0' : text.slice(integerFrom, point);
  return E.right(fractionTo === point ? integer : `${integer}.${text.slice(point, fractionTo)}`);
}

function date(text: string, f: Field): Result<IsoDate> {
  const key = digitsValue(text, f);
  let verdict = key < 0 ? null : knownDates.get(key);
  if (verdict === undefined) {
    const iso = isoDateOf(columns(text, f));
    verdict = iso === null ? null : E.right(iso);
    knownDates.set(key, verdict);
  }
  if (verdict !== null) return verdict;
  const raw = columns(text, f);
  return invalid(f, raw, DIGITS.test(raw) ? 'is not a real calendar date' : 'must be a date YYYYMMDD');
}

/** YYYYMMDD to YYYY-MM-DD, or null when it is not a real calendar date. */
function isoDateOf(raw: string): IsoDate | null {
  if (!DIGITS.test(raw)) return null;
  const year = Number(raw.slice(0, 4));
  const month = Number(raw.slice(4, 6));
  const day = Number(raw.slice(6, 8));
  return isCalendarDate(year, month, day) ? `${raw.slice(0, 4)}-${raw.slice(4, 6)}-${raw.slice(6, 8)}` : null;
}

/**
 * A text field whose value must be non-empty. The value is the field without
 * its trailing spaces; leading spaces mean the field is not left-aligned.
 */
function requiredText(text: string, f: Field): Result<string> {
  const end = valueEnd(text, f);
  if (end < f.from) return E.left(`${f.name} (${columnsLabel(f)}) is blank`);
  if (text.charCodeAt(f.from - 1) === 0x20) return invalid(f, columns(text, f), 'is not left-aligned (leading spaces)');
  return printable(text, f, end);
}

/** A free-text field (reason): may be blank, keeps any leading spaces. */
function freeText(text: string, f: Field): Result<string> {
  return printable(text, f, valueEnd(text, f));
}

/** The field's value, its columns up to `end`, when every character of it is printable ASCII. */
function printable(text: string, f: Field, end: number): Result<string> {
  for (let i = f.from - 1; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code > 0x7e) {
      const hex = code.toString(16).toUpperCase().padStart(2, '0');
      return invalid(f, columns(text, f), `holds a non-printable or non-ASCII character 0x${hex} at col ${i + 1}`);
    }
  }
  return E.right(text.slice(f.from - 1, end));
}

function tradeRef(text: string): Result<string> {
  const f = DETAIL_FIELDS.tradeRef;
  const end = valueEnd(text, f);
  if (end < f.from) return E.left(`${f.name} (${columnsLabel(f)}) is blank`);
  if (!isTradeRefAt(text, f, end)) return invalid(f, columns(text, f), 'may only hold letters, digits, "-" and "/" (left-aligned)');
  return E.right(text.slice(f.from - 1, end));
}

/** Whether the field's columns up to `end` hold only letters, digits, "-" and "/": read on the line's characters. */
function isTradeRefAt(text: string, f: Field, end: number): boolean {
  for (let i = f.from - 1; i < end; i++) {
    const code = text.charCodeAt(i);
    const letter = code | 0x20; // a-z for either case of a letter
    if (!((letter >= 0x61 && letter <= 0x7a) || (code >= 0x30 && code <= 0x39) || code === 0x2d || code === 0x2f)) return false;
  }
  return true;
}

function feedSource(text: string): Result<FeedSource> {
  const f = HDR_FIELDS.source;
  const raw = columns(text, f);
  const value = trimEnd(raw);
  return (FEED_SOURCES as readonly string[]).includes(value)
    ? E.right(value as FeedSource)
    : invalid(f, raw, `must be one of ${FEED_SOURCES.join(', ')}`);
}

function isin(text: string): Result<string> {
  const f = TRADE_FIELDS.isin;
  const raw = columns(text, f);
  let verdict = knownIsins.get(raw);
  if (verdict === undefined) {
    verdict = !ISIN_PATTERN.test(raw) ? 'shape' : isValidIsin(raw) ? 'valid' : 'checkDigit';
    knownIsins.set(raw, verdict);
  }
  if (verdict === 'valid') return E.right(raw);
  return invalid(f, raw, verdict === 'shape' ? 'must be 2 letters, 9 letters or digits and a check digit' : 'has an invalid check digit');
}

function side(text: string): Result<Side> {
  const f = TRADE_FIELDS.side;
  const code = text.charCodeAt(f.from - 1);
  if (code === 0x42) return BUY; // B
  if (code === 0x53) return SELL; // S
  return invalid(f, columns(text, f), 'must be "B" or "S"');
}

function confirmationStatus(text: string): Result<ConfirmationStatus> {
  const f = CNF_FIELDS.status;
  const first = text.charCodeAt(f.from - 1);
  const second = text.charCodeAt(f.from);
  if (first === 0x41 && second === 0x46) return AFFIRMED; // AF
  if (first === 0x52 && second === 0x4a) return REJECTED; // RJ
  return invalid(f, columns(text, f), 'must be "AF" or "RJ"');
}

function currency(text: string): Result<string> {
  const f = TRADE_FIELDS.currency;
  // Three upper-case letters, read on the line's characters.
  for (let i = f.from - 1; i < f.to; i++) {
    const code = text.charCodeAt(i);
    if (!(code >= 0x41 && code <= 0x5a)) return invalid(f, columns(text, f), 'must be 3 upper-case letters');
  }
  return E.right(columns(text, f));
}
