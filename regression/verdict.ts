// The verdict state machine of one pair (reconciler, correlation ID): pure
// functions of the pair's timing and the clock.
//
//   PENDING ──both sides settled (quiet window)──────────▶ MATCHED | DIFFERENT
//   PENDING ──timeout with one side absent───────────────▶ MISSING_IN_PROD | MISSING_IN_UAT
//   MISSING_IN_X ──X arrives (after its timeout)──▶ PENDING(late) ──▶ LATE_MATCH | LATE_DIFFERENT
//   any verdict ──new output on either side──▶ PENDING (re-judged when settled again)
//
// A side has *settled* once no output arrived for `quietMs`. The pair is
// judged when both sides have settled, or at its deadline (`timeoutMs` after
// it opened) whatever the sides are doing; a single present side is judged
// once its deadline has passed and it has settled. In a bounded (batch) run the
// end of the range settles everything: `final` judges at once.
import type { Outcome } from './reconciler.js';

export type SideName = 'prod' | 'uat';
export const SIDES: readonly SideName[] = ['prod', 'uat'];

export type Verdict = 'PENDING' | Outcome | 'LATE_MATCH' | 'LATE_DIFFERENT';
export const VERDICTS: readonly Verdict[] = ['PENDING', 'MATCHED', 'DIFFERENT', 'MISSING_IN_PROD', 'MISSING_IN_UAT', 'LATE_MATCH', 'LATE_DIFFERENT'];
/** Verdicts that count as agreement. */
export const AGREEING: ReadonlySet<Verdict> = new Set(['MATCHED', 'LATE_MATCH']);

export interface Timing {
  /** A side that produced nothing for this long has settled. */
  quietMs: number;
  /** How long a pair waits for a side, from the moment it opened. */
  timeoutMs: number;
}

export interface PairTiming {
  /** Wall-clock ms of the side's first and last output; null while the side is absent. */
  prodFirstAt: number | null;
  prodLastAt: number | null;
  uatFirstAt: number | null;
  uatLastAt: number | null;
  /** When the current PENDING period began: first output, or the reopening. */
  openedAt: number;
  state: Verdict;
  /** A side arrived after the pair was judged missing on that side: verdicts become LATE_*. */
  late: boolean;
  /** Bumped by every output; a verdict records the revision it judged. */
  revision: number;
  judgedRevision: number;
}

export function newPair(now: number): PairTiming {
  return { prodFirstAt: null, prodLastAt: null, uatFirstAt: null, uatLastAt: null, openedAt: now, state: 'PENDING', late: false, revision: 0, judgedRevision: -1 };
}

/** A side produced output at `now`. Reopens a judged pair. */
export function onOutput(pair: PairTiming, side: SideName, now: number): PairTiming {
  const next: PairTiming = { ...pair, revision: pair.revision + 1 };
  if (side === 'prod') {
    next.prodFirstAt ??= now;
    next.prodLastAt = Math.max(now, pair.prodLastAt ?? now);
  } else {
    next.uatFirstAt ??= now;
    next.uatLastAt = Math.max(now, pair.uatLastAt ?? now);
  }
  if (pair.state !== 'PENDING') {
    if ((side === 'prod' && pair.state === 'MISSING_IN_PROD') || (side === 'uat' && pair.state === 'MISSING_IN_UAT')) next.late = true;
    next.state = 'PENDING';
    next.openedAt = now;
  }
  return next;
}

export function present(pair: PairTiming, side: SideName): boolean {
  return (side === 'prod' ? pair.prodFirstAt : pair.uatFirstAt) !== null;
}

/** When the pair is due for judgement; null when it is not pending. */
export function dueAt(pair: PairTiming, timing: Timing): number | null {
  if (pair.state !== 'PENDING') return null;
  const deadline = pair.openedAt + timing.timeoutMs;
  const prodSettles = pair.prodLastAt === null ? null : pair.prodLastAt + timing.quietMs;
  const uatSettles = pair.uatLastAt === null ? null : pair.uatLastAt + timing.quietMs;
  if (prodSettles !== null && uatSettles !== null) return Math.min(Math.max(prodSettles, uatSettles), deadline);
  const settles = prodSettles ?? uatSettles;
  return settles === null ? deadline : Math.max(deadline, settles);
}

/** Whether the pair should be judged now. */
export function isDue(pair: PairTiming, now: number, timing: Timing, final = false): boolean {
  if (pair.state !== 'PENDING') return false;
  if (final) return true;
  const due = dueAt(pair, timing);
  return due !== null && now >= due;
}

/** The verdict a reconciler's outcome becomes for this pair. */
export function verdictOf(pair: Pick<PairTiming, 'late'>, outcome: Outcome): Verdict {
  if (!pair.late) return outcome;
  if (outcome === 'MATCHED') return 'LATE_MATCH';
  if (outcome === 'DIFFERENT') return 'LATE_DIFFERENT';
  return outcome;
}

/** The pair after judgement. */
export function judged(pair: PairTiming, outcome: Outcome): PairTiming {
  return { ...pair, state: verdictOf(pair, outcome), judgedRevision: pair.revision };
}

export function isMissing(verdict: Verdict): verdict is 'MISSING_IN_PROD' | 'MISSING_IN_UAT' {
  return verdict === 'MISSING_IN_PROD' || verdict === 'MISSING_IN_UAT';
}
