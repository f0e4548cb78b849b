// What the stores that can guard an append (SQLite, PostgreSQL) share: how a guarded write's
// refusal is recorded in their group commits, and how appendGuarded answers from it.
import { WrongExpectedRevisionError, type AppendOutcome, type ExpectedRevision, type StreamGuard } from './port.js';

/** A guarded write's outcome when its guard stream moved: the guard stream's revision, not the append's own. */
export type GuardRefusal = { ok: false; actualRevision: number | 'no_stream'; guardRefused: true };

/** appendGuarded's answer from its write's one outcome: the outcome, or WrongExpectedRevisionError naming the stream that moved. */
export function guardedAppendOutcome(outcome: AppendOutcome | GuardRefusal, stream: string, expectedRevision: ExpectedRevision, guard: StreamGuard): AppendOutcome & { ok: true } {
  if (outcome.ok) return outcome;
  if ('guardRefused' in outcome) throw new WrongExpectedRevisionError(guard.stream, guard.revision, outcome.actualRevision);
  throw new WrongExpectedRevisionError(stream, expectedRevision, outcome.actualRevision);
}
