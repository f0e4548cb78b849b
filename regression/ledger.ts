// The known-difference ledger: signatures the team has looked at and accepted,
// with who accepted them and why. It is a small JSON file kept beside the
// project (reviewed like code) and carried from run to run; reports separate
// new signatures from accepted ones, and `--fail-on new` ignores accepted ones.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseSignature } from './signature.js';

export interface AcceptedSignature {
  signature: string;
  acceptedBy: string;
  reason: string;
  /** ISO timestamp. */
  acceptedAt: string;
  /** Optional ISO date after which the acceptance no longer applies. */
  expires?: string;
}

export interface Ledger {
  version: 1;
  accepted: AcceptedSignature[];
}

export const EMPTY_LEDGER: Ledger = { version: 1, accepted: [] };

export function loadLedger(path: string): Ledger {
  if (!existsSync(path)) return { version: 1, accepted: [] };
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<Ledger>;
  if (parsed.version !== 1 || !Array.isArray(parsed.accepted)) throw new Error(`${path} is not a known-difference ledger (version 1)`);
  for (const entry of parsed.accepted) {
    if (typeof entry.signature !== 'string' || typeof entry.acceptedBy !== 'string' || typeof entry.reason !== 'string') {
      throw new Error(`${path}: every accepted signature needs signature, acceptedBy and reason`);
    }
  }
  return { version: 1, accepted: parsed.accepted };
}

export function saveLedger(path: string, ledger: Ledger): void {
  mkdirSync(dirname(path), { recursive: true });
  const sorted = { version: 1, accepted: [...ledger.accepted].sort((a, b) => (a.signature < b.signature ? -1 : a.signature > b.signature ? 1 : 0)) };
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(sorted, null, 2)}\n`);
  renameSync(tmp, path);
}

/** Adds (or re-words) an acceptance. Pure: returns a new ledger. */
export function accept(ledger: Ledger, entry: { signature: string; acceptedBy: string; reason: string; acceptedAt?: string; expires?: string }): Ledger {
  if (!parseSignature(entry.signature)) throw new Error(`not a signature: ${JSON.stringify(entry.signature)} (expected "reconciler | path | KIND | rule")`);
  if (entry.acceptedBy.trim() === '') throw new Error('say who accepts the difference');
  if (entry.reason.trim() === '') throw new Error('say why the difference is accepted');
  const accepted: AcceptedSignature = {
    signature: entry.signature,
    acceptedBy: entry.acceptedBy,
    reason: entry.reason,
    acceptedAt: entry.acceptedAt ?? new Date().toISOString(),
    ...(entry.expires !== undefined && { expires: entry.expires }),
  };
  return { version: 1, accepted: [...ledger.accepted.filter((a) => a.signature !== entry.signature), accepted] };
}

export function revoke(ledger: Ledger, signature: string): Ledger {
  return { version: 1, accepted: ledger.accepted.filter((a) => a.signature !== signature) };
}

/** The acceptances in force at `now`. */
export function acceptedAt(ledger: Ledger, now: Date = new Date()): Map<string, AcceptedSignature> {
  const today = now.toISOString().slice(0, 10);
  return new Map(ledger.accepted.filter((a) => a.expires === undefined || a.expires >= today).map((a) => [a.signature, a]));
}
