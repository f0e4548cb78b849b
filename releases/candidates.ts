// Release candidates: built from what was cut, never edited, compared.
import jsonMergePatch from 'json-merge-patch';
import type { ActorValue, CandidateRef, ReleaseCandidate, RenderedProfile } from './schemas.js';
import type { CodeFacts } from './artifact.js';
import { digestOf } from './canonical.js';

export interface CutFacts {
  id: string;
  at: Date;
  actor: ActorValue;
  source: ReleaseCandidate['source'];
  artifact: ReleaseCandidate['artifact'];
  code: CodeFacts;
  /** Each environment's rendered profile digest. */
  profiles: Record<string, string>;
  /** The candidate before this one, against which projections are compared. */
  previous: ReleaseCandidate | null;
  parent: CandidateRef | null;
  reason: string | null;
}

export function buildCandidate(facts: CutFacts): ReleaseCandidate {
  const before = new Map((facts.previous?.projections ?? []).map((p) => [p.name, p]));
  return {
    schema: 'kepler.release-candidate/v1',
    id: facts.id,
    createdAt: facts.at.toISOString(),
    createdBy: facts.actor,
    source: facts.source,
    artifact: facts.artifact,
    eventSchemaVersion: facts.code.eventSchemaVersion,
    projections: facts.code.projections.map((p) => {
      const old = before.get(p.name);
      // A rebuild is needed when the read model's code or declared version differs from the previous candidate's.
      return { ...p, needsRebuild: !old || old.version !== p.version || old.codeDigest !== p.codeDigest };
    }),
    profiles: Object.fromEntries(Object.entries(facts.profiles).sort(([a], [b]) => a.localeCompare(b))),
    parent: facts.parent,
    reason: facts.reason,
  };
}

export const refOf = (candidate: ReleaseCandidate): CandidateRef => ({ id: candidate.id, digest: digestOf(candidate) });

export interface CandidateDiff {
  from: CandidateRef;
  to: CandidateRef;
  code: {
    changed: boolean;
    artifact: { from: string; to: string; sameBytes: boolean };
    commits: { from: string; to: string; log: string[] | null };
    eventSchemaVersion: { from: number; to: number } | null;
    projections: Array<{ name: string; from: { version: number; codeDigest: string } | null; to: { version: number; codeDigest: string } | null }>;
  };
  configuration: Array<{ environment: string; from: string | null; to: string | null; patch: unknown }>;
  lineage: { parentOfTo: CandidateRef | null; reason: string | null };
}

/** Code and configuration between two candidates; `log` is the source's commits between them when known. */
export function diffCandidates(
  a: ReleaseCandidate,
  b: ReleaseCandidate,
  profilesA: ReadonlyMap<string, RenderedProfile>,
  profilesB: ReadonlyMap<string, RenderedProfile>,
  log: string[] | null,
): CandidateDiff {
  const names = [...new Set([...a.projections.map((p) => p.name), ...b.projections.map((p) => p.name)])].sort();
  const pick = (c: ReleaseCandidate, name: string) => {
    const p = c.projections.find((x) => x.name === name);
    return p ? { version: p.version, codeDigest: p.codeDigest } : null;
  };
  const projections = names
    .map((name) => ({ name, from: pick(a, name), to: pick(b, name) }))
    .filter((p) => JSON.stringify(p.from) !== JSON.stringify(p.to));
  const environments = [...new Set([...Object.keys(a.profiles), ...Object.keys(b.profiles)])].sort();
  const configuration = environments
    .filter((env) => a.profiles[env] !== b.profiles[env])
    .map((env) => ({
      environment: env,
      from: a.profiles[env] ?? null,
      to: b.profiles[env] ?? null,
      patch: jsonMergePatch.generate(profilesA.get(env) ?? {}, profilesB.get(env) ?? {}) ?? {},
    }));
  const sameBytes = a.artifact.integrity === b.artifact.integrity;
  const eventSchemaVersion = a.eventSchemaVersion === b.eventSchemaVersion ? null : { from: a.eventSchemaVersion, to: b.eventSchemaVersion };
  return {
    from: refOf(a),
    to: refOf(b),
    code: {
      changed: !sameBytes,
      artifact: { from: `${a.artifact.name}@${a.artifact.version}`, to: `${b.artifact.name}@${b.artifact.version}`, sameBytes },
      commits: { from: a.source.commit, to: b.source.commit, log },
      eventSchemaVersion,
      projections,
    },
    configuration,
    lineage: { parentOfTo: b.parent, reason: b.reason },
  };
}
