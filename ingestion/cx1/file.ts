// The per-file state machine: header, detail lines, trailer (spec, "Header and
// trailer"). It classifies each line of one file, in order, synchronously, and
// keeps only counters, so a file of any size costs constant memory.
//
// Decisions where the spec is silent (or where this reading had to be chosen):
// - A TRL line that breaks its rules is a detail line (rejected INVALID_RECORD),
//   and the file then counts as having no trailer (spec): a valid TRL after it is
//   a detail line too, rejected INVALID_RECORD, and the summary says MISSING.
// - A second HDR is a detail line too (rejected INVALID_RECORD); it counts in
//   the record count the trailer is checked against.
// - Lines after the valid trailer are rejected but are not detail lines: they
//   are outside the header..trailer frame the trailer describes.
// - A line longer than the line reader's cap (Line.truncatedLength) is
//   rejected on its real length; `raw` then holds only the kept prefix.
import * as E from './either.js';
import { RECORD_TYPES_BY_SOURCE, type DetailRecord, type DetailRecordType, type FileHeader, type FileTrailer } from '../../domain/feed.js';
import type { Line } from './lines.js';
import { controlQuantityValue, parseDetail, parseHeader, parseTrailer, RECORD_LENGTH, tradeRefOf } from './parse.js';

export type RejectionCode = 'INVALID_RECORD' | 'SOURCE_MISMATCH';

export interface AcceptedLine {
  kind: 'detail';
  lineNo: number;
  raw: string;
  sourceSequence: number;
  record: DetailRecord;
}

export interface RejectedLine {
  kind: 'rejected';
  lineNo: number;
  raw: string;
  code: RejectionCode;
  /** Human explanation for operators. */
  detail: string;
  /** Best-effort trade reference, so the rejection can be shown with its trade. */
  tradeRef: string | null;
}

export type LineOutcome = AcceptedLine | RejectedLine;

export type TrailerStatus = 'OK' | 'MISSING' | 'MISMATCH' | 'NOT_CHECKED';

export interface FileSummary {
  header: FileHeader | null;
  /**
   * Every line of the file except the valid header and the valid trailer, i.e.
   * every line for which classify() returned an outcome (accepted or rejected).
   * For the pipeline: lines = accepted + duplicates + rejected. Blank lines at
   * the end of the file are not lines (the line reader drops them).
   */
  lines: number;
  /**
   * Lines between the header and the trailer (or the end of the file when
   * there is no valid trailer), valid or not: what the trailer's record count
   * is checked against. Equals `lines` minus the lines after the trailer.
   */
  detailLines: number;
  /** Sum of controlQuantityOf over the detail lines. */
  controlTotal: bigint;
  trailer: TrailerStatus;
  /** Why MISSING or MISMATCH (expected vs actual); null when OK or NOT_CHECKED. */
  trailerDetail: string | null;
  /** The valid trailer line, when there is one. */
  trailerLine: { lineNo: number; raw: string } | null;
}

type State = 'expectHeader' | 'headless' | 'details' | 'afterTrailer' | 'finished';

/** How many invalid TRL line numbers the MISSING detail quotes. */
const QUOTED_INVALID_TRAILERS = 5;

export class Cx1FileClassifier {
  private state: State = 'expectHeader';
  private fileHeader: FileHeader | null = null;
  /** Record types the header's source may send. */
  private allowedTypes: readonly DetailRecordType[] = [];
  private lines = 0;
  private detailLines = 0;
  private controlTotal = 0n;
  /**
   * Quantities not yet added to controlTotal, as a number while that is exact:
   * below 2^52 before each addition of a quantity below 10^15 (< 2^50), so
   * always below 2^53. A bigint addition per line cost more than the rest of the count.
   */
  private controlPending = 0;
  private trailer: { value: FileTrailer; lineNo: number; raw: string } | null = null;
  /** The first few invalid TRL lines (quoted in the MISSING detail), and how many there were. */
  private invalidTrailerLines: number[] = [];
  private invalidTrailers = 0;

  /** The file's header, once line 1 has been classified and was a valid HDR. */
  get header(): FileHeader | null {
    return this.fileHeader;
  }

  /**
   * Classifies the next line of the file. Returns null for the valid header and
   * the valid trailer, which are not detail lines; an outcome for every other line.
   */
  classify(line: Line): LineOutcome | null {
    switch (this.state) {
      case 'expectHeader':
        return this.classifyFirstLine(line);
      case 'headless':
        return this.reject(line, 'INVALID_RECORD', 'file has no valid header (HDR) on line 1');
      case 'details':
        return this.classifyDetailLine(line);
      case 'afterTrailer':
        return this.reject(line, 'INVALID_RECORD', `line after the trailer (TRL on line ${this.trailer?.lineNo})`);
      case 'finished':
        throw new Error('Cx1FileClassifier: classify() called after finish()');
    }
  }

  /** Ends the file and checks the trailer. */
  finish(): FileSummary {
    this.state = 'finished';
    const { trailer, trailerDetail } = this.checkTrailer();
    return {
      header: this.fileHeader,
      lines: this.lines,
      detailLines: this.detailLines,
      controlTotal: this.total(),
      trailer,
      trailerDetail,
      trailerLine: this.trailer && { lineNo: this.trailer.lineNo, raw: this.trailer.raw },
    };
  }

  private classifyFirstLine(line: Line): LineOutcome | null {
    const header = line.truncatedLength === undefined ? parseHeader(line.text) : E.left(overlong(line));
    if (E.isRight(header)) {
      this.fileHeader = header.right;
      this.allowedTypes = RECORD_TYPES_BY_SOURCE[header.right.source];
      this.state = 'details';
      return null;
    }
    this.state = 'headless';
    return this.reject(line, 'INVALID_RECORD', `invalid header, so no line of the file can be ingested: ${header.left}`);
  }

  private classifyDetailLine(line: Line): LineOutcome | null {
    const { text } = line;
    if (line.truncatedLength !== undefined) {
      this.countDetailLine(text);
      return this.reject(line, 'INVALID_RECORD', overlong(line));
    }
    if (startsWithType(text, 0x54, 0x52, 0x4c)) {
      const trailer = parseTrailer(text);
      if (E.isRight(trailer) && this.invalidTrailers > 0) {
        this.countDetailLine(text);
        const first = this.invalidTrailerLines[0];
        return this.reject(line, 'INVALID_RECORD', `trailer (TRL) after the invalid one on line ${first}: the file counts as having no trailer`);
      }
      if (E.isRight(trailer)) {
        this.trailer = { value: trailer.right, lineNo: line.lineNo, raw: text };
        this.state = 'afterTrailer';
        return null;
      }
      if (this.invalidTrailers++ < QUOTED_INVALID_TRAILERS) this.invalidTrailerLines.push(line.lineNo);
      this.countDetailLine(text);
      return this.reject(line, 'INVALID_RECORD', `invalid trailer: ${trailer.left}`);
    }
    if (startsWithType(text, 0x48, 0x44, 0x52)) {
      this.countDetailLine(text);
      return this.reject(line, 'INVALID_RECORD', 'second header (HDR): a file has one header, on line 1');
    }
    const parsed = parseDetail(text);
    if (E.isLeft(parsed)) {
      this.countDetailLine(text);
      return this.reject(line, 'INVALID_RECORD', parsed.left);
    }
    const { sourceSequence, record } = parsed.right;
    // A record's quantity is its quantity field's value (parseDetail read it, digits only): what
    // controlQuantityValue would read from the line again.
    this.countQuantity(controlQuantityOfParsed(record));
    if (!this.allowedTypes.includes(record.type)) {
      const source = this.fileHeader?.source;
      const detail = `record type ${record.type} may not be sent by source ${source} (allowed: ${this.allowedTypes.join(', ')})`;
      return this.reject(line, 'SOURCE_MISMATCH', detail, record.tradeRef);
    }
    this.lines++;
    return { kind: 'detail', lineNo: line.lineNo, raw: text, sourceSequence, record };
  }

  /** A line between header and trailer: it counts towards the trailer check. */
  private countDetailLine(text: string): void {
    this.countQuantity(controlQuantityValue(text));
  }

  /** A line between header and trailer, and what it adds to the control total (null: nothing). */
  private countQuantity(quantity: number | null): void {
    this.detailLines++;
    if (quantity === null) return;
    this.controlPending += quantity;
    if (this.controlPending >= 2 ** 52) {
      this.controlTotal += BigInt(this.controlPending);
      this.controlPending = 0;
    }
  }

  private reject(line: Line, code: RejectionCode, detail: string, tradeRef = tradeRefOf(line.text)): RejectedLine {
    this.lines++;
    return { kind: 'rejected', lineNo: line.lineNo, raw: line.text, code, detail, tradeRef };
  }

  /** Sum of controlQuantityOf over the detail lines so far. */
  private total(): bigint {
    return this.controlTotal + BigInt(this.controlPending);
  }

  private checkTrailer(): { trailer: TrailerStatus; trailerDetail: string | null } {
    if (this.fileHeader === null) return { trailer: 'NOT_CHECKED', trailerDetail: null };
    const total = this.total();
    const found = `${this.detailLines} detail lines, control total ${total}`;
    if (this.trailer === null) {
      return { trailer: 'MISSING', trailerDetail: `no valid trailer (TRL); ${found}${this.invalidTrailerNote()}` };
    }
    const { recordCount, controlTotal } = this.trailer.value;
    const problems: string[] = [];
    if (recordCount !== this.detailLines) problems.push(`record count ${this.detailLines}, trailer says ${recordCount}`);
    if (controlTotal !== total) problems.push(`control total ${total}, trailer says ${controlTotal}`);
    return problems.length === 0
      ? { trailer: 'OK', trailerDetail: null }
      : { trailer: 'MISMATCH', trailerDetail: problems.join('; ') };
  }

  private invalidTrailerNote(): string {
    if (this.invalidTrailers === 0) return '';
    const quoted = this.invalidTrailerLines.join(', ');
    const more = this.invalidTrailers > QUOTED_INVALID_TRAILERS ? ` and ${this.invalidTrailers - QUOTED_INVALID_TRAILERS} more` : '';
    return `; invalid TRL record on line${this.invalidTrailers > 1 ? 's' : ''} ${quoted}${more}`;
  }
}

/** controlQuantityValue of the line a record was parsed from. */
function controlQuantityOfParsed(record: DetailRecord): number | null {
  switch (record.type) {
    case 'TRD':
    case 'AMD':
      return record.terms.quantity;
    case 'ALC':
    case 'CNF':
      return record.quantity;
    case 'CXL':
      return null;
  }
}

/**
 * Whether the line begins with the record type of these three character codes (TRL, HDR):
 * read in place, where `startsWith` was a call into the engine's builtin at every line.
 */
function startsWithType(text: string, first: number, second: number, third: number): boolean {
  return text.charCodeAt(0) === first && text.charCodeAt(1) === second && text.charCodeAt(2) === third;
}

function overlong(line: Line): string {
  return `record length ${line.truncatedLength}, expected ${RECORD_LENGTH} (raw line truncated to its first ${line.text.length} characters)`;
}

/** Classifies a whole file held in memory (tests, small files). */
export function classifyLines(lines: Iterable<Line>): { outcomes: LineOutcome[]; summary: FileSummary } {
  const classifier = new Cx1FileClassifier();
  const outcomes: LineOutcome[] = [];
  for (const line of lines) {
    const outcome = classifier.classify(line);
    if (outcome !== null) outcomes.push(outcome);
  }
  return { outcomes, summary: classifier.finish() };
}
