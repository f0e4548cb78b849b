// Verifying a candidate: everything that makes it trustworthy, checked
// against what git, the event store and the registry hold now. The integrity
// gate asks checkArtifact the same question a person asks `kepler verify`.
import { existsSync, readFileSync } from 'node:fs';
import { sha512Integrity } from './canonical.js';
import type { ReleaseContext } from './context.js';
import { RegistryError } from './registry.js';
import type { StoredCandidate } from './repository.js';
import type { CandidateRef, ReleaseCandidate } from './schemas.js';

export interface VerifyCheck {
  check: string;
  ok: boolean;
  detail: string;
}

/** Everything that makes a candidate trustworthy: its files, its signature, its cut record and its artifact's bytes. */
export async function verify(ctx: ReleaseContext, idOrDigest: string, options: { offline?: boolean } = {}): Promise<{ ref: CandidateRef | null; ok: boolean; checks: VerifyCheck[] }> {
  const checks: VerifyCheck[] = [];
  let stored: StoredCandidate;
  try {
    stored = ctx.repo.readCandidate(idOrDigest);
    checks.push({ check: 'manifest', ok: true, detail: `${stored.ref.id} is ${stored.ref.digest}; the signed payload and the ${stored.profiles.size} frozen profiles match it` });
  } catch (error) {
    checks.push({ check: 'manifest', ok: false, detail: (error as Error).message });
    return { ref: null, ok: false, checks };
  }
  const signature = ctx.repo.verifySignature(stored);
  checks.push(signature.ok ? { check: 'signature', ok: true, detail: `Ed25519 by ${signature.owner} (${signature.keyid.slice(0, 12)})` } : { check: 'signature', ok: false, detail: signature.reason });
  const cut = (await ctx.journal.history()).cuts.get(stored.ref.id);
  if (cut) {
    checks.push(
      cut.candidate.digest === stored.ref.digest
        ? { check: 'cut record', ok: true, detail: `cut by ${cut.by.subject} at ${cut.at}` }
        : { check: 'cut record', ok: false, detail: `the event store recorded ${stored.ref.id} as ${cut.candidate.digest}: the repository's manifest was replaced` },
    );
  }
  if (!options.offline) checks.push(await checkArtifact(ctx, stored.manifest));
  return { ref: stored.ref, ok: checks.every((c) => c.ok), checks };
}

/** Whether the artifact's bytes, from the registry or the clone, are the ones the candidate names. */
export async function checkArtifact(ctx: ReleaseContext, manifest: ReleaseCandidate): Promise<VerifyCheck> {
  const { artifact } = manifest;
  const spec = `${artifact.name}@${artifact.version}`;
  if (artifact.registry === null) {
    const file = ctx.localArtifact(artifact.name, artifact.version);
    if (!existsSync(file)) return { check: 'artifact', ok: false, detail: `${spec} is not in ${file} (the candidate was cut without a registry, on another machine?)` };
    const integrity = sha512Integrity(readFileSync(file));
    return integrity === artifact.integrity
      ? { check: 'artifact', ok: true, detail: `${file} matches ${artifact.integrity.slice(0, 19)}…` }
      : { check: 'artifact', ok: false, detail: `${file} has integrity ${integrity}, the candidate says ${artifact.integrity}` };
  }
  const registry = artifact.registry;
  return ctx.withScratch('verify-', async (dir) => {
    try {
      const got = await ctx.registryFor(registry).download(artifact.name, artifact.version, dir);
      if (got.recorded !== artifact.integrity) {
        return { check: 'artifact', ok: false, detail: `the registry records ${spec} as ${got.recorded ?? 'nothing'}, the candidate says ${artifact.integrity}` };
      }
      if (got.integrity !== artifact.integrity) return { check: 'artifact', ok: false, detail: `the registry serves bytes with integrity ${got.integrity} for ${spec}, the candidate says ${artifact.integrity}` };
      return { check: 'artifact', ok: true, detail: `${registry} serves ${spec} with integrity ${artifact.integrity.slice(0, 19)}…` };
    } catch (error) {
      const message = (error as Error).message;
      if (error instanceof RegistryError && /EINTEGRITY|integrity/i.test(message)) {
        return { check: 'artifact', ok: false, detail: `the registry serves bytes for ${spec} that do not match their integrity (tampered): ${message}` };
      }
      return { check: 'artifact', ok: false, detail: `cannot fetch ${spec}: ${message}` };
    }
  });
}
