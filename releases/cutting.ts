// Cutting a candidate: pack the source (or take a parent's artifact), freeze
// today's profiles, sign the manifest, commit and push it, then record the cut.
// The manifest is candidates.ts's; this module does the I/O around it.
import { copyFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { inspectPackage, packStaged, stagePackage } from './artifact.js';
import { nextCalVer, type CutKind } from './calver.js';
import { buildCandidate, refOf } from './candidates.js';
import { canonicalJson } from './canonical.js';
import { cutMessage } from './commits.js';
import { MAX_ROUNDS, type ReleaseContext } from './context.js';
import { Git } from './git.js';
import type { CandidateRef, Pipeline, ReleaseCandidate } from './schemas.js';
import { publicKeyOf, signPayload } from './signing.js';

/** The dist-tag a freshly published artifact gets, until a promotion moves an environment's tag to it. */
const CUT_TAG = 'cut';

export interface CutRequest {
  source?: string;
  registry?: string | null;
  kind?: CutKind;
  from?: string;
  reason?: string | null;
  allowDirty?: boolean;
  signingKey: string;
}

/**
 * Cuts a candidate: from the source's code (a new artifact), or — with
 * `from` — a configuration-only child of an existing candidate, which keeps
 * its parent's artifact and takes today's profiles.
 */
export async function cut(ctx: ReleaseContext, request: CutRequest): Promise<{ id: string; digest: string; candidate: ReleaseCandidate }> {
  const { repo, actor } = ctx;
  const signer = publicKeyOf(request.signingKey);
  for (let round = 1; ; round++) {
    await ctx.syncClean();
    const pipeline = repo.pipeline();
    if (!pipeline.trustedKeys.some((k) => k.keyid === signer.keyid)) {
      throw new Error(`the signing key ${signer.keyid.slice(0, 12)} is not among the pipeline's trusted keys; add its public key to pipeline.json first`);
    }
    const profiles = repo.renderProfiles(pipeline);
    const ids = repo.candidateIds();
    const at = ctx.now();
    const id = nextCalVer(ids, at, request.kind ?? 'release');
    const previous = ids.length > 0 ? repo.readCandidate(ids.at(-1)!).manifest : null;

    let facts: Pick<ReleaseCandidate, 'source' | 'artifact'> & { code: { eventSchemaVersion: number; projections: Array<{ name: string; version: number; codeDigest: string }> } };
    let parent: CandidateRef | null = null;
    let reason: string | null = request.reason ?? null;
    if (request.from) {
      if (!reason) throw new Error('a configuration-only candidate needs a reason (--reason)');
      const base = repo.readCandidate(request.from);
      parent = base.ref;
      facts = { source: base.manifest.source, artifact: base.manifest.artifact, code: { eventSchemaVersion: base.manifest.eventSchemaVersion, projections: base.manifest.projections } };
      if (Object.entries(base.manifest.profiles).every(([env, digest]) => profiles.get(env)?.digest === digest) && profiles.size === Object.keys(base.manifest.profiles).length) {
        throw new Error(`the profiles have not changed since ${base.manifest.id}: a child candidate would be the same configuration`);
      }
    } else {
      facts = await packSource(ctx, request.source ?? process.cwd(), id, request.registry === undefined ? pipeline.registry : request.registry, pipeline, request.allowDirty ?? false);
    }
    const manifest = buildCandidate({
      id,
      at,
      actor,
      source: facts.source,
      artifact: facts.artifact,
      code: facts.code,
      profiles: Object.fromEntries([...profiles].map(([env, r]) => [env, r.digest])),
      previous,
      parent,
      reason,
    });
    const envelope = signPayload(canonicalJson(manifest), request.signingKey);
    const written = repo.writeCandidate(manifest, envelope, profiles);
    const ref = refOf(manifest);
    await repo.git.commit(cutMessage({ id, parent, reason, artifact: manifest.artifact, ref, actor }), written, actor);
    await ctx.options.hooks?.beforePush?.(`cut ${id}`);
    const pushed = await repo.git.push([]);
    if (pushed === 'rejected') {
      await repo.git.dropLastCommit();
      // Nothing was published for a child or without a registry: cut again under the next id.
      if ((request.from !== undefined || facts.artifact.registry === null) && round < MAX_ROUNDS) {
        ctx.warn(`another cut reached the pipeline first; cutting again`);
        continue;
      }
      throw new Error(`another cut reached the pipeline repository first and ${id} is already published: cut again`);
    }
    await ctx.journal.cut({ type: 'CandidateCut', candidate: ref, version: manifest.artifact.version, parent, reason, by: actor, at: at.toISOString() });
    return { id, digest: ref.digest, candidate: manifest };
  }
}

/** Stages, inspects and packs the source's package, then publishes it (or keeps it in the clone without a registry). */
async function packSource(ctx: ReleaseContext, source: string, version: string, registry: string | null, pipeline: Pipeline, allowDirty: boolean) {
  const git = new Git(resolve(source));
  if (!(await git.isRepository())) throw new Error(`${source} is not a git checkout: a candidate records the commit it was cut from`);
  const dirty = await git.isDirty();
  if (dirty && !allowDirty) throw new Error(`${source} has uncommitted changes: commit them, or cut with --allow-dirty (the candidate records it)`);
  const commit = await git.head();
  const remote = await git.remoteUrl();
  return ctx.withScratch('cut-', async (work) => {
    const staged = await stagePackage(resolve(source), version, work);
    if (staged.name !== pipeline.package) throw new Error(`${source} is the package ${staged.name}, the pipeline releases ${pipeline.package}`);
    const nodeModules = existsSync(join(source, 'node_modules')) ? resolve(source, 'node_modules') : ctx.options.nodeModules;
    const code = await inspectPackage(staged.dir, nodeModules);
    const packed = await packStaged(staged.dir, join(work, 'out'));
    if (registry) {
      await ctx.registryFor(registry).publish(packed.file, CUT_TAG);
    } else {
      ctx.ensureLocal('artifacts');
      await copyFile(packed.file, ctx.localArtifact(packed.name, packed.version));
    }
    return {
      source: { commit, dirty, remote },
      artifact: { name: packed.name, version: packed.version, integrity: packed.integrity, size: packed.size, registry },
      code,
    };
  });
}
