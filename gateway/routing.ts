// Where the gateway sends a request: commands to the slot that owns the trade (or the
// live slot for a trade nobody owns yet), queries to the live slot. Pure.
import type { Slot } from '../messaging/index.js';

/** The decision stream a command decides on, when the request names one. */
export type CommandTarget =
  | { kind: 'trade' | 'booking'; tradeRef: string }
  | { kind: 'new-trade'; tradeRef: string | null }
  /** A four-eyes decision: it carries out what the request asked, on that request's trade (see approvalTarget). */
  | { kind: 'approval'; approvalId: string }
  | { kind: 'unknown' };

/** What a four-eyes request asks (the ApprovalRequested event's action), as far as routing needs it. */
export type AskedAction = { kind: 'cancel-trade'; tradeRef: string } | { kind: 'resubmit-line'; line: string };

type LineInfo = (line: string) => { tradeRef: string | null; type: string };

const BOOKING_ROUTES = /^\/trades\/([^/]+)\/(allocations\/[^/]+|confirmations|hold)\/?$/;
const TRADE_ROUTES = /^\/trades\/([^/]+)\/(amendments|cancellation)\/?$/;
const APPROVAL_ROUTES = /^\/approvals\/([^/]+)\/(approval|rejection)\/?$/;

/**
 * What a command request decides on, from its method, path and body. `lineInfo`
 * reads a resubmitted CX1 line (its trade reference and record type).
 */
export function commandTarget(method: string, path: string, body: unknown, lineInfo: LineInfo): CommandTarget | null {
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return null;
  const decoded = (ref: string) => {
    try {
      return decodeURIComponent(ref);
    } catch {
      return ref;
    }
  };
  if (path === '/trades' || path === '/trades/') {
    const ref = typeof body === 'object' && body !== null ? (body as { tradeRef?: unknown }).tradeRef : undefined;
    return { kind: 'new-trade', tradeRef: typeof ref === 'string' ? ref : null };
  }
  let match = BOOKING_ROUTES.exec(path);
  if (match) return { kind: 'booking', tradeRef: decoded(match[1]!) };
  match = TRADE_ROUTES.exec(path);
  if (match) return { kind: 'trade', tradeRef: decoded(match[1]!) };
  match = APPROVAL_ROUTES.exec(path);
  if (match) return { kind: 'approval', approvalId: decoded(match[1]!) };
  if (/^\/exceptions\/[^/]+\/resubmission\/?$/.test(path)) {
    const line = typeof body === 'object' && body !== null ? (body as { line?: unknown }).line : undefined;
    return typeof line === 'string' ? lineTarget(line, lineInfo) : { kind: 'unknown' };
  }
  return { kind: 'unknown' };
}

/**
 * Where a four-eyes decision is carried out: on the stream the request's action
 * decides on, so the slot that owns it carries it out (the live slot would answer 421).
 */
export function approvalTarget(action: AskedAction, lineInfo: LineInfo): CommandTarget {
  return action.kind === 'cancel-trade' ? { kind: 'trade', tradeRef: action.tradeRef } : lineTarget(action.line, lineInfo);
}

/** A resubmitted CX1 line decides on its trade, or on the booking for an allocation or a confirmation. */
function lineTarget(line: string, lineInfo: LineInfo): CommandTarget {
  const { tradeRef, type } = lineInfo(line);
  if (tradeRef === null) return { kind: 'unknown' };
  return { kind: type === 'ALC' || type === 'CNF' ? 'booking' : 'trade', tradeRef };
}

/** The slot that answers: the owner of the stream, else the live slot, else the first one that has an upstream. */
export function chooseSlot(owner: Slot | null, live: Slot | null, available: readonly Slot[]): Slot | null {
  for (const candidate of [owner, live, ...available]) if (candidate && available.includes(candidate)) return candidate;
  return null;
}
