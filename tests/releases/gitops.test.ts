// GitOps with real git: a bare repository and two clones. Promotions are
// commits and tags; two at once both end correct (the one that loses the push
// rebases and evaluates its gates again); a crash between the push and the
// event store is healed; the git log and the promotion events agree.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqliteEventStore } from '../../eventstore/index.js';
import { Git, Journal, type PipelineRepository } from '../../releases/index.js';
import { actor, clone, makePipeline, openStore, REPO_ROOT, service, tempDir } from './support.js';

let tmp: ReturnType<typeof tempDir>;
let store: SqliteEventStore;
let bare: string;
let a: PipelineRepository;
let b: PipelineRepository;
let key: string;

beforeAll(async () => {
  tmp = tempDir('kepler-gitops-');
  bare = join(tmp.dir, 'pipeline.git');
  await new Git(tmp.dir).run(['init', '--quiet', '--bare', '--initial-branch=main', bare]);
  // Artifacts stay in the cutting clone without a registry, so these environments check no integrity here (the registry test does).
  const made = await makePipeline(join(tmp.dir, 'alice'), {
    remote: bare,
    edit: (p) => {
      for (const phase of p.phases) for (const env of phase.environments) env.gates = env.gates.filter((g) => g.gate !== 'integrity');
    },
  });
  a = made.repo;
  key = made.key;
  b = await clone(bare, join(tmp.dir, 'bob'));
  store = openStore(tmp.dir);
});
afterAll(async () => {
  await store?.close();
  tmp?.cleanup();
});

/** Holds the first `n` arrivals until all have arrived, so two pushes race for real. */
function barrier(n: number): () => Promise<void> {
  let arrived = 0;
  let release!: () => void;
  const all = new Promise<void>((r) => (release = r));
  return async () => {
    if (++arrived > n) return;
    if (arrived === n) release();
    await all;
  };
}

describe('promotions as commits and tags in a shared repository', () => {
  it('two concurrent promotions from two clones both end correct, and git and the events tell the same story', async () => {
    const cut = await service(a, store, 'alice').cut({ source: REPO_ROOT, allowDirty: true, signingKey: key });
    const race = barrier(2);
    const alice = service(a, store, 'alice', { hooks: { beforePush: race } });
    const bob = service(b, store, 'bob', { hooks: { beforePush: race } });
    const [toDev, toCi] = await Promise.all([alice.promote(cut.id, 'dev'), bob.promote(cut.id, 'ci')]);
    expect([toDev.status, toCi.status]).toEqual(['applied', 'applied']);
    // Exactly one lost the push, rebased onto the other's commit and evaluated its gates again.
    expect([toDev.rounds, toCi.rounds].sort()).toEqual([1, 2]);
    const loser = toDev.rounds === 2 ? toDev : toCi;
    expect(loser.warnings.join('\n')).toMatch(/another change reached the pipeline repository first; rebasing and evaluating the gates again/);

    const origin = new Git(bare);
    const tags = await origin.tags('promote/');
    expect(tags.map((t) => t.name).sort()).toEqual([`promote/ci/${cut.id}`, `promote/dev/${cut.id}`]);
    const log = await origin.log();
    expect(log.map((c) => c.subject).slice(0, 2).sort()).toEqual([`promote ci to ${cut.id} (slot blue, live)`, `promote dev to ${cut.id} (slot blue, live)`]);
    // Linear history: the loser's commit sits on the winner's.
    expect((await origin.out(['rev-list', '--merges', 'main'])) === '').toBe(true);

    const history = await new Journal(store, actor('auditor')).history();
    const applied = history.log.filter((e) => e.type === 'PromotionApplied');
    for (const tag of tags) {
      const env = tag.name.split('/')[1]!;
      const state = history.promotions.get(`${env}\u0000${cut.id}`)!;
      expect(state.applied).toMatchObject({ commit: tag.commit, tag: tag.name });
    }
    expect(applied).toHaveLength(tags.length);
    const loserState = history.promotions.get(`${loser.environment}\u0000${cut.id}`)!;
    expect(loserState.attempt).toBe(2);
    expect(history.log.filter((e) => e.environment === loser.environment && e.type === 'GateEvaluated').length).toBeGreaterThan(loserState.gates.length);
    // Both clones see the same desired states.
    await a.git.syncToRemote();
    await b.git.syncToRemote();
    expect(a.desired('dev')).toEqual(b.desired('dev'));
    expect(b.desired('ci')).toMatchObject({ live: 'blue', slots: { blue: { candidate: { id: cut.id } } } });
  }, 300_000);

  it('refuses to cut from a checkout with uncommitted changes, or from a pipeline clone with uncommitted changes', async () => {
    const source = join(tmp.dir, 'source');
    const git = new Git(tmp.dir);
    await git.run(['init', '--quiet', source]);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(source, 'package.json'), JSON.stringify({ name: 'kepler', version: '0.0.0' }));
    await new Git(source).commit('a package', ['.'], actor('carol'));
    writeFileSync(join(source, 'package.json'), JSON.stringify({ name: 'kepler', version: '0.0.1' }));
    await expect(service(a, store, 'carol').cut({ source, signingKey: key })).rejects.toThrow(/has uncommitted changes: commit them, or cut with --allow-dirty/);
    writeFileSync(a.path('profiles', 'dev.json'), '{}');
    await expect(service(a, store, 'carol').cut({ source: REPO_ROOT, allowDirty: true, signingKey: key })).rejects.toThrow(/the pipeline repository has uncommitted changes \(profiles\/dev.json\)/);
    await a.git.run(['checkout', '--', 'profiles/dev.json']);
  });

  it('a promotion that stops after its push and before recording it is recorded by the next command', async () => {
    const [id] = a.candidateIds();
    const alice = service(a, store, 'alice');
    await alice.markVerified(id!, 'dev', 'smoke tests passed');
    await alice.markVerified(id!, 'ci', null);
    const crashing = service(a, store, 'alice', {
      hooks: {
        afterPush: async () => {
          throw new Error('killed');
        },
      },
    });
    await expect(crashing.promote(id!, 'sit')).rejects.toThrow('killed');
    const before = await new Journal(store, actor('auditor')).history();
    expect(before.promotions.get(`sit\u0000${id}`)!.applied).toBeNull();

    const status = await service(b, store, 'bob').status();
    const sit = status.environments.find((e) => e.environment === 'sit')!;
    expect(sit.live).toMatchObject({ candidate: id, slot: 'blue' });
    const after = await new Journal(store, actor('auditor')).history();
    const tag = (await new Git(bare).tags(`promote/sit/`))[0]!;
    expect(after.promotions.get(`sit\u0000${id}`)!.applied).toMatchObject({ commit: tag.commit, tag: `promote/sit/${id}` });
    // Healing is idempotent.
    expect(await service(b, store, 'bob').reconcile()).toBe(0);
  }, 300_000);
});
