// A CX1 feed for the regression end-to-end test, and an independent model of
// what Kepler must make of it (booked or not, positions), so that the test can
// say exactly which correlation IDs a behaviour change affects and how.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfirmationStatus, Side } from '../../domain/index.js';
import { formatDetail, formatHeader, formatTrailer } from '../../ingestion/cx1/index.js';

export const ISINS = ['US0378331005', 'US5949181045', 'GB0002634946', 'DE0007164600', 'US88160R1014'];
export const ACCOUNTS = ['ACC-1', 'ACC-2', 'ACC-3', 'ACC-4'];

export interface FeedTrade {
  ref: string;
  isin: string;
  side: Side;
  /** Version 1 quantity; an amended trade's version 2 has `amendedQuantity`. */
  quantity: number;
  amendedQuantity: number | null;
  price: string;
  cancelled: boolean;
  allocations: Array<{ allocationId: string; account: string; quantity: number }>;
  confirmation: { status: ConfirmationStatus; quantity: number; price: string } | null;
}

export function generateTrades(n: number): FeedTrade[] {
  const trades: FeedTrade[] = [];
  for (let i = 1; i <= n; i++) {
    const quantity = 100 * (1 + (i % 7));
    const amendedQuantity = i % 10 === 5 ? quantity + 100 : null;
    const finalQuantity = amendedQuantity ?? quantity;
    const price = i % 4 === 0 ? `${100 + i}.1234` : `${100 + i}.5`;
    const k = 1 + (i % 3);
    const allocations = Array.from({ length: k }, (_, j) => ({
      allocationId: `A${i}-${j + 1}`,
      account: ACCOUNTS[(i + j) % ACCOUNTS.length]!,
      quantity: j < k - 1 ? Math.floor(finalQuantity / k) : finalQuantity - Math.floor(finalQuantity / k) * (k - 1),
    }));
    const cancelled = i === 13;
    const confirmation = i === 17 ? null : { status: (cancelled ? 'REJECTED' : 'AFFIRMED') as ConfirmationStatus, quantity: finalQuantity, price };
    trades.push({ ref: `T${String(i).padStart(4, '0')}`, isin: ISINS[i % ISINS.length]!, side: i % 3 === 0 ? 'SELL' : 'BUY', quantity, amendedQuantity, price, cancelled, allocations, confirmation });
  }
  return trades;
}

/** Writes CORE, ALLOC and CUSTODY files for the trades; returns their paths, in ingestion order. */
export function writeFeed(dir: string, trades: readonly FeedTrade[]): string[] {
  const terms = (t: FeedTrade, quantity: number) => ({
    account: 'BLOCK',
    isin: t.isin,
    side: t.side,
    quantity,
    price: t.price,
    currency: 'USD',
    tradeDate: '2026-11-27',
    settleDate: '2026-11-30',
    counterparty: 'CPTY-1',
  });
  const core: string[] = [];
  const alloc: string[] = [];
  const custody: string[] = [];
  // Source sequences belong to the records, so a dropped line leaves the others' sequences alone.
  const n = (t: FeedTrade) => Number(t.ref.slice(1)) * 10;
  const totals = { core: 0n, alloc: 0n, custody: 0n };
  for (const t of trades) {
    core.push(formatDetail(n(t) + 1, { type: 'TRD', tradeRef: t.ref, version: 1, terms: terms(t, t.quantity) }));
    totals.core += BigInt(t.quantity);
    if (t.amendedQuantity !== null) {
      core.push(formatDetail(n(t) + 2, { type: 'AMD', tradeRef: t.ref, version: 2, terms: terms(t, t.amendedQuantity) }));
      totals.core += BigInt(t.amendedQuantity);
    }
    if (t.cancelled) core.push(formatDetail(n(t) + 3, { type: 'CXL', tradeRef: t.ref, version: 2, reason: 'client request' }));
    for (const a of t.allocations) {
      alloc.push(formatDetail(n(t) + Number(a.allocationId.split('-')[1]), { type: 'ALC', tradeRef: t.ref, allocationId: a.allocationId, account: a.account, quantity: a.quantity }));
      totals.alloc += BigInt(a.quantity);
    }
    if (t.confirmation) {
      custody.push(formatDetail(n(t) + 1, { type: 'CNF', tradeRef: t.ref, status: t.confirmation.status, quantity: t.confirmation.quantity, price: t.confirmation.price, reason: '' }));
      totals.custody += BigInt(t.confirmation.quantity);
    }
  }
  const file = (name: string, source: 'CORE' | 'ALLOC' | 'CUSTODY', lines: string[], controlTotal: bigint) => {
    const path = join(dir, name);
    const all = [formatHeader({ source, businessDate: '2026-11-27', fileNumber: '0000000001' }), ...lines, formatTrailer({ recordCount: lines.length, controlTotal })];
    writeFileSync(path, `${all.join('\r\n')}\r\n`, 'latin1');
    return path;
  };
  return [
    file('CORE_20261127_0001.cx1', 'CORE', core, totals.core),
    file('ALLOC_20261127_0001.cx1', 'ALLOC', alloc, totals.alloc),
    file('CUSTODY_20261127_0001.cx1', 'CUSTODY', custody, totals.custody),
  ];
}

// --- The independent model (from the feed contract, not from Kepler's code) ---

export function booked(t: FeedTrade): boolean {
  const quantity = t.amendedQuantity ?? t.quantity;
  if (t.cancelled || !t.confirmation) return false;
  const allocated = t.allocations.reduce((n, a) => n + a.quantity, 0);
  return t.confirmation.status === 'AFFIRMED' && t.confirmation.quantity === quantity && t.confirmation.price === t.price && allocated === quantity;
}

/** Positions per ACCOUNT|ISIN over booked trades. */
export function positions(trades: readonly FeedTrade[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of trades) {
    if (!booked(t)) continue;
    for (const a of t.allocations) {
      const key = `${a.account}|${t.isin}`;
      out.set(key, (out.get(key) ?? 0) + (t.side === 'BUY' ? 1 : -1) * a.quantity);
    }
  }
  return out;
}

export interface Expected {
  /** Per reconciler: correlation ID -> its signatures (without the reconciler prefix). */
  [reconciler: string]: Map<string, Set<string>>;
}

const add = (map: Map<string, Set<string>>, cid: string, signature: string) => {
  const set = map.get(cid) ?? new Set<string>();
  set.add(signature);
  map.set(cid, set);
};

/** What a run of PROD (the trades as given) against UAT (as changed) must report. */
export function expectedDifferences(prod: readonly FeedTrade[], uat: readonly FeedTrade[]): Expected {
  const trades = new Map<string, Set<string>>();
  const bookings = new Map<string, Set<string>>();
  const positionsOut = new Map<string, Set<string>>();
  const uatByRef = new Map(uat.map((t) => [t.ref, t]));
  for (const p of prod) {
    const u = uatByRef.get(p.ref)!;
    const uatIds = new Set(u.allocations.map((a) => a.allocationId));
    for (const a of p.allocations) {
      if (!uatIds.has(a.allocationId)) {
        add(trades, p.ref, 'docs.trades.allocations[] | MISSING_IN_UAT | exact');
        add(bookings, p.ref, 'events[AllocationNoted] | MISSING_IN_UAT | exact');
      }
    }
    if (p.confirmation && u.confirmation && p.confirmation.price !== u.confirmation.price) {
      add(trades, p.ref, 'docs.trades.confirmation.price | CHANGED | exact');
      add(bookings, p.ref, 'events[ConfirmationNoted].data.price | CHANGED | exact');
    }
    if (booked(p) && !booked(u)) {
      add(trades, p.ref, 'docs.trades.status | CHANGED | exact');
      add(trades, p.ref, 'docs.trades.bookedVersion | CHANGED | exact');
      add(bookings, p.ref, 'events[TradeBooked] | MISSING_IN_UAT | exact');
    }
  }
  const before = positions(prod);
  const after = positions(uat);
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const a = before.get(key);
    const b = after.get(key);
    if (a === undefined) add(positionsOut, key, '$ | MISSING_IN_PROD | presence');
    else if (b === undefined) add(positionsOut, key, '$ | MISSING_IN_UAT | presence');
    else if (a !== b) {
      add(positionsOut, key, 'docs.positions.quantity | CHANGED | exact');
      if ((a === 0) !== (b === 0)) add(positionsOut, key, 'docs.positions.nonZero | CHANGED | exact');
    }
  }
  return { trades, bookings, positions: positionsOut };
}

/** The behaviour changes, as a modified feed. */
export function dropAllocationsOf(trades: readonly FeedTrade[], account: string): FeedTrade[] {
  return trades.map((t) => ({ ...t, allocations: t.allocations.filter((a) => a.account !== account) }));
}

export function roundConfirmationPrices(trades: readonly FeedTrade[], places: number): FeedTrade[] {
  return trades.map((t) => {
    if (!t.confirmation) return t;
    const [integer, fraction = ''] = t.confirmation.price.split('.');
    if (fraction.length <= places) return t;
    // Half-up on the decimal string, never through a float.
    const digits = BigInt(`${integer}${fraction.slice(0, places)}`) + (Number(fraction[places]) >= 5 ? 1n : 0n);
    const text = digits.toString().padStart(places + 1, '0');
    const rounded = `${text.slice(0, -places)}.${text.slice(-places)}`.replace(/\.?0+$/, '');
    return { ...t, confirmation: { ...t.confirmation, price: rounded } };
  });
}
