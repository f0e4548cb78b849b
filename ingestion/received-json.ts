// The JSON text of a record-received event's data and metadata, written
// straight from the feed line's values: byte for byte what JSON.stringify
// writes of intakeAppend's event (received-json.test.ts holds it to that),
// without building the event's objects first.
//
// Why: encoding was the largest single cost of the parse thread. Node 20's
// JSON.stringify spends about 20 instructions per character of a string and
// walks every object's properties generically; an event of about 600
// characters cost some 19,000 instructions of the 65,000 the parse thread
// spent per line. Here a string that needs no escaping (all of a valid line's
// values, nearly always its raw text) is checked with one plain loop and
// copied as it is; any string that needs escaping goes to JSON.stringify, so
// escaping itself stays V8's.
//
// The key order is that of intakeAppend and of the records parseDetail builds;
// the file intake, the only caller, encodes only records parseDetail built.
import type { DetailRecord, TradeTerms } from '../domain/feed.js';
import { intakeAppend, type IntakeItem } from './record-writer.js';

export type ReceivedItem = Extract<IntakeItem, { kind: 'record' }>;

/** JSON.stringify(intakeAppend(item).events[0].data). */
export function receivedDataJson(item: ReceivedItem): string {
  return receivedEventJson(item).data;
}

/** JSON.stringify(intakeAppend(item).events[0].metadata). */
export function receivedMetadataJson(item: ReceivedItem): string {
  return receivedEventJson(item).metadata;
}

export interface ReceivedJsonOptions {
  /**
   * The caller's word that the item is a feed line's record as parseDetail reads it from
   * `item.raw`: every string of the record is then a piece of the raw line or made of its
   * characters and constants ("-", ".", "0", "BUY", "AFFIRMED"...), so a raw line that needs no
   * escaping vouches for all of them. False (the default) checks each value on its own.
   */
  parsedFromRaw?: boolean;
}

/**
 * Both texts of the event at once: the pieces they share (the trade reference,
 * the sequence, the file and line) are written once, and what is the same for
 * every line of a file is one constant per file (see fileTail, originHead).
 */
export function receivedEventJson(item: ReceivedItem, options: ReceivedJsonOptions = {}): { data: string; metadata: string } {
  const sequence = number(item.sourceSequence);
  // ,"file":…[,"line":N]: the same in both texts.
  const place = item.line === null ? fileTail(item.file) : `${fileTail(item.file)},"line":${number(item.line)}`;
  const source = sourceHeads(item.source);
  const general = item.traceparent !== undefined || item.actor !== undefined;
  if (options.parsedFromRaw === true && !general && !NEEDS_ESCAPING.test(item.raw)) {
    // One check of the line instead of one per value, and each value's quotes part of the
    // constant pieces around it: half the string additions of the checked path below.
    const { record } = item;
    return {
      data: `{"record":${plainRecordJson(record)},"origin":{"source":${source.json},"sourceSequence":${sequence}${place},"raw":"${item.raw}"}}`,
      metadata: `{"correlationId":"${record.tradeRef}"${source.metadataHead}${sequence}${place}}`,
    };
  }
  const tradeRef = string(item.record.tradeRef);
  const data = `{"record":${recordJson(item.record)},"origin":{"source":${source.json},"sourceSequence":${sequence}${place},"raw":${string(item.raw)}}}`;
  // A record from a feed file carries neither; anything that does takes the general path.
  const metadata = general ? JSON.stringify(intakeAppend(item).events[0].metadata) : `{"correlationId":${tradeRef}${source.metadataHead}${sequence}${place}}`;
  return { data, metadata };
}

/** A record's JSON, when none of its strings needs escaping: each written between quotes as it is. */
function plainRecordJson(record: DetailRecord): string {
  switch (record.type) {
    case 'TRD':
      // A TRD's version is 1 (its type says so): one constant piece fewer to join.
      return `{"type":"TRD","tradeRef":"${record.tradeRef}","version":1,"terms":${plainTermsJson(record.terms)}}`;
    case 'AMD':
      return `{"type":"AMD","tradeRef":"${record.tradeRef}","version":${number(record.version)},"terms":${plainTermsJson(record.terms)}}`;
    case 'CXL':
      return `{"type":"CXL","tradeRef":"${record.tradeRef}","version":${number(record.version)},"reason":"${record.reason}"}`;
    case 'ALC':
      return `{"type":"ALC","tradeRef":"${record.tradeRef}","allocationId":"${record.allocationId}","account":"${record.account}","quantity":${number(record.quantity)}}`;
    case 'CNF':
      return (
        `{"type":"CNF","tradeRef":"${record.tradeRef}","status":"${record.status}","quantity":${number(record.quantity)},` +
        `"price":"${record.price}","reason":"${record.reason}"}`
      );
  }
}

/** The side with the keys around it, one constant each: each piece joined costs at the join and again when the text is flattened. */
const SIDE_PIECES: Readonly<Record<TradeTerms['side'], string>> = { BUY: '","side":"BUY","quantity":', SELL: '","side":"SELL","quantity":' };

function plainTermsJson(terms: TradeTerms): string {
  return (
    `{"account":"${terms.account}","isin":"${terms.isin}${SIDE_PIECES[terms.side]}${number(terms.quantity)},` +
    `"price":"${terms.price}","currency":"${terms.currency}","tradeDate":"${terms.tradeDate}",` +
    `"settleDate":"${terms.settleDate}","counterparty":"${terms.counterparty}"}`
  );
}

/**
 * Any record's JSON: plainRecordJson's, of the record with each string that needs escaping (nested ones too)
 * escaped as JSON.stringify escapes it, quotes aside. One writer of the shape, so the two paths cannot drift
 * apart; what this costs (a copy of a record that needs escaping) falls on the rare lines that need it.
 */
function recordJson(record: DetailRecord): string {
  return plainRecordJson(escapedStrings(record));
}

/** `value` with each of its strings as it stands between a JSON string's quotes: itself when none needs escaping. */
function escapedStrings<T extends object>(value: T): T {
  let copy: T | null = null;
  for (const key of Object.keys(value) as Array<keyof T>) {
    const field = value[key];
    const escaped = typeof field === 'string' ? (NEEDS_ESCAPING.test(field) ? JSON.stringify(field).slice(1, -1) : field) : typeof field === 'object' && field !== null ? escapedStrings(field) : field;
    if (escaped !== field) (copy ??= { ...value })[key] = escaped as T[keyof T];
  }
  return copy ?? value;
}

/**
 * A JSON string literal. JSON.stringify escapes `"`, `\`, characters below
 * U+0020 and lone surrogates; a string without any is written as it is.
 */
function string(value: string): string {
  return NEEDS_ESCAPING.test(value) ? JSON.stringify(value) : `"${value}"`;
}

// A regular expression rather than a loop over charCodeAt: the values come as
// strings of many internal kinds (slices of the line, constants, built ones),
// which made the loop's property loads megamorphic (35,000 instructions a line).
const NEEDS_ESCAPING = /["\\\u0000-\u001f\ud800-\udfff]/;

// The file and the source are the same for every line of a file: what is
// written of each is kept until the next file, rather than checked and
// concatenated again at every line.
let lastFile = '';
let lastFileTail = ',"file":""';
let lastSource = '';
let lastSourceHeads = { json: '""', metadataHead: ',"source":"","sourceSequence":' };

/** `,"file":"NAME"`. */
function fileTail(file: string): string {
  if (file !== lastFile) {
    lastFileTail = `,"file":${string(file)}`;
    lastFile = file;
  }
  return lastFileTail;
}

/** The source as a JSON string, and the metadata's text from it up to the sequence. */
function sourceHeads(source: string): { json: string; metadataHead: string } {
  if (source !== lastSource) {
    const json = string(source);
    lastSourceHeads = { json, metadataHead: `,"source":${json},"sourceSequence":` };
    lastSource = source;
  }
  return lastSourceHeads;
}

/** As JSON.stringify writes a number: its shortest form, or null when it is not finite. */
function number(value: number): string {
  return Number.isFinite(value) ? `${value}` : 'null';
}
