// What Kepler's commits in the pipeline repository say. Their trailers are a
// contract between the commands that write them (cut, promote, cut over) and
// reconcile, which reads them back to record what reached git but not the
// event store. Pure.
import type { Actor } from '../eventstore/index.js';
import type { GateResult, PromotionKind, Slot } from './promotion.js';
import type { CandidateRef } from './schemas.js';

/** promote/ENV/ID the first time ID goes to ENV; promote/ENV/ID+2 when it goes there again (after a rollback). */
export function promotionTag(environment: string, id: string, nth: number): string {
  return `promote/${environment}/${id}${nth > 1 ? `+${nth}` : ''}`;
}

export function cutMessage(c: { id: string; parent: CandidateRef | null; reason: string | null; artifact: { name: string; version: string }; ref: CandidateRef; actor: Actor }): string {
  return `cut ${c.id}${c.parent ? ` from ${c.parent.id} (configuration only)` : ''}\n\n${c.reason ?? `artifact ${c.artifact.name}@${c.artifact.version}`}\n\nKepler-Action: cut\nKepler-Candidate: ${c.id}\nKepler-Digest: ${c.ref.digest}\nKepler-Actor: ${c.actor.subject}`;
}

/** The verb a promotion's commit, tag and hook name it by. */
export function promotionVerb(kind: PromotionKind): string {
  return kind === 'rollback' ? 'roll back' : kind === 'hotfix' ? 'hotfix' : 'promote';
}

export function promotionMessage(p: {
  kind: PromotionKind;
  environment: string;
  ref: CandidateRef;
  attempt: number;
  slot: Slot;
  live: Slot;
  tag: string;
  reason: string | null;
  gates: readonly GateResult[];
  replacing: CandidateRef | null;
  displaced: CandidateRef | null;
  actor: Actor;
}): string {
  return [
    `${promotionVerb(p.kind)} ${p.environment} to ${p.ref.id} (slot ${p.slot}${p.live === p.slot ? ', live' : ''})`,
    '',
    ...(p.reason ? [p.reason, ''] : []),
    ...p.gates.map((g) => `${g.gate}: ${g.verdict}${g.waived ? ` (waived: ${g.waived})` : ''} — ${g.reason}`),
    '',
    `Kepler-Action: ${p.kind}`,
    `Kepler-Environment: ${p.environment}`,
    `Kepler-Candidate: ${p.ref.id}`,
    `Kepler-Digest: ${p.ref.digest}`,
    `Kepler-Attempt: ${p.attempt}`,
    `Kepler-Slot: ${p.slot}`,
    `Kepler-Live: ${p.live}`,
    `Kepler-Tag: ${p.tag}`,
    ...(p.replacing ? [`Kepler-Rolls-Back: ${p.replacing.id} ${p.replacing.digest}`] : []),
    ...(p.displaced ? [`Kepler-Displaces: ${p.displaced.id} ${p.displaced.digest}`] : []),
    `Kepler-Actor: ${p.actor.subject}`,
  ].join('\n');
}

export function cutOverMessage(c: { environment: string; from: Slot; to: Slot; ref: CandidateRef; actor: Actor }): string {
  return `cut over ${c.environment} from ${c.from} to ${c.to} (${c.ref.id})\n\nKepler-Action: cut-over\nKepler-Environment: ${c.environment}\nKepler-Candidate: ${c.ref.id}\nKepler-Digest: ${c.ref.digest}\nKepler-Slot: ${c.to}\nKepler-Live: ${c.to}\nKepler-Actor: ${c.actor.subject}`;
}

export function trailers(body: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of body.split('\n')) {
    const match = /^(Kepler-[A-Za-z-]+): (.+)$/.exec(line.trim());
    if (match) map.set(match[1]!, match[2]!);
  }
  return map;
}

/** A `Kepler-Rolls-Back` or `Kepler-Displaces` trailer's value: "ID DIGEST". */
export function trailerRef(value: string | undefined): CandidateRef | null {
  const [id, digest] = value?.split(' ') ?? [];
  return id && digest ? { id, digest } : null;
}
