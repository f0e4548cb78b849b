// Comparing two candidates: diffCandidates (candidates.ts) decides what
// differs; this reads both from the clone and, given the source checkout, the
// commits between them.
import { resolve } from 'node:path';
import { diffCandidates, type CandidateDiff } from './candidates.js';
import type { ReleaseContext } from './context.js';
import { Git } from './git.js';
import type { StoredCandidate } from './repository.js';

export async function diff(ctx: ReleaseContext, a: string, b: string, options: { source?: string } = {}): Promise<CandidateDiff> {
  const from = ctx.repo.readCandidate(a);
  const to = ctx.repo.readCandidate(b);
  let log: string[] | null = null;
  if (options.source && from.manifest.source.commit !== to.manifest.source.commit) {
    const git = new Git(resolve(options.source));
    const r = await git.run(['log', '--format=%h %s', `${from.manifest.source.commit}..${to.manifest.source.commit}`], { allowFailure: true });
    log = r.code === 0 ? r.stdout.split('\n').filter(Boolean) : null;
  }
  const profiles = (c: StoredCandidate) => new Map([...c.profiles].map(([env, r]) => [env, r.profile]));
  return diffCandidates(from.manifest, to.manifest, profiles(from), profiles(to), log);
}
