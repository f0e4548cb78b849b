// Builds CX1 files for tests from records, with trailers computed independently of the parser.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DetailRecord, FeedSource, TradeTerms } from '../../domain/index.js';
import { controlQuantityOfRecord, formatDetail, formatHeader, formatTrailer } from '../../ingestion/cx1/index.js';

export type FeedLine = { seq: number; record: DetailRecord } | { raw: string; quantity?: number };

export interface FileSpec {
  name: string;
  source: FeedSource;
  lines: FeedLine[];
  /** 'ok' (default): a correct trailer; 'missing': none; or explicit (wrong) values. */
  trailer?: 'ok' | 'missing' | { recordCount: number; controlTotal: bigint };
  header?: string;
  lineEnding?: '\n' | '\r\n';
}

export function tempDir(prefix = 'kepler-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeFeedFile(dir: string, spec: FileSpec): string {
  const lines = [spec.header ?? formatHeader({ source: spec.source, businessDate: '2026-11-27', fileNumber: '0000000001' })];
  let controlTotal = 0n;
  for (const line of spec.lines) {
    if ('raw' in line) {
      lines.push(line.raw);
      controlTotal += BigInt(line.quantity ?? 0);
    } else {
      lines.push(formatDetail(line.seq, line.record));
      controlTotal += BigInt(controlQuantityOfRecord(line.record));
    }
  }
  const trailer = spec.trailer ?? 'ok';
  if (trailer === 'ok') lines.push(formatTrailer({ recordCount: spec.lines.length, controlTotal }));
  else if (trailer !== 'missing') lines.push(formatTrailer(trailer));
  const path = join(dir, spec.name);
  writeFileSync(path, lines.join(spec.lineEnding ?? '\r\n') + (spec.lineEnding ?? '\r\n'), 'latin1');
  return path;
}

export const terms = (overrides: Partial<TradeTerms> = {}): TradeTerms => ({
  account: 'ACC-A',
  isin: 'US0378331005',
  side: 'BUY',
  quantity: 1000,
  price: '189.25',
  currency: 'USD',
  tradeDate: '2026-11-27',
  settleDate: '2026-11-30',
  counterparty: 'CPTY-1',
  ...overrides,
});

export const trd = (seq: number, tradeRef: string, t: Partial<TradeTerms> = {}): FeedLine => ({ seq, record: { type: 'TRD', tradeRef, version: 1, terms: terms(t) } });
export const amd = (seq: number, tradeRef: string, version: number, t: Partial<TradeTerms> = {}): FeedLine => ({ seq, record: { type: 'AMD', tradeRef, version, terms: terms(t) } });
export const cxl = (seq: number, tradeRef: string, version: number, reason = ''): FeedLine => ({ seq, record: { type: 'CXL', tradeRef, version, reason } });
export const alc = (seq: number, tradeRef: string, allocationId: string, account: string, quantity: number): FeedLine => ({
  seq,
  record: { type: 'ALC', tradeRef, allocationId, account, quantity },
});
export const cnf = (seq: number, tradeRef: string, quantity: number, price: string, status: 'AFFIRMED' | 'REJECTED' = 'AFFIRMED', reason = ''): FeedLine => ({
  seq,
  record: { type: 'CNF', tradeRef, status, quantity, price, reason },
});
/** A line built from a valid one with some columns overwritten (1-based column). */
export function corrupt(line: FeedLine, column: number, text: string, quantity = 0): FeedLine {
  if ('raw' in line) throw new Error('corrupt a record line');
  const raw = formatDetail(line.seq, line.record);
  return { raw: raw.slice(0, column - 1) + text + raw.slice(column - 1 + text.length), quantity };
}
