// A trade's answer cut from the read model's stored JSON, without parsing it.
//
// `GET /trades/{ref}` answers the stored trade document with the read model's
// own fields (`asOf`, `cancelled`) left out. Parsing the document and
// serialising it again from the response schema was two thirds of the route's
// own work (JSON.parse alone cost two and a half times the read). The stored
// text is JSON.stringify's output of the trades projection's document: no
// whitespace, and the schema's fields in the schema's order with the nested
// values the schema describes (a test holds the projection's documents to
// that). So the answer is that text with every top-level member the schema
// does not name cut out. Text of any other shape gets null, and the route
// parses and serialises as before.
import { TradeSchema } from './schemas.js';

const FIELDS = Object.keys(TradeSchema.properties);
const SCHEMA_FIELDS = new Set(FIELDS);
/** Each field as its member starts in JSON text: `"version":`. */
const MEMBER_STARTS = FIELDS.map((field) => `${JSON.stringify(field)}:`);
const VERSION = FIELDS.indexOf('version');

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

// The trades projection's document as JSON.stringify writes it, matched whole by one pattern: the
// schema's fields in its order with `cancelled` after `confirmation` and `asOf` last, each value of
// the kind the projection stores. A match is cut by the pattern's groups: the members up to
// `confirmation`, the version, the members from `onHold`. V8 runs the pattern as native code, five
// times faster than the walk below (a 560-byte trade with two allocations: about 0.35 µs against
// 1.7-1.9 µs; the walk was 9 % of the main thread's CPU at 8 connections, BENCHMARKS.md, eleventh
// session). Text it does not match is walked as before, so a match is always what the walk would give.
const STRING = '"[^"\\\\]*(?:\\\\[^][^"\\\\]*)*"';
const INTEGER = '-?\\d+';
const STRING_OR_NULL = `(?:${STRING}|null)`;
const INTEGER_OR_NULL = `(?:${INTEGER}|null)`;
const BOOLEAN = '(?:true|false)';
const ALLOCATION = `\\{"allocationId":${STRING},"account":${STRING},"quantity":${INTEGER}\\}`;
const PROJECTED_VALUES: Record<string, string> = {
  tradeRef: STRING,
  status: STRING,
  version: `(${INTEGER})`,
  pendingVersions: `\\[(?:${INTEGER}(?:,${INTEGER})*)?\\]`,
  bookedVersion: INTEGER_OR_NULL,
  account: STRING_OR_NULL,
  isin: STRING_OR_NULL,
  side: STRING_OR_NULL,
  quantity: INTEGER_OR_NULL,
  price: STRING_OR_NULL,
  currency: STRING_OR_NULL,
  tradeDate: STRING_OR_NULL,
  settleDate: STRING_OR_NULL,
  counterparty: STRING_OR_NULL,
  allocations: `\\[(?:${ALLOCATION}(?:,${ALLOCATION})*)?\\]`,
  confirmation: `(?:null|\\{"status":${STRING},"quantity":${INTEGER},"price":${STRING},"reason":${STRING}\\})`,
  onHold: BOOLEAN,
  lastChangedBy: `(?:null|\\{"subject":${STRING}(?:,"clientId":${STRING})?(?:,"name":${STRING})?\\})`,
};
const members = (fields: string[]): string => fields.map((field) => `${JSON.stringify(field)}:${PROJECTED_VALUES[field]!}`).join(',');
const CUT_AT = FIELDS.indexOf('onHold');
/** Groups: 1 the answer's members up to `confirmation` (with the opening brace), 2 the version, 3 those from `onHold` (with their comma). */
const PROJECTED =
  FIELDS.every((field) => PROJECTED_VALUES[field] !== undefined) && FIELDS.length === Object.keys(PROJECTED_VALUES).length && CUT_AT > 0
    ? new RegExp(`^(\\{${members(FIELDS.slice(0, CUT_AT))}),"cancelled":${BOOLEAN}(,${members(FIELDS.slice(CUT_AT))}),"asOf":\\d+\\}$`)
    : null;

/** The API's JSON of a stored trade document, and its version (the ETag); null when the text is not as expected. */
export function tradeAnswer(stored: string): { json: string; version: number } | null {
  return projectedAnswer(stored) ?? walkedAnswer(stored);
}

/** tradeAnswer of the projection's document matched whole by one pattern; null for any other text, which tradeAnswer walks. */
export function projectedAnswer(stored: string): { json: string; version: number } | null {
  const match = PROJECTED?.exec(stored);
  if (!match) return null;
  const version = Number(match[2]);
  return Number.isInteger(version) ? { json: `${match[1]!}${match[3]!}}`, version } : null;
}

/** tradeAnswer by walking the text member by member: any member the schema does not name, wherever it stands, is cut. */
export function walkedAnswer(stored: string): { json: string; version: number } | null {
  if (stored.charCodeAt(0) !== OPEN_BRACE) return null;
  let json = '{';
  let field = 0;
  let version = Number.NaN;
  /** Start of the run of kept members being copied, or -1. */
  let run = -1;
  let at = 1;
  while (at < stored.length) {
    // The member the schema expects next, its key matched whole (`"name":`, a name with nothing to
    // escape): no scan for the key's end. Anything else is a member to cut, or text of another shape.
    const expected = field < FIELDS.length ? MEMBER_STARTS[field]! : undefined;
    const kept = expected !== undefined && stored.startsWith(expected, at);
    let valueStart: number;
    if (kept) {
      valueStart = at + expected.length;
    } else {
      const keyEnd = stringEnd(stored, at);
      if (keyEnd < 0 || stored.charCodeAt(keyEnd) !== COLON) return null;
      // A field of the schema out of its place, or one twice: not the projection's shape.
      if (SCHEMA_FIELDS.has(stored.slice(at + 1, keyEnd - 1))) return null;
      valueStart = keyEnd + 1;
    }
    const valueEnd = valueEndAt(stored, valueStart);
    if (valueEnd < 0) return null;
    if (kept) {
      if (field === VERSION) version = Number(stored.slice(valueStart, valueEnd));
      if (run < 0) run = at;
      field++;
    } else {
      json = closeRun(json, stored, run, at - 1);
      run = -1;
    }
    const next = stored.charCodeAt(valueEnd);
    if (next === CLOSE_BRACE && valueEnd === stored.length - 1) {
      json = closeRun(json, stored, run, valueEnd);
      return field === FIELDS.length && Number.isInteger(version) ? { json: `${json}}`, version } : null;
    }
    if (next !== COMMA) return null;
    at = valueEnd + 1;
  }
  return null;
}

/** `json` with the kept members from `run` to `end` appended (and a comma before them unless they are the first). */
function closeRun(json: string, stored: string, run: number, end: number): string {
  if (run < 0) return json;
  return `${json}${json.length > 1 ? ',' : ''}${stored.slice(run, end)}`;
}

/** The index just past the string that starts at `at`, or -1. */
function stringEnd(text: string, at: number): number {
  if (text.charCodeAt(at) !== QUOTE) return -1;
  // From quote to quote (indexOf is far faster than a loop in JavaScript); one after an odd run of backslashes is escaped.
  for (let quote = text.indexOf('"', at + 1); quote >= 0; quote = text.indexOf('"', quote + 1)) {
    if (text.charCodeAt(quote - 1) !== BACKSLASH) return quote + 1;
    let backslashes = 1;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
  }
  return -1;
}

/** The index just past the JSON value that starts at `at` (as JSON.stringify writes it: no whitespace), or -1. */
function valueEndAt(text: string, at: number): number {
  const first = text.charCodeAt(at);
  if (first === QUOTE) return stringEnd(text, at);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 0;
    for (let i = at; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        const end = stringEnd(text, i);
        if (end < 0) return -1;
        i = end - 1;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        depth++;
      } else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --depth === 0) {
        return i + 1;
      }
    }
    return -1;
  }
  // A number, true, false or null: up to the member's end.
  let i = at;
  while (i < text.length && text.charCodeAt(i) !== COMMA && text.charCodeAt(i) !== CLOSE_BRACE) i++;
  return i > at ? i : -1;
}
